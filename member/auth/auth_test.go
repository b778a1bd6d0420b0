package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"golang.org/x/crypto/bcrypt"

	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/testkit"
	"github.com/regulars/regulars/member"
)

func TestSignUpValidation(t *testing.T) {
	now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	// The email is checked first, then the password, then the rest.
	for field, in := range map[string]member.SignUp{
		"email":       {Email: "ann", Password: "abc", DisplayName: "", Timezone: "UTC"},
		"password":    {Email: "a@example.com", Password: "abc", DisplayName: "", Timezone: "UTC"},
		"displayName": {Email: "a@example.com", Password: "correct horse", DisplayName: "", Timezone: "UTC"},
	} {
		err := checkSignUp(&in, now)
		if e, ok := input.As(err); !ok || e.Field != field {
			t.Errorf("%s: got %v", field, err)
		}
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
	m := &member.Member{Roles: []member.Role{member.RoleCustomer, member.RoleModerator}}
	m.ID[0] = 1
	s, _, err := tk.sign(m, bson.NewObjectID(), now)
	if err != nil {
		t.Fatal(err)
	}
	p, err := tk.verify(s, now)
	if err != nil || p.MemberID != m.ID || !p.Has(member.RoleModerator) || p.Has(member.RoleBrand) {
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
	return newServiceWith(t, testkit.Database(t), cfg)
}

// newServiceWith returns a service of cfg over db, with the profiles
// (member.New) on the same clock.
func newServiceWith(t *testing.T, db *mongo.Database, cfg Config) *Service {
	t.Helper()
	members := member.New(db, cfg.Now)
	testkit.EnsureIndexes(t, members.EnsureIndexes)
	s, err := New(db, members, cfg)
	if err != nil {
		t.Fatal(err)
	}
	testkit.EnsureIndexes(t, s.EnsureIndexes)
	return s
}

func TestIndexesExist(t *testing.T) {
	s := newService(t)
	testkit.RequireIndexes(t, s.refresh.tokens, indexRefreshFamily)
	testkit.RequireIndexes(t, s.refresh.families, indexFamiliesMember)
	testkit.RequireIndexes(t, s.sessions.c, indexSessionEventsAt)
	testkit.RequireIndexes(t, s.links, indexTokensMember)
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
		_, err := s.SignUp(context.Background(), member.SignUp{
			Email: "Race@Example.com", Password: "correct horse", DisplayName: "Racer", Timezone: "UTC",
		})
		return err
	})
	res.Expect(t, member.ErrEmailTaken)
	if res.OK() != 1 || res.Is(member.ErrEmailTaken) != callers-1 {
		t.Fatalf("%d sign-ups succeeded and %d were refused; want 1 and %d", res.OK(), res.Is(member.ErrEmailTaken), callers-1)
	}
	if n := testkit.Count(t, s.links.Database().Collection("members"), nil); n != 1 {
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
	sess, err := s.SignUp(ctx, member.SignUp{Email: "r@example.com", Password: "correct horse", DisplayName: "R", Timezone: "UTC"})
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
	sess, err := s.SignUp(context.Background(), member.SignUp{Email: "m@example.com", Password: "correct horse", DisplayName: "M", Timezone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	id := sess.Member.ID
	for range 2 {
		if _, err := s.GrantRole(context.Background(), id, member.RoleModerator); err != nil {
			t.Fatal(err)
		}
	}
	m, err := s.RevokeRole(context.Background(), id, member.RoleModerator)
	if err != nil || len(m.Roles) != 1 || m.Roles[0] != member.RoleCustomer {
		t.Fatalf("after grant twice and revoke: %v %v", m.Roles, err)
	}
	if _, err := s.GrantRole(context.Background(), id, member.Role("ROOT")); err == nil {
		t.Fatal("unknown role granted")
	}
	m.ID[0]++
	if _, err := s.GrantRole(context.Background(), m.ID, member.RoleBrand); !errors.Is(err, member.ErrNotFound) {
		t.Fatalf("grant to nobody: %v", err)
	}
}

// Log-in checks the password; log-out ends the session, twice harmlessly;
// tokens expire with the clock.
func TestLogInLogOutAndExpiry(t *testing.T) {
	clock := testkit.NewClock(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	s := newServiceAt(t, clock)
	ctx := context.Background()
	if _, err := s.SignUp(ctx, member.SignUp{Email: "ann@example.com", Password: "correct horse", DisplayName: "Ann", Timezone: "UTC"}); err != nil {
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
	if err != nil || p.MemberID != sess.Member.ID || !p.Authenticated() || !p.Has(member.RoleCustomer) {
		t.Fatalf("authenticate: %+v %v", p, err)
	}
	if got := member.PrincipalFrom(member.WithPrincipal(ctx, p)); got.MemberID != p.MemberID {
		t.Fatalf("principal through the context: %+v", got)
	}
	if member.PrincipalFrom(ctx).Authenticated() {
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
