package member

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"golang.org/x/crypto/bcrypt"

	"github.com/regulars/regulars/input"
)

func signUpWith(t *testing.T, s *Service, email, password string) *Session {
	t.Helper()
	sess, err := s.SignUp(context.Background(), SignUp{Email: email, Password: password, DisplayName: "P", Timezone: "UTC"})
	if err != nil {
		t.Fatalf("sign up %q: %v", email, err)
	}
	return sess
}

// A password past bcrypt's 72 bytes is never matched by its first 72 bytes
// plus anything.
func TestLongPasswordIsNotAPrefixMatch(t *testing.T) {
	s := newService(t)
	head := strings.Repeat("correct horse battery staple ", 3)[:72]
	signUpWith(t, s, "long@example.com", head+" and the rest")
	ctx := context.Background()
	for _, wrong := range []string{head, head + "X", head + " and the REST"} {
		if _, err := s.LogIn(ctx, "long@example.com", wrong); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("log-in with %d bytes sharing the first 72: %v", len(wrong), err)
		}
	}
	if _, err := s.LogIn(ctx, "long@example.com", head+" and the rest"); err != nil {
		t.Fatalf("the right password: %v", err)
	}
}

// A password set in one Unicode form logs in typed in the other.
func TestPasswordUnicodeForms(t *testing.T) {
	s := newService(t)
	const nfc, nfd = "caf\u00e9 cr\u00e8me br\u00fbl\u00e9e", "cafe\u0301 cre\u0300me bru\u0302le\u0301e"
	signUpWith(t, s, "nfc@example.com", nfc)
	signUpWith(t, s, "nfd@example.com", nfd)
	for _, c := range []struct{ email, typed string }{
		{"nfc@example.com", nfd}, {"nfd@example.com", nfc}, {"nfc@example.com", nfc},
	} {
		if _, err := s.LogIn(context.Background(), c.email, c.typed); err != nil {
			t.Errorf("%s typed %+q: %v", c.email, c.typed, err)
		}
	}
}

// Every way a new password can be wrong, as sign-up reports it.
func TestPasswordPolicy(t *testing.T) {
	s := newService(t)
	for name, pw := range map[string]string{
		"spaces only":          strings.Repeat(" ", 12),
		"zero-width only":      strings.Repeat("\u200b", 12),
		"Hangul fillers":       strings.Repeat("\u3164", 12),
		"tabs and no-breaks":   strings.Repeat("\t\u00a0", 6),
		"short once invisible": "abc\u200bd\u200be\u200bf\u200b\u200b\u200b",
		"too long":             strings.Repeat("abcd", MaxPassword/4+1),
		"common":               "Password123",
		"the email's name":     "policy.person",
		"one letter":           "aaaaaaaaaaaa",
		"not UTF-8":            "abcdefgh\xff\xfe",
	} {
		_, err := s.SignUp(context.Background(), SignUp{Email: "policy.person@example.com", Password: pw, DisplayName: "P", Timezone: "UTC"})
		if in, ok := input.As(err); !ok || in.Field != "password" {
			t.Errorf("%s: got %v, want an error on password", name, err)
		}
	}
	// Spaces inside a passphrase are fine; so are long ones up to the maximum.
	signUpWith(t, s, "p1@example.com", "correct horse battery")
	signUpWith(t, s, "p2@example.com", strings.Repeat("añb€", MaxPassword/4))
	// Log-in never looks past MaxPassword characters.
	if _, err := s.LogIn(context.Background(), "p2@example.com", strings.Repeat("añb€", MaxPassword/4)+"x"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("log-in over the maximum: %v", err)
	}
}

