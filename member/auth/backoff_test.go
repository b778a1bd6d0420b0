package auth

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/internal/testkit"
)

// wait is the back-off err asks for, 0 if err is no back-off.
func wait(err error) time.Duration {
	var th *fault.Throttled
	if errors.As(err, &th) && fault.CodeOf(err) == fault.RateLimited {
		return th.RetryAfter
	}
	return 0
}

// Failed log-ins on one account back off, doubling, up to a cap: never a
// lock. During a wait even the right password is refused with the wait (no
// oracle); after it, the right password works and the count starts again.
func TestAccountBackoff(t *testing.T) {
	clock := testkit.NewClock(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	s := newServiceAt(t, clock)
	ctx := context.Background()
	signUpWith(t, s, "ann@example.com", "correct horse")
	b := AccountBackoff

	// Attackers from many addresses: the account's count is what holds them.
	attacker := func(i int) string { return fmt.Sprintf("198.51.100.%d", i%250) }
	for i := range b.Free {
		if _, err := s.LogIn(ctx, "ann@example.com", "guess", attacker(i)); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("free attempt %d: %v", i+1, err)
		}
	}
	if _, err := s.LogIn(ctx, "ann@example.com", "correct horse", attacker(99)); wait(err) != b.Base {
		t.Fatalf("the right password during the back-off: %v, want RATE_LIMITED with %s", err, b.Base)
	}
	// Each further failure doubles the wait, up to the cap.
	want := b.Base
	for i := range 12 {
		clock.Add(want)
		if _, err := s.LogIn(ctx, "ann@example.com", "guess", attacker(i)); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("after waiting %s: %v", want, err)
		}
		want = min(want*2, b.Max)
		if _, err := s.LogIn(ctx, "ann@example.com", "guess", attacker(i)); wait(err) != want {
			t.Fatalf("failure %d: wait %v, want %s", b.Free+i+1, err, want)
		}
	}
	if want != b.Max {
		t.Fatalf("the wait never reached its cap: %s", want)
	}
	// The cap is the longest anyone waits: then the member is in.
	clock.Add(b.Max)
	if _, err := s.LogIn(ctx, "ann@example.com", "correct horse", "203.0.113.7"); err != nil {
		t.Fatalf("the member after the longest wait: %v", err)
	}
	// A success starts the count afresh.
	for i := range b.Free {
		if _, err := s.LogIn(ctx, "ann@example.com", "guess", attacker(i)); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("after a success, attempt %d: %v", i+1, err)
		}
	}
	// An unknown account backs off the same way: no answer tells it apart.
	for range b.Free {
		if _, err := s.LogIn(ctx, "nobody@example.com", "guess", ""); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("an unknown account within the free attempts: %v", err)
		}
	}
	if _, err := s.LogIn(ctx, "nobody@example.com", "guess", ""); wait(err) != b.Base {
		t.Fatalf("an unknown account: %v, want the same back-off", err)
	}
}

// An attacker cannot keep a member out: the address the member last logged
// in from is not held by the account's back-off.
func TestAccountBackoffSparesTheMembersAddress(t *testing.T) {
	clock := testkit.NewClock(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	s := newServiceAt(t, clock)
	ctx := context.Background()
	signUpWith(t, s, "ann@example.com", "correct horse")
	const home = "2001:db8:1:2::10"
	if _, err := s.LogIn(ctx, "ann@example.com", "correct horse", home); err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		if _, err := s.LogIn(ctx, "ann@example.com", "guess", fmt.Sprintf("198.51.100.%d", i)); err == nil {
			t.Fatal("a wrong password logged in")
		}
	}
	if _, err := s.LogIn(ctx, "ann@example.com", "correct horse", "198.51.100.200"); wait(err) == 0 {
		t.Fatalf("another address during the back-off: %v, want RATE_LIMITED", err)
	}
	// Same /64 as home: the member's phone changing its interface id.
	if _, err := s.LogIn(ctx, "ann@example.com", "correct horse", "2001:db8:1:2::99"); err != nil {
		t.Fatalf("the member from home during the attack: %v", err)
	}
}

// One address failing on many accounts backs off too; others are untouched.
func TestAddressBackoff(t *testing.T) {
	clock := testkit.NewClock(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	s := newServiceAt(t, clock)
	ctx := context.Background()
	signUpWith(t, s, "ann@example.com", "correct horse")
	const spray = "192.0.2.1"
	for i := range AddressBackoff.Free {
		if _, err := s.LogIn(ctx, fmt.Sprintf("user%d@example.com", i), "Spring2026!", spray); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	if _, err := s.LogIn(ctx, "ann@example.com", "correct horse", spray); wait(err) != AddressBackoff.Base {
		t.Fatalf("a fresh account from the spraying address: %v, want RATE_LIMITED", err)
	}
	if _, err := s.LogIn(ctx, "ann@example.com", "correct horse", "192.0.2.2"); err != nil {
		t.Fatalf("another address: %v", err)
	}
}

// Attempts racing on one account are all counted before any password is
// checked: no more than the free attempts reach the check, and the count
// in the database is exactly the attempts that did.
func TestBackoffHoldsUnderARace(t *testing.T) {
	clock := testkit.NewClock(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
	s := newServiceAt(t, clock)
	signUpWith(t, s, "ann@example.com", "correct horse")
	res := testkit.Race(t, 20, func(i int) error {
		_, err := s.LogIn(context.Background(), "ann@example.com", "guess", fmt.Sprintf("198.51.100.%d", i))
		return err
	})
	checked := res.Is(ErrBadCredentials)
	if checked > AccountBackoff.Free || checked == 0 {
		t.Fatalf("%d racing attempts reached the password check, want 1 to %d", checked, AccountBackoff.Free)
	}
	for i, err := range res {
		if !errors.Is(err, ErrBadCredentials) && wait(err) == 0 {
			t.Errorf("attempt %d: %v", i, err)
		}
	}
	var a attempts
	if err := s.attempts.c.FindOne(context.Background(), bson.D{{Key: "_id", Value: accountKey("ann@example.com")}}).Decode(&a); err != nil {
		t.Fatal(err)
	}
	if a.Failures != checked {
		t.Fatalf("stored count %d, attempts checked %d", a.Failures, checked)
	}
}
