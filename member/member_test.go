package member

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"golang.org/x/crypto/bcrypt"

	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/testkit"
)

func TestNormalizeEmail(t *testing.T) {
	if e, err := NormalizeEmail("  Ann.Lee@Example.COM "); err != nil || e != "ann.lee@example.com" {
		t.Fatalf("got %q %v", e, err)
	}
	for _, bad := range []string{"", "ann", "ann@", "@example.com", "Ann <ann@example.com>", "ann@localhost", strings.Repeat("a", 250) + "@x.com"} {
		if _, err := NormalizeEmail(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestProfileValidation(t *testing.T) {
	now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	ok := SignUp{Email: "a@example.com", Password: "correct horse", DisplayName: " Ann ", Timezone: "America/New_York"}
	if err := ok.validate(now); err != nil || ok.DisplayName != "Ann" {
		t.Fatalf("valid sign-up refused: %v", err)
	}
	cases := map[string]func(*SignUp){
		"password":    func(s *SignUp) { s.Password = "abc" },
		"displayName": func(s *SignUp) { s.DisplayName = strings.Repeat("ñ", MaxDisplayName+1) },
		"timezone":    func(s *SignUp) { s.Timezone = "Local" },
		"avatarUrl":   func(s *SignUp) { s.AvatarURL = "ftp://x/y.png" },
		"birthday":    func(s *SignUp) { s.Birthday = &Date{Year: 2027, Month: 1, Day: 1} },
	}
	for field, spoil := range cases {
		s := SignUp{Email: "a@example.com", Password: "correct horse", DisplayName: "Ann", Timezone: "UTC"}
		spoil(&s)
		err := s.validate(now)
		if in, ok := input.As(err); !ok || in.Field != field {
			t.Errorf("spoiled %s: got %v", field, err)
		}
	}
	if err := validBirthday(&Date{Year: 2001, Month: 2, Day: 29}, now); err == nil {
		t.Error("29 February 2001 accepted")
	}
	if err := checkPassword("aaaaaaaaaa", "x@y.com"); err == nil {
		t.Error("a password of one repeated letter accepted")
	}
	if _, err := passwordForm(strings.Repeat("ab", MaxPassword/2+1)); err == nil {
		t.Error("a password over MaxPassword characters accepted")
	}
}

func TestAccessToken(t *testing.T) {
	now := time.Now()
	tk := tokens{secret: []byte(strings.Repeat("k", 32)), accessTTL: time.Minute}
	m := &Member{Roles: []Role{RoleCustomer, RoleModerator}}
	m.ID[0] = 1
	s, _, err := tk.sign(m, bson.NewObjectID(), now)
	if err != nil {
		t.Fatal(err)
	}
	p, err := tk.verify(s, now)
	if err != nil || p.MemberID != m.ID || !p.Has(RoleModerator) || p.Has(RoleBrand) {
		t.Fatalf("verify: %+v %v", p, err)
	}
	if _, err := tk.verify(s, now.Add(2*time.Minute)); !errors.Is(err, ErrTokenInvalid) {
		t.Errorf("expired token: %v", err)
	}
	other := tokens{secret: []byte(strings.Repeat("o", 32)), accessTTL: time.Minute}
	if _, err := other.verify(s, now); !errors.Is(err, ErrTokenInvalid) {
		t.Errorf("token signed with another secret: %v", err)
	}
}

func newService(t *testing.T) *Service {
	t.Helper()
	return newServiceAt(t, nil)
}

// newServiceAt returns a service on a fresh database whose clock is clock's
// (nil: the real time).
func newServiceAt(t *testing.T, clock *testkit.Clock) *Service {
	t.Helper()
	cfg := Config{JWTSecret: []byte(strings.Repeat("k", 32)), BcryptCost: bcrypt.MinCost}
	if clock != nil {
		cfg.Now = clock.Now
	}
	s, err := New(testkit.Database(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	testkit.EnsureIndexes(t, s.EnsureIndexes)
	return s
}

func TestIndexesExist(t *testing.T) {
	s := newService(t)
	testkit.RequireIndexes(t, s.members.c, indexEmail, indexBirthday, indexNameKey)
	testkit.RequireIndexes(t, s.refresh.tokens, indexRefreshFamily)
	testkit.RequireIndexes(t, s.sessions.c, indexSessionEventsAt)
	// Ensuring twice, as every start does, is harmless.
	if err := s.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// 50 sign-ups racing for one email: exactly one account, in the database
// as for the callers.
func TestConcurrentSignUpsOneAccount(t *testing.T) {
	s := newService(t)
	const callers = 50
	res := testkit.Race(t, callers, func(int) error {
		_, err := s.SignUp(context.Background(), SignUp{
			Email: "Race@Example.com", Password: "correct horse", DisplayName: "Racer", Timezone: "UTC",
		})
		return err
	})
	res.Expect(t, ErrEmailTaken)
	if res.OK() != 1 || res.Is(ErrEmailTaken) != callers-1 {
		t.Fatalf("%d sign-ups succeeded and %d were refused; want 1 and %d", res.OK(), res.Is(ErrEmailTaken), callers-1)
	}
	if n := testkit.Count(t, s.members.c, nil); n != 1 {
		t.Fatalf("%d members stored, want 1", n)
	}
	if n := testkit.Count(t, s.refresh.families, nil); n != 1 {
		t.Fatalf("%d sessions started, want the winner's one", n)
	}
}

// A refresh token spent by 50 requests at once: exactly one spends it and
// the rest look like theft, so the whole family is revoked. The spender
// gets a new pair, or is refused if a thief's revocation came first; either
// way the new token is dead.
func TestConcurrentRefreshOneWinner(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	sess, err := s.SignUp(ctx, SignUp{Email: "r@example.com", Password: "correct horse", DisplayName: "R", Timezone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	const callers = 50
	next := make([]*Session, callers)
	res := testkit.Race(t, callers, func(i int) error {
		var err error
		next[i], err = s.Refresh(ctx, sess.RefreshToken)
		return err
	})
	res.Expect(t, ErrTokenReused, ErrTokenInvalid)
	if res.Is(ErrTokenReused) != callers-1 || res.OK()+res.Is(ErrTokenInvalid) != 1 {
		t.Fatalf("%d reuses, %d new pairs, %d refused: want %d reuses and one spender", res.Is(ErrTokenReused), res.OK(), res.Is(ErrTokenInvalid), callers-1)
	}
	for _, n := range next {
		if n == nil {
			continue
		}
		if _, err := s.Refresh(ctx, n.RefreshToken); !errors.Is(err, ErrTokenInvalid) {
			t.Fatalf("the family survived a reuse: %v", err)
		}
	}
	if n := testkit.Count(t, s.refresh.spends, bson.D{{Key: "_id", Value: hashRefresh(sess.RefreshToken)}}); n != 1 {
		t.Fatalf("the token was spent %d times, want once", n)
	}
	if n := testkit.Count(t, s.refresh.families, bson.D{{Key: "revokedAt", Value: bson.D{{Key: "$ne", Value: nil}}}}); n != 1 {
		t.Fatalf("%d families revoked, want the one", n)
	}
}

func TestRoles(t *testing.T) {
	s := newService(t)
	sess, err := s.SignUp(context.Background(), SignUp{Email: "m@example.com", Password: "correct horse", DisplayName: "M", Timezone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	id := sess.Member.ID
	for range 2 {
		if _, err := s.GrantRole(context.Background(), id, RoleModerator); err != nil {
			t.Fatal(err)
		}
	}
	m, err := s.RevokeRole(context.Background(), id, RoleModerator)
	if err != nil || len(m.Roles) != 1 || m.Roles[0] != RoleCustomer {
		t.Fatalf("after grant twice and revoke: %v %v", m.Roles, err)
	}
	if _, err := s.GrantRole(context.Background(), id, Role("ROOT")); err == nil {
		t.Fatal("unknown role granted")
	}
	m.ID[0]++
	if _, err := s.GrantRole(context.Background(), m.ID, RoleBrand); !errors.Is(err, ErrNotFound) {
		t.Fatalf("grant to nobody: %v", err)
	}
}

// Log-in checks the password; log-out ends the session, twice harmlessly;
// tokens expire with the clock.
func TestLogInLogOutAndExpiry(t *testing.T) {
	clock := testkit.NewClock(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	s := newServiceAt(t, clock)
	ctx := context.Background()
	if _, err := s.SignUp(ctx, SignUp{Email: "ann@example.com", Password: "correct horse", DisplayName: "Ann", Timezone: "UTC"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ email, password string }{{"ann@example.com", "wrong horse"}, {"nobody@example.com", "correct horse"}} {
		if _, err := s.LogIn(ctx, c.email, c.password, ""); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("log-in %s / %s: %v", c.email, c.password, err)
		}
	}
	sess, err := s.LogIn(ctx, "  ANN@example.com ", "correct horse", "")
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Authenticate(sess.AccessToken)
	if err != nil || p.MemberID != sess.Member.ID || !p.Authenticated() || !p.Has(RoleCustomer) {
		t.Fatalf("authenticate: %+v %v", p, err)
	}
	if got := PrincipalFrom(WithPrincipal(ctx, p)); got.MemberID != p.MemberID {
		t.Fatalf("principal through the context: %+v", got)
	}
	if PrincipalFrom(ctx).Authenticated() {
		t.Fatal("an empty context is authenticated")
	}
	minted, err := s.AccessToken(sess.Member)
	if err != nil {
		t.Fatal(err)
	}
	clock.Add(16 * time.Minute)
	for _, tok := range []string{sess.AccessToken, minted} {
		if _, err := s.Authenticate(tok); !errors.Is(err, ErrTokenInvalid) {
			t.Errorf("access token after its 15 minutes: %v", err)
		}
	}
	for range 2 {
		if err := s.LogOut(ctx, sess.RefreshToken); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.LogOut(ctx, "never-issued"); err != nil {
		t.Fatalf("logging out an unknown token: %v", err)
	}
	if _, err := s.Refresh(ctx, sess.RefreshToken); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("refresh after log-out: %v", err)
	}
	// A refresh token past its 30 days is refused.
	other, err := s.LogIn(ctx, "ann@example.com", "correct horse", "")
	if err != nil {
		t.Fatal(err)
	}
	clock.Add(31 * 24 * time.Hour)
	if _, err := s.Refresh(ctx, other.RefreshToken); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("refresh after 31 days: %v", err)
	}
}

// A profile change sets what is given, clears an avatar set to "", refuses
// bad fields without writing, and the birthday index finds the member.
func TestUpdateProfileAndBirthdays(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	ann := testkit.Must(s.SignUp(ctx, SignUp{Email: "ann@example.com", Password: "correct horse", DisplayName: "Ann", Timezone: "UTC", AvatarURL: "https://cdn.example.com/a.png"}))(t)
	bob := testkit.Must(s.SignUp(ctx, SignUp{Email: "bob@example.com", Password: "correct horse", DisplayName: "Bob", Timezone: "UTC"}))(t)
	name, tz, empty, yes := " Annie ", "Europe/Paris", "", true
	m, err := s.UpdateProfile(ctx, ann.Member.ID, ProfileChange{DisplayName: &name, Timezone: &tz, AvatarURL: &empty, Birthday: &Date{Year: 1990, Month: 3, Day: 14}, MarketingConsent: &yes})
	if err != nil || m.DisplayName != "Annie" || m.Timezone != tz || m.AvatarURL != "" || m.Birthday == nil || !m.MarketingConsent {
		t.Fatalf("after the change: %+v %v", m, err)
	}
	if m.Location().String() != tz {
		t.Fatalf("location %s", m.Location())
	}
	bad, badURL := "Mars/Olympus", "javascript:alert(1)"
	for field, c := range map[string]ProfileChange{
		"timezone":  {Timezone: &bad},
		"avatarUrl": {AvatarURL: &badURL},
		"birthday":  {Birthday: &Date{Year: 2990, Month: 1, Day: 1}},
	} {
		if _, err := s.UpdateProfile(ctx, ann.Member.ID, c); err == nil {
			t.Errorf("%s: accepted", field)
		} else if e, ok := input.As(err); !ok || e.Field != field {
			t.Errorf("%s: %v", field, err)
		}
	}
	if _, err := s.UpdateProfile(ctx, bson.NewObjectID(), ProfileChange{Timezone: &tz}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("change of nobody: %v", err)
	}
	got := testkit.Must(s.Get(ctx, ann.Member.ID))(t)
	if got.Timezone != tz || got.DisplayName != "Annie" {
		t.Fatalf("a refused change wrote: %+v", got)
	}
	ms := testkit.Must(s.GetMany(ctx, []bson.ObjectID{bob.Member.ID, bson.NewObjectID(), ann.Member.ID}))(t)
	if len(ms) != 3 || ms[0].Email != "bob@example.com" || ms[1] != nil || ms[2].Email != "ann@example.com" {
		t.Fatalf("get many: %+v", ms)
	}
	born := testkit.Must(s.WithBirthday(ctx, 3, 14, bson.ObjectID{}, 10))(t)
	if len(born) != 1 || born[0].ID != ann.Member.ID {
		t.Fatalf("born on 14 March: %+v", born)
	}
	if none := testkit.Must(s.WithBirthday(ctx, 3, 14, ann.Member.ID, 10))(t); len(none) != 0 {
		t.Fatalf("after ann: %+v", none)
	}
}

func TestByEmailAndCount(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	if n, err := s.Count(ctx); err != nil || n != 0 {
		t.Fatalf("count of a new database: %d %v", n, err)
	}
	sess, err := s.SignUp(ctx, SignUp{Email: "ann@example.com", Password: "correct horse", DisplayName: "Ann", Timezone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.ByEmail(ctx, "  ANN@example.com ")
	if err != nil || m.ID != sess.Member.ID {
		t.Fatalf("ByEmail: %+v %v", m, err)
	}
	if _, err := s.ByEmail(ctx, "bob@example.com"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ByEmail of nobody: %v", err)
	}
	if n, err := s.Count(ctx); err != nil || n != 1 {
		t.Fatalf("count after one sign-up: %d %v", n, err)
	}
}