// Members whose hash is plain bcrypt (before the pre-hash) still log in,
// never by a prefix, and get a pre-hash on the way.
func TestLegacyHashUpgradedAtLogIn(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	sess := signUpWith(t, s, "old@example.com", "placeholder words")
	pw := strings.Repeat("x1y2z3", 12) // exactly 72 bytes
	legacy, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.members.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: sess.Member.ID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "passwordHash", Value: legacy}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LogIn(ctx, "old@example.com", pw+"anything"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("72 bytes plus a suffix against a legacy hash: %v", err)
	}
	if _, err := s.LogIn(ctx, "old@example.com", pw); err != nil {
		t.Fatalf("legacy hash, right password: %v", err)
	}
	m, err := s.members.byID(ctx, sess.Member.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(m.PasswordHash), string(prehashPrefix)) {
		t.Fatalf("hash not upgraded: %q", m.PasswordHash[:10])
	}
	if _, err := s.LogIn(ctx, "old@example.com", pw); err != nil {
		t.Fatalf("after the upgrade: %v", err)
	}
}

// Addresses that print the same are one identity.
func TestEmailCanonicalForm(t *testing.T) {
	for raw, want := range map[string]string{
		"jos\u00e9.t@example.com":  "jos\u00e9.t@example.com",
		"jose\u0301.t@example.com": "jos\u00e9.t@example.com",
		" Ann.Lee@EXAMPLE.com ":    "ann.lee@example.com",
		"ann@B\u00dcCHER.de":       "ann@xn--bcher-kva.de",
		"ann@bu\u0308cher.de":      "ann@xn--bcher-kva.de",
		"ann@XN--BCHER-KVA.de":     "ann@xn--bcher-kva.de",
		"ann@example\uff0ecom":     "ann@example.com", // full-width dot, as IDNA maps it
	} {
		got, err := NormalizeEmail(raw)
		if err != nil || got != want {
			t.Errorf("NormalizeEmail(%+q) = %+q, %v; want %+q", raw, got, err, want)
		}
	}
	for _, bad := range []string{"ann@exa mple.com", "ann@-bad-.com", "ann@\u200b.com", "ann@xn--zz.com"} {
		if _, err := NormalizeEmail(bad); err == nil {
			t.Errorf("%+q accepted", bad)
		}
	}

	s := newService(t)
	ctx := context.Background()
	first := signUpWith(t, s, "jos\u00e9.t@b\u00fccher.de", "correct horse")
	for _, twin := range []string{"jose\u0301.t@bu\u0308cher.de", "JOS\u00c9.T@xn--bcher-kva.de"} {
		if _, err := s.SignUp(ctx, SignUp{Email: twin, Password: "correct horse", DisplayName: "Twin", Timezone: "UTC"}); !errors.Is(err, ErrEmailTaken) {
			t.Errorf("sign-up as %+q: %v, want ErrEmailTaken", twin, err)
		}
		sess, err := s.LogIn(ctx, twin, "correct horse")
		if err != nil || sess.Member.ID != first.Member.ID {
			t.Errorf("log-in as %+q: %v", twin, err)
		}
	}
	if _, err := s.LogIn(ctx, "not an address", "correct horse"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("log-in with a malformed address: %v", err)
	}
}

// Rows stored before the canonical form are rewritten into it; a row whose
// canonical form another member holds is reported and left alone.
func TestCanonicalizeEmails(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	taken := signUpWith(t, s, "jos\u00e9@example.com", "correct horse")
	rows := map[string]bson.ObjectID{}
	for _, e := range []string{"jose\u0301@example.com", "ann@b\u00fccher.de", "plain@example.com", "not an address"} {
		id := bson.NewObjectID()
		rows[e] = id
		if _, err := s.members.c.InsertOne(ctx, Member{ID: id, Email: e, Roles: []Role{RoleCustomer}}); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 { // a second run finds nothing more to do
		r, err := s.CanonicalizeEmails(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r.Checked != 5 || len(r.Conflicts) != 1 || r.Conflicts[0] != rows["jose\u0301@example.com"] || len(r.Unparseable) != 1 {
			t.Fatalf("report %+v", r)
		}
	}
	m, err := s.members.byID(ctx, rows["ann@b\u00fccher.de"])
	if err != nil || m.Email != "ann@xn--bcher-kva.de" {
		t.Fatalf("IDN row: %+v %v", m, err)
	}
	if m, err := s.members.byID(ctx, taken.Member.ID); err != nil || m.Email != "jos\u00e9@example.com" {
		t.Fatalf("the member holding the canonical address changed: %+v %v", m, err)
	}
}
