package member

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/mongotest"
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
	if err := checkPassword(strings.Repeat("ab", 40), "x@y.com"); err == nil {
		t.Error("a password bcrypt would truncate accepted")
	}
}

func TestAccessToken(t *testing.T) {
	now := time.Now()
	tk := tokens{secret: []byte(strings.Repeat("k", 32)), accessTTL: time.Minute}
	m := &Member{Roles: []Role{RoleCustomer, RoleModerator}}
	m.ID[0] = 1
	s, _, err := tk.sign(m, now)
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
	db := mongotest.Database(t)
	s, err := New(db, Config{JWTSecret: []byte(strings.Repeat("k", 32)), BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestIndexesExist(t *testing.T) {
	s := newService(t)
	mongotest.RequireIndexes(t, s.members.c, indexEmail, indexBirthday)
	mongotest.RequireIndexes(t, s.refresh.tokens, indexRefreshFamily)
	// Ensuring twice, as every start does, is harmless.
	if err := s.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Many sign-ups racing for one email: exactly one account.
func TestConcurrentSignUpsOneAccount(t *testing.T) {
	s := newService(t)
	var ok, taken atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			_, err := s.SignUp(context.Background(), SignUp{
				Email: "Race@Example.com", Password: "correct horse", DisplayName: "Racer", Timezone: "UTC",
			})
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, ErrEmailTaken):
				taken.Add(1)
			default:
				t.Errorf("sign-up %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 || taken.Load() != 19 {
		t.Fatalf("%d sign-ups succeeded and %d were refused; want 1 and 19", ok.Load(), taken.Load())
	}
}

// A refresh token spent by many requests at once: at most one gets a new
// pair, and the rest look like theft, so the whole family is revoked, the
// winner's new token included.
func TestConcurrentRefreshOneWinner(t *testing.T) {
	s := newService(t)
	sess, err := s.SignUp(context.Background(), SignUp{Email: "r@example.com", Password: "correct horse", DisplayName: "R", Timezone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	var wins atomic.Int32
	var winner atomic.Value
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			next, err := s.Refresh(context.Background(), sess.RefreshToken)
			if err == nil {
				wins.Add(1)
				winner.Store(next.RefreshToken)
			} else if !errors.Is(err, ErrTokenReused) && !errors.Is(err, ErrTokenInvalid) {
				t.Errorf("refresh: %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() > 1 {
		t.Fatalf("%d refreshes won, want at most 1", wins.Load())
	}
	if w, ok := winner.Load().(string); ok {
		if _, err := s.Refresh(context.Background(), w); err == nil {
			t.Fatal("the family survived a reuse")
		}
	}
	spent, err := s.refresh.spends.CountDocuments(context.Background(), map[string]any{"_id": hashRefresh(sess.RefreshToken)})
	if err != nil || spent != 1 {
		t.Fatalf("the token was spent %d times, want once (%v)", spent, err)
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
