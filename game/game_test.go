package game

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/regulars/regulars/game/activity"
	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/game/reward"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/testkit"
	"github.com/regulars/regulars/member"
)

// fakeMembers serves members from a map; Get can be replaced per test.
type fakeMembers struct {
	mu sync.Mutex
	m  map[bson.ObjectID]*member.Member
}

var _ Members = (*fakeMembers)(nil)

func (f *fakeMembers) Get(_ context.Context, id bson.ObjectID) (*member.Member, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m, ok := f.m[id]; ok {
		return m, nil
	}
	return nil, member.ErrNotFound
}

func (f *fakeMembers) GetMany(_ context.Context, ids []bson.ObjectID) ([]*member.Member, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]*member.Member, len(ids))
	for i, id := range ids {
		out[i] = f.m[id]
	}
	return out, nil
}

func (f *fakeMembers) add(email string) *member.Member {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := &member.Member{ID: bson.NewObjectID(), Email: email, DisplayName: email, Timezone: "UTC"}
	f.m[m.ID] = m
	return m
}

type harness struct {
	*Service
	db      *mongo.Database
	members *fakeMembers
	clock   *testkit.Clock
	inbox   *inbox.Inbox
}

func newHarness(t testing.TB, configure func(*program.Program)) *harness {
	t.Helper()
	return newHarnessOn(t, testkit.Database(t), configure)
}

// newHarnessOn is newHarness on db.
func newHarnessOn(t testing.TB, db *mongo.Database, configure func(*program.Program)) *harness {
	t.Helper()
	fm := &fakeMembers{m: map[bson.ObjectID]*member.Member{}}
	in := inbox.New(db, inbox.NewMemoryBroker())
	s := New(db, fm, in)
	c := testkit.NewClock(time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC))
	s.SetClock(c.Now)
	in.SetClock(c.Now)
	testkit.EnsureIndexes(t, s.EnsureIndexes, in.EnsureIndexes)
	ctx := context.Background()
	p := program.Default()
	p.ReturnWindowDays = 0
	p.BirthdayBonus = 0
	if configure != nil {
		configure(&p)
	}
	if _, err := s.UpdateProgram(ctx, nil, program.Replace(p)); err != nil {
		t.Fatal(err)
	}
	return &harness{Service: s, db: db, members: fm, clock: c, inbox: in}
}

func (h *harness) purchase(t *testing.T, m *member.Member, id string, minor int64) *ActivityResult {
	t.Helper()
	r, err := h.RecordActivity(context.Background(), ActivityInput{
		MemberID: m.ID, Kind: program.ActivityPurchase, ExternalID: id, AmountMinor: minor, Currency: "USD", OccurredAt: h.clock.Now(),
	})
	if err != nil {
		t.Fatalf("purchase %s: %v", id, err)
	}
	return r
}

