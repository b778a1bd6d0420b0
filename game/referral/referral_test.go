package referral

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/randcode"
	"github.com/regulars/regulars/internal/testkit"
	"github.com/regulars/regulars/member"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// Conversions and reversals through purchases are tested end to end in
// package game; these tests hold the accounts' own rules.

type members map[bson.ObjectID]*member.Member

func (ms members) Get(_ context.Context, id bson.ObjectID) (*member.Member, error) {
	if m, ok := ms[id]; ok {
		return m, nil
	}
	return nil, member.ErrNotFound
}

type noEffects struct{}

func (noEffects) CarryOut(context.Context, *program.Program, []*ledger.Entry, ...inbox.Message) error {
	return nil
}

func newService(t *testing.T, ms members) *Service {
	t.Helper()
	db := testkit.Database(t)
	c := testkit.NewClock(time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC))
	programs := program.NewStore(db) // the default program until one is saved
	s := New(db, Deps{Program: programs, Ledger: ledger.New(db.Collection("ledger"), c.Now), Members: ms, Effects: noEffects{}, Now: c.Now})
	testkit.EnsureIndexes(t, s.EnsureIndexes)
	return s
}

func TestIndexesExist(t *testing.T) {
	s := newService(t, nil)
	testkit.RequireIndexes(t, s.store.accounts, IndexAccountCode, IndexAccountReferrer, IndexAccountLastPurchase)
	testkit.RequireIndexes(t, s.store.conversions, IndexConversionReferrer)
	testkit.RequireIndexes(t, s.store.slots, IndexSlotReferee)
}

func TestReferralCodesAndEmailKeys(t *testing.T) {
	c := randcode.New(codeLength)
	for _, r := range c {
		switch r {
		case '0', 'O', '1', 'I', 'L':
			t.Fatalf("code %q has an ambiguous character", c)
		}
	}
	if NormalizeCode(" abc-d ef ") != "ABCDEF" {
		t.Fatal("codes are not normalized as typed")
	}
	if emailKey("A.nn+promo@GoogleMail.com") != emailKey("ann@gmail.com") {
		t.Fatal("gmail aliases of one address differ")
	}
	if emailKey("a.nn@example.com") == emailKey("ann@example.com") {
		t.Fatal("dots matter outside Gmail")
	}
}

// A code as typed finds its owner; an unknown or malformed code and one's
// own code never tell whose it is; an account is made once, for a member
// who predates the program too.
func TestReferrerAndAccounts(t *testing.T) {
	ann := &member.Member{ID: bson.NewObjectID(), Email: "ann@example.com"}
	s := newService(t, members{ann.ID: ann})
	ctx := context.Background()
	acct := testkit.Must(s.Account(ctx, ann.ID))(t) // created on first read
	if again := testkit.Must(s.Account(ctx, ann.ID))(t); again.Code != acct.Code {
		t.Fatalf("a second account: %q then %q", acct.Code, again.Code)
	}
	typed := acct.Code[:3] + "-" + acct.Code[3:]
	if id, err := s.Referrer(ctx, typed, "bob@example.com"); err != nil || id != ann.ID {
		t.Fatalf("referrer of %q: %v %v", typed, id, err)
	}
	if _, err := s.Referrer(ctx, acct.Code, "ann+x@example.com"); !errors.Is(err, errSelfReferral) {
		t.Fatalf("own code under a +tag: %v", err)
	}
	for _, code := range []string{"ZZZZZZZ", "short", acct.Code + "X"} {
		if _, err := s.Referrer(ctx, code, "bob@example.com"); err != errUnusable {
			t.Errorf("code %q: %v", code, err)
		} else if e, ok := input.As(err); !ok || e.Field != "referralCode" {
			t.Errorf("code %q: not a referralCode input error: %v", code, err)
		}
	}
	if _, err := s.Enroll(ctx, ann, &ann.ID); err != errUnusable {
		t.Fatalf("self-referral at enrolment: %v", err)
	}
	if on := testkit.Must(s.OnPublicBoards(ctx, ann.ID))(t); !on {
		t.Fatal("a new member is hidden from the boards")
	}
	if err := s.SetLeaderboardOptOut(ctx, ann.ID, true); err != nil {
		t.Fatal(err)
	}
	if on := testkit.Must(s.OnPublicBoards(ctx, ann.ID))(t); on {
		t.Fatal("an opted-out member shows on the boards")
	}
}

// Purchased keeps the latest purchase time and answers the account as it
// is after, making the account of a member who has none.
func TestPurchasedAnswersTheAccount(t *testing.T) {
	ann := &member.Member{ID: bson.NewObjectID(), Email: "ann@example.com"}
	s := newService(t, members{ann.ID: ann})
	ctx := context.Background()
	may := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	acct := testkit.Must(s.Purchased(ctx, ann.ID, may))(t) // no account yet: made
	if acct.MemberID != ann.ID || acct.Code == "" || acct.LeaderboardOptOut {
		t.Fatalf("account made by a purchase: %+v", acct)
	}
	if err := s.SetLeaderboardOptOut(ctx, ann.ID, true); err != nil {
		t.Fatal(err)
	}
	again := testkit.Must(s.Purchased(ctx, ann.ID, may.AddDate(0, 0, -10)))(t) // a late report
	if again.Code != acct.Code || !again.LeaderboardOptOut {
		t.Fatalf("account after a second purchase: %+v", again)
	}
	idle := testkit.Must(s.IdleSince(ctx, may.Add(time.Second)))(t)
	if len(idle) != 1 || !idle[0].LastPurchaseAt.Equal(may) {
		t.Fatalf("last purchase %+v, want %s (a late report never moves it back)", idle, may)
	}
}

// A member's public face (the API's PublicMember) is theirs to see always,
// and another member's while that member shows on the boards.
func TestMaySeePublicMember(t *testing.T) {
	ann := &member.Member{ID: bson.NewObjectID(), Email: "ann@example.com"}
	bob := member.Principal{MemberID: bson.NewObjectID()}
	s := newService(t, members{ann.ID: ann})
	ctx := context.Background()
	self := member.Principal{MemberID: ann.ID}
	if !testkit.Must(s.MaySeePublicMember(ctx, bob, ann.ID))(t) || !testkit.Must(s.MaySeePublicMember(ctx, self, ann.ID))(t) {
		t.Fatal("a member on the boards is hidden")
	}
	if err := s.SetLeaderboardOptOut(ctx, ann.ID, true); err != nil {
		t.Fatal(err)
	}
	if testkit.Must(s.MaySeePublicMember(ctx, bob, ann.ID))(t) || testkit.Must(s.MaySeePublicMember(ctx, member.Principal{}, ann.ID))(t) {
		t.Fatal("an opted-out member is shown to another")
	}
	if !testkit.Must(s.MaySeePublicMember(ctx, self, ann.ID))(t) {
		t.Fatal("an opted-out member cannot see their own public face")
	}
}
