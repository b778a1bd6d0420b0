package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"golang.org/x/crypto/bcrypt"

	"github.com/regulars/regulars/internal/mongotest"
	"github.com/regulars/regulars/member"

	"github.com/regulars/regulars/internal/testkit"
)

func newGraceService(t *testing.T, grace time.Duration) (*Service, *testkit.Clock) {
	t.Helper()
	c := testkit.NewClock(time.Now())
	s := newServiceWith(t, mongotest.Database(t), Config{JWTSecret: []byte(strings.Repeat("k", 32)), BcryptCost: bcrypt.MinCost, RefreshGrace: grace, Now: c.Now})
	return s, c
}

// familyRevoked reads the session's family from the database.
func familyRevoked(t *testing.T, s *Service, token string) bool {
	t.Helper()
	rt, err := s.refresh.byHash(context.Background(), hashRefresh(token))
	if err != nil {
		t.Fatal(err)
	}
	var f tokenFamily
	if err := s.refresh.families.FindOne(context.Background(), bson.D{{Key: "_id", Value: rt.Family}}).Decode(&f); err != nil {
		t.Fatal(err)
	}
	return f.RevokedAt != nil
}

// One refresh token presented by n requests at once (a phone retrying on a
// flaky network): every one gets the same new refresh token, the session
// stays alive, and the new token works.
func TestConcurrentRefreshWithinGrace(t *testing.T) {
	for _, n := range []int{2, 10} {
		s, _ := newGraceService(t, 10*time.Second)
		ctx := context.Background()
		sess, err := s.SignUp(ctx, member.SignUp{Email: "g@example.com", Password: "correct horse", DisplayName: "G", Timezone: "UTC"})
		if err != nil {
			t.Fatal(err)
		}
		got := make([]*Session, n)
		errs := testkit.Race(t, n, func(i int) (err error) {
			got[i], err = s.Refresh(ctx, sess.RefreshToken)
			return err
		})
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("n=%d: refresh %d: %v", n, i, errs[i])
			}
			if got[i].RefreshToken != got[0].RefreshToken || got[i].RefreshToken == sess.RefreshToken {
				t.Fatalf("n=%d: refresh %d got another token", n, i)
			}
			if _, err := s.Authenticate(got[i].AccessToken); err != nil {
				t.Fatalf("n=%d: access token %d: %v", n, i, err)
			}
		}
		if familyRevoked(t, s, sess.RefreshToken) {
			t.Fatalf("n=%d: the session was revoked", n)
		}
		spent, err := s.refresh.spends.CountDocuments(ctx, bson.D{{Key: "_id", Value: hashRefresh(sess.RefreshToken)}})
		if err != nil || spent != 1 {
			t.Fatalf("n=%d: spent %d times (%v)", n, spent, err)
		}
		if tokens, err := s.refresh.tokens.CountDocuments(ctx, bson.D{}); err != nil || tokens != 2 {
			t.Fatalf("n=%d: %d refresh tokens stored, want the first and its one successor (%v)", n, tokens, err)
		}
		next, err := s.Refresh(ctx, got[0].RefreshToken)
		if err != nil || next.RefreshToken == got[0].RefreshToken {
			t.Fatalf("n=%d: the new token does not rotate: %v", n, err)
		}
	}
}

// Presented again after the window, a spent token is a stolen one: the
// family is revoked, the newest token with it.
func TestRefreshReuseAfterGraceRevokes(t *testing.T) {
	s, clk := newGraceService(t, 10*time.Second)
	ctx := context.Background()
	sess, err := s.SignUp(ctx, member.SignUp{Email: "h@example.com", Password: "correct horse", DisplayName: "H", Timezone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	next, err := s.Refresh(ctx, sess.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(11 * time.Second)
	if _, err := s.Refresh(ctx, sess.RefreshToken); !errors.Is(err, ErrTokenReused) {
		t.Fatalf("reuse after the window: %v", err)
	}
	if !familyRevoked(t, s, sess.RefreshToken) {
		t.Fatal("family not revoked in the database")
	}
	if _, err := s.Refresh(ctx, next.RefreshToken); err == nil {
		t.Fatal("the newest token survived a reuse")
	}
	// A token never issued is no reuse: it is just invalid.
	if _, err := s.Refresh(ctx, "forged"); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("forged token: %v", err)
	}
}

// The record of a spend gives the new token only to the old one's holder.
func TestSealedChildNeedsParent(t *testing.T) {
	sealed, err := sealChild("parent-token", "child-token")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := openChild("parent-token", sealed); err != nil || c != "child-token" {
		t.Fatalf("open: %q %v", c, err)
	}
	if _, err := openChild("another-token", sealed); err == nil {
		t.Fatal("opened with another token")
	}
}