func (h *harness) points(t *testing.T, m *member.Member) *ledger.PointsSummary {
	t.Helper()
	p, err := h.program.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sum, err := h.ledger.Points(context.Background(), &p, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// tier is the member's tier status now (ledger.Ledger.Tier).
func (h *harness) tier(t *testing.T, m *member.Member) *ledger.TierStatus {
	t.Helper()
	p := testkit.Must(h.program.Get(context.Background()))(t)
	return testkit.Must(h.ledger.Tier(context.Background(), &p, m.ID))(t)
}

// activities is the activities collection, to count what was stored.
func (h *harness) activities() *mongo.Collection { return h.db.Collection("activities") }

// checkLedger asserts the ledger's invariant (ledger.Verify).
func (h *harness) checkLedger(t *testing.T, m *member.Member) {
	t.Helper()
	if err := h.ledger.Verify(context.Background(), m.ID); err != nil {
		t.Fatal(err)
	}
}

func TestIndexesExist(t *testing.T) {
	h := newHarness(t, nil)
	testkit.RequireIndexes(t, h.ledger.Collection(), ledger.IndexSeq, ledger.IndexKey, ledger.IndexExpiry, ledger.IndexSource, ledger.IndexReferee, ledger.IndexExpiryMoves)
	testkit.RequireIndexes(t, h.activities(), activity.IndexExternal, activity.IndexMember, activity.IndexCheckIn)
}

func TestPurchasesEarnEscalatingPoints(t *testing.T) {
	h := newHarness(t, nil)
	m := h.members.add("ann@example.com")
	// 10 points per USD: 12.34 USD is 123 base points.
	r1 := h.purchase(t, m, "o1", 1234)
	r2 := h.purchase(t, m, "o2", 1234)
	r3 := h.purchase(t, m, "o3", 1234)
	r4 := h.purchase(t, m, "o4", 1234)
	for i, c := range []struct {
		r    *ActivityResult
		want int64
	}{{r1, 123 + 50}, {r2, 246}, {r3, 369}, {r4, 123}} {
		if got := c.r.Points(); got != c.want {
			t.Errorf("purchase %d earned %d, want %d (lines %+v)", i+1, got, c.want, c.r.Entries[0].Lines)
		}
	}
	if r2.Entries[0].Lines[1].Rule != "escalation" || r2.Entries[0].Lines[1].Reason != "2× points on your 2nd purchase" {
		t.Errorf("second purchase does not explain itself: %+v", r2.Entries[0].Lines)
	}
	if got := h.points(t, m).Balance; got != 173+246+369+123 {
		t.Errorf("balance %d", got)
	}
	h.checkLedger(t, m)
}

func TestBadActivityWritesNothing(t *testing.T) {
	h := newHarness(t, nil)
	m := h.members.add("ann@example.com")
	now := h.clock.Now()
	gone := h.members.add("gone@example.com")
	gone.DeletedAt = &now
	cases := []struct {
		in    ActivityInput
		field string
	}{
		{ActivityInput{MemberID: m.ID, Kind: program.ActivityPurchase, ExternalID: "a", AmountMinor: -5, Currency: "USD", OccurredAt: now}, "amountMinor"},
		{ActivityInput{MemberID: m.ID, Kind: program.ActivityPurchase, ExternalID: "a", AmountMinor: 0, Currency: "USD", OccurredAt: now}, "amountMinor"},
		{ActivityInput{MemberID: m.ID, Kind: program.ActivityPurchase, ExternalID: "a", AmountMinor: 100, Currency: "ZZZ", OccurredAt: now}, "currency"},
		{ActivityInput{MemberID: m.ID, Kind: program.ActivityPurchase, ExternalID: "a", AmountMinor: 100, Currency: "USD", OccurredAt: now.Add(time.Hour)}, "occurredAt"},
		{ActivityInput{MemberID: bson.NewObjectID(), Kind: program.ActivityPurchase, ExternalID: "a", AmountMinor: 100, Currency: "USD", OccurredAt: now}, "memberId"},
		{ActivityInput{MemberID: m.ID, Kind: program.ActivityRefund, ExternalID: "r", AmountMinor: 100, Currency: "USD", RefundOf: "nope", OccurredAt: now}, "refundOf"},
		{ActivityInput{MemberID: m.ID, Kind: "DANCE", ExternalID: "a", OccurredAt: now}, "kind"},
		{ActivityInput{MemberID: gone.ID, Kind: program.ActivityPurchase, ExternalID: "a", AmountMinor: 100, Currency: "USD", OccurredAt: now}, "memberId"},
	}
	for _, c := range cases {
		_, err := h.RecordActivity(context.Background(), c.in)
		if in, ok := input.As(err); !ok || in.Field != c.field {
			t.Errorf("%+v: want an error on %s, got %v", c.in, c.field, err)
		}
	}
	if n := testkit.Count(t, h.activities(), nil); n != 0 {
		t.Fatalf("refused activities wrote %d documents", n)
	}
	if n := testkit.Count(t, h.ledger.Collection(), nil); n != 0 {
		t.Fatalf("refused activities wrote %d ledger entries", n)
	}
}

// 200 concurrent reports of one purchase: exactly one ledger effect, and
// every caller gets the same result.
func TestConcurrentDuplicateActivityOneEffect(t *testing.T) {
	h := newHarness(t, nil)
	m := h.members.add("ann@example.com")
	const callers = 200
	points := make([]int64, callers)
	res := testkit.Race(t, callers, func(i int) error {
		r, err := h.RecordActivity(context.Background(), ActivityInput{
			MemberID: m.ID, Kind: program.ActivityPurchase, ExternalID: "order-1", AmountMinor: 5000, Currency: "USD", OccurredAt: h.clock.Now(),
		})
		if err == nil {
			points[i] = r.Points()
		}
		return err
	})
	res.Expect(t)
	if res.OK() != callers {
		t.Fatalf("%d of %d reports succeeded, want every one (a repeat answers with the first result)", res.OK(), callers)
	}
	for i, p := range points {
		if p != 550 {
			t.Fatalf("caller %d saw %d points, want 550 (500 base + 50 first purchase)", i, p)
		}
	}
	if n := testkit.Count(t, h.activities(), bson.D{{Key: "externalId", Value: "order-1"}}); n != 1 {
		t.Fatalf("%d activities stored, want exactly 1", n)
	}
	if n := testkit.Count(t, h.ledger.Collection(), bson.D{{Key: "memberId", Value: m.ID}}); n != 1 {
		t.Fatalf("%d ledger entries, want exactly 1", n)
	}
	if got := h.points(t, m).Balance; got != 550 {
		t.Fatalf("balance %d, want 550", got)
	}
	h.checkLedger(t, m)
}

func TestPendingPointsAndRefunds(t *testing.T) {
	h := newHarness(t, func(p *program.Program) { p.ReturnWindowDays = 14; p.FirstPurchaseBonus = 0; p.Escalation = nil })
	m := h.members.add("ann@example.com")
	h.purchase(t, m, "o1", 10000) // 1000 points, pending 14 days
	if p := h.points(t, m); p.Pending != 1000 || p.Available != 0 || p.Balance != 1000 {
		t.Fatalf("just after purchase: %+v", p)
	}
	// A half refund inside the window cancels half the pending points.
	if _, err := h.RecordActivity(context.Background(), ActivityInput{MemberID: m.ID, Kind: program.ActivityRefund, ExternalID: "r1",
		AmountMinor: 5000, Currency: "USD", RefundOf: "o1", OccurredAt: h.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if p := h.points(t, m); p.Pending != 500 || p.Balance != 500 {
		t.Fatalf("after half refund in window: %+v", p)
	}
	h.clock.Add(15 * 24 * time.Hour)
	if p := h.points(t, m); p.Available != 500 || p.Pending != 0 {
		t.Fatalf("after the window: %+v", p)
	}
	// Spend 400, then refund the rest: only 100 can be clawed back; 400 is shortfall.
	rw := testkit.Must(h.Rewards().CreateReward(context.Background(), reward.RewardInput{Name: "Mug", Cost: 400, Active: true}))(t)
	if _, err := h.Rewards().Redeem(context.Background(), m.ID, rw.ID, "mug"); err != nil {
		t.Fatal(err)
	}
	r, err := h.RecordActivity(context.Background(), ActivityInput{MemberID: m.ID, Kind: program.ActivityRefund, ExternalID: "r2",
		AmountMinor: 5000, Currency: "USD", RefundOf: "o1", OccurredAt: h.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if e := r.Entries[0]; e.Amount != -100 || e.Shortfall != 400 {
		t.Fatalf("clawback %d with shortfall %d, want -100 and 400", e.Amount, e.Shortfall)
	}
	// Refunding more than was bought is refused, and writes nothing.
	_, err = h.RecordActivity(context.Background(), ActivityInput{MemberID: m.ID, Kind: program.ActivityRefund, ExternalID: "r3",
		AmountMinor: 1, Currency: "USD", RefundOf: "o1", OccurredAt: h.clock.Now()})
	if in, ok := input.As(err); !ok || in.Field != "amountMinor" {
		t.Fatalf("over-refund: %v", err)
	}
	if _, err := h.acts.ByExternalID(context.Background(), program.ActivityRefund, "r3"); !errors.Is(err, activity.ErrNotFound) {
		t.Fatalf("refused refund was stored: %v", err)
	}
	h.checkLedger(t, m)
}

func TestExpirySpendsSoonestFirst(t *testing.T) {
	h := newHarness(t, func(p *program.Program) { p.FirstPurchaseBonus = 0; p.Escalation = nil; p.PointsExpireDays = 30 })
	m := h.members.add("ann@example.com")
	h.purchase(t, m, "early", 1000) // 100 points expiring day 30
	h.clock.Add(10 * 24 * time.Hour)
	h.purchase(t, m, "late", 2000) // 200 points expiring day 40
	p := h.points(t, m)
	if len(p.Expiring) != 2 || p.Expiring[0].Amount != 100 || p.Expiring[1].Amount != 200 {
		t.Fatalf("expiring lots: %+v", p.Expiring)
	}
	rw := testkit.Must(h.Rewards().CreateReward(context.Background(), reward.RewardInput{Name: "Pin", Cost: 50, Active: true}))(t)
	if _, err := h.Rewards().Redeem(context.Background(), m.ID, rw.ID, "pin"); err != nil {
		t.Fatal(err)
	}
	// Day 31: the early lot's remaining 50 expire, the late lot is whole.
	h.clock.Add(21 * 24 * time.Hour)
	if p := h.points(t, m); p.Balance != 200 || len(p.Expiring) != 1 || p.Expiring[0].Amount != 200 {
		t.Fatalf("after the first expiry: %+v", p)
	}
	// Two instances running the job at once expire each lot once.
	h.clock.Add(10 * 24 * time.Hour)
	jobs := h.ledger.Collection().Database().Collection("jobs")
	res := testkit.Race(t, 4, func(int) error {
		_, err := h.Jobs().ExpirePoints(context.Background(), jobs)
		return err
	})
	res.Expect(t)
	if n := testkit.Count(t, h.ledger.Collection(), bson.D{{Key: "memberId", Value: m.ID}, {Key: "type", Value: ledger.EntryExpire}}); n != 2 {
		t.Fatalf("%d EXPIRE entries, want 2", n)
	}
	// Each EXPIRE entry's source is the lot: the credit whose points expired.
	entries, _, err := h.ledger.Entries(context.Background(), m.ID, 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	credits := map[string]bool{}
	for _, e := range entries {
		if e.Type == ledger.EntryEarn {
			credits[e.ID.Hex()] = true
		}
	}
	for _, e := range entries {
		if e.Type == ledger.EntryExpire && (e.Source.Kind != ledger.SourceLot || !credits[e.Source.ID]) {
			t.Errorf("EXPIRE entry sourced %+v, want LOT and a credit of this member", e.Source)
		}
	}
	h.checkLedger(t, m)
}

func TestTierUpgradeAtOnceDowngradeAfterGrace(t *testing.T) {
	h := newHarness(t, func(p *program.Program) {
		p.FirstPurchaseBonus = 0
		p.Escalation = nil
		p.TierWindowMonths = 12
		p.TierGraceDays = 30
	})
	m := h.members.add("ann@example.com")
	r := h.purchase(t, m, "big", 10000) // 1000 points: Silver
	if tc := r.TierChange(); tc == nil || tc.To != "Silver" {
		t.Fatalf("tier change %+v, want to Silver", tc)
	}
	// Silver earns 125%: 100 base + 25.
	if got := h.purchase(t, m, "next", 1000).Points(); got != 125 {
		t.Fatalf("Silver purchase earned %d, want 125", got)
	}
	// Inside the grace period the tier holds…
	h.clock.Add(380 * 24 * time.Hour)
	if ts := h.tier(t, m); ts.Current.Name != "Silver" {
		t.Fatalf("inside the grace period: %s", ts.Current.Name)
	}
	// …and after it, with nothing earned in the window, the member drops.
	h.clock.Add(20 * 24 * time.Hour)
	ts := h.tier(t, m)
	if ts.Current.Name != "Member" {
		t.Fatalf("after period and grace with nothing earned: %s", ts.Current.Name)
	}
}

func TestReferralRewardedOncePerSide(t *testing.T) {
	h := newHarness(t, func(p *program.Program) { p.FirstPurchaseBonus = 0; p.Escalation = nil })
	ctx := context.Background()
	ann := h.members.add("ann@example.com")
	if _, err := h.Rooms().Referrals.Enroll(ctx, ann, nil); err != nil {
		t.Fatal(err)
	}
	annAcct := testkit.Must(h.Rooms().Referrals.Account(ctx, ann.ID))(t)
	if _, err := h.Rooms().Referrals.Referrer(ctx, annAcct.Code, "Ann+promo@Example.com"); err == nil {
		t.Fatal("self-referral through a +tag accepted")
	}
	referrer, err := h.Rooms().Referrals.Referrer(ctx, annAcct.Code, "bob@example.com")
	if err != nil || referrer != ann.ID {
		t.Fatalf("referrer: %v %v", referrer, err)
	}
	bob := h.members.add("bob@example.com")
	if _, err := h.Rooms().Referrals.Enroll(ctx, bob, &referrer); err != nil {
		t.Fatal(err)
	}
	// The qualifying purchase and a second one, each reported 25 times at once.
	res := testkit.Race(t, 50, func(i int) error {
		_, err := h.RecordActivity(ctx, ActivityInput{MemberID: bob.ID, Kind: program.ActivityPurchase, ExternalID: fmt.Sprint("b", i%2), AmountMinor: 1000, Currency: "USD", OccurredAt: h.clock.Now()})
		return err
	})
	res.Expect(t)
	if res.OK() != 50 {
		t.Fatalf("%d of 50 reports succeeded", res.OK())
	}
	annRef, err := h.Rooms().Referrals.Summary(ctx, ann.ID)
	if err != nil || annRef.PointsEarned != 500 || annRef.Converted != 1 || annRef.Invited != 1 {
		t.Fatalf("ann's referral: %+v %v", annRef, err)
	}
	bobRef, err := h.Rooms().Referrals.Summary(ctx, bob.ID)
	if err != nil || bobRef.PointsEarned != 500 {
		t.Fatalf("bob's referral points %+v %v, want 500", bobRef, err)
	}
	if n := testkit.Count(t, h.ledger.Collection(), bson.D{{Key: "type", Value: ledger.EntryReferral}}); n != 2 {
		t.Fatalf("%d referral entries in the ledger, want 2 (one a side)", n)
	}
	if n := testkit.Count(t, h.db.Collection("referral_conversions"), nil); n != 1 {
		t.Fatalf("%d conversions stored, want 1", n)
	}
	h.checkLedger(t, ann)
	h.checkLedger(t, bob)
}

// Random interleavings of earn, redeem, expire and refund from goroutines
// released together: every operation succeeds or is refused for points,
// the database holds exactly what the callers were told succeeded, and the
// balance is the ledger sum and never negative.
func TestBalanceEqualsLedgerSumUnderRandomConcurrency(t *testing.T) {
	h := newHarness(t, func(p *program.Program) { p.PointsExpireDays = 3 })
	m := h.members.add("ann@example.com")
	rw, err := h.Rewards().CreateReward(context.Background(), reward.RewardInput{Name: "Sticker", Cost: 70, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	const workers, steps = 6, 8
	type tally struct{ purchases, refunds, redemptions int64 }
	tallies := make([]tally, workers)
	res := testkit.Race(t, workers, func(g int) error {
		rng := rand.New(rand.NewPCG(uint64(g), 7))
		ctx := context.Background()
		last := "" // this goroutine's latest purchase: at least 500 minor, refunded 50 at a time
		for i := range steps {
			id := fmt.Sprintf("g%d-%d", g, i)
			switch rng.IntN(4) {
			case 0, 1:
				if _, err := h.RecordActivity(ctx, ActivityInput{MemberID: m.ID, Kind: program.ActivityPurchase, ExternalID: id, AmountMinor: int64(500 + rng.IntN(5000)), Currency: "USD", OccurredAt: h.clock.Now()}); err != nil {
					return fmt.Errorf("purchase %s: %w", id, err)
				}
				last = id
				tallies[g].purchases++
			case 2:
				_, err := h.Rewards().Redeem(ctx, m.ID, rw.ID, id)
				switch {
				case err == nil:
					tallies[g].redemptions++
				case !errors.Is(err, ledger.ErrInsufficientPoints):
					return fmt.Errorf("redeem %s: %w", id, err)
				}
			case 3:
				if last != "" {
					if _, err := h.RecordActivity(ctx, ActivityInput{MemberID: m.ID, Kind: program.ActivityRefund, ExternalID: "r" + id, AmountMinor: 50, Currency: "USD", RefundOf: last, OccurredAt: h.clock.Now()}); err != nil {
						return fmt.Errorf("refund %s: %w", id, err)
					}
					tallies[g].refunds++
				}
				h.clock.Add(time.Hour * time.Duration(rng.IntN(30)))
				prog, err := h.program.Get(ctx)
				if err != nil {
					return err
				}
				if _, err := h.ledger.Points(ctx, &prog, m.ID); err != nil {
					return fmt.Errorf("points: %w", err)
				}
			}
		}
		return nil
	})
	res.Expect(t)
	var sum tally
	for _, c := range tallies {
		sum.purchases, sum.refunds, sum.redemptions = sum.purchases+c.purchases, sum.refunds+c.refunds, sum.redemptions+c.redemptions
	}
	if sum.purchases == 0 || sum.redemptions == 0 || sum.refunds == 0 {
		t.Fatalf("callers were told of %+v: every kind of operation must have succeeded at least once", sum)
	}
	if n := testkit.Count(t, h.activities(), bson.D{{Key: "kind", Value: program.ActivityPurchase}}); n != sum.purchases {
		t.Fatalf("%d purchases stored, callers were told of %d", n, sum.purchases)
	}
	if n := testkit.Count(t, h.activities(), bson.D{{Key: "kind", Value: program.ActivityRefund}}); n != sum.refunds {
		t.Fatalf("%d refunds stored, callers were told of %d", n, sum.refunds)
	}
	if n := testkit.Count(t, h.db.Collection("redemptions"), bson.D{{Key: "status", Value: reward.RedemptionCompleted}}); n != sum.redemptions {
		t.Fatalf("%d completed redemptions stored, callers were told of %d", n, sum.redemptions)
	}
	if n := testkit.Count(t, h.ledger.Collection(), bson.D{{Key: "type", Value: ledger.EntryRedeem}}); n != sum.redemptions {
		t.Fatalf("%d redemption debits in the ledger, callers were told of %d redemptions", n, sum.redemptions)
	}
	h.checkLedger(t, m)
}
