package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/text/unicode/norm"

	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/member"
)

func signUpWith(t *testing.T, s *Service, email, password string) *Session {
	t.Helper()
	sess, err := s.SignUp(context.Background(), member.SignUp{Email: email, Password: password, DisplayName: "P", Timezone: "UTC"})
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
		if _, err := s.LogIn(ctx, "long@example.com", wrong, ""); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("log-in with %d bytes sharing the first 72: %v", len(wrong), err)
		}
	}
	if _, err := s.LogIn(ctx, "long@example.com", head+" and the rest", ""); err != nil {
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
		if _, err := s.LogIn(context.Background(), c.email, c.typed, ""); err != nil {
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
		_, err := s.SignUp(context.Background(), member.SignUp{Email: "policy.person@example.com", Password: pw, DisplayName: "P", Timezone: "UTC"})
		if in, ok := input.As(err); !ok || in.Field != "password" {
			t.Errorf("%s: got %v, want an error on password", name, err)
		}
	}
	// Spaces inside a passphrase are fine; so are long ones up to the maximum.
	signUpWith(t, s, "p1@example.com", "correct horse battery")
	signUpWith(t, s, "p2@example.com", strings.Repeat("añb€", MaxPassword/4))
	// Log-in never looks past MaxPassword characters.
	if _, err := s.LogIn(context.Background(), "p2@example.com", strings.Repeat("añb€", MaxPassword/4)+"x", ""); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("log-in over the maximum: %v", err)
	}
}

// Length is measured after NFC on every path: a password that is
// MaxPassword characters once composed signs up and logs in, typed
// decomposed (135 code points) or composed; one character more is refused
// at sign-up and never matches at log-in.
func TestPasswordLengthAfterNormalising(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	nfd := strings.Repeat("abcde\u0301fgh", 15) // 135 code points, 120 in NFC
	nfc := strings.Repeat("abcd\u00e9fgh", 15)
	atMax := nfd + strings.Repeat("k", MaxPassword-120) // MaxPassword in NFC, 143 as typed
	signUpWith(t, s, "nfd135@example.com", nfd)
	signUpWith(t, s, "max@example.com", atMax)
	for _, c := range []struct{ email, typed string }{
		{"nfd135@example.com", nfd}, {"nfd135@example.com", nfc},
		{"max@example.com", atMax}, {"max@example.com", norm.NFC.String(atMax)},
	} {
		if _, err := s.LogIn(ctx, c.email, c.typed, ""); err != nil {
			t.Errorf("%s typed in %d code points: %v", c.email, utf8.RuneCountInString(c.typed), err)
		}
	}
	over := atMax + "k"
	_, err := s.SignUp(ctx, member.SignUp{Email: "over@example.com", Password: over, DisplayName: "O", Timezone: "UTC"})
	if in, ok := input.As(err); !ok || in.Field != "password" {
		t.Errorf("MaxPassword+1 characters in NFC: got %v, want an error on password", err)
	}
	if _, err := s.LogIn(ctx, "max@example.com", over, ""); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("log-in with MaxPassword+1 characters: %v", err)
	}
}

// Characters that print nothing on their own never make a password: each
// kind alone, 16 of them, is refused as blank.
func TestInvisiblePasswords(t *testing.T) {
	s := newService(t)
	run := func(from rune) string {
		var b strings.Builder
		for r := from; r < from+16; r++ {
			b.WriteRune(r)
		}
		return b.String()
	}
	for name, pw := range map[string]string{
		"variation selectors U+FE00–U+FE0F":      run(0xFE00),
		"variation selectors U+E0100–U+E010F":    run(0xE0100),
		"combining marks U+0300–U+030F":          run(0x0300),
		"enclosing marks U+20DD–U+20E0, U+20E2–": "\u20dd\u20de\u20df\u20e0\u20e2\u20e3\u20e4\u20dd\u20de\u20df\u20e0\u20e2\u20e3\u20e4",
		"tag characters U+E0041–U+E0050":         run(0xE0041),
		"Mongolian variation selectors":          "\u180b\u180c\u180d\u180f\u180b\u180c\u180d\u180f\u180b\u180c",
		"combining grapheme joiners":             strings.Repeat("\u034f", 16),
		"word joiners and soft hyphens":          strings.Repeat("\u2060\u00ad", 8),
	} {
		_, err := s.SignUp(context.Background(), member.SignUp{Email: "blank@example.com", Password: pw, DisplayName: "B", Timezone: "UTC"})
		if in, ok := input.As(err); !ok || in.Field != "password" || !strings.Contains(in.Error(), "blank") {
			t.Errorf("%s: got %v, want refused as blank on password", name, err)
		}
	}
	// Marks still go with visible letters: an accented passphrase is fine,
	// and its marks do not count towards MinPassword on their own.
	signUpWith(t, s, "marks@example.com", "q\u0301u\u0301i\u0301e\u0301t n\u0303i\u0303g\u0303h\u0303t")
	_, err := s.SignUp(context.Background(), member.SignUp{Email: "few@example.com", Password: "abc\u0301\u0302\u0303\u0304\u0305\u0306\u0307", DisplayName: "F", Timezone: "UTC"})
	if in, ok := input.As(err); !ok || in.Field != "password" {
		t.Errorf("3 letters and 7 marks: got %v, want an error on password", err)
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
	if _, err := s.links.Database().Collection("members").UpdateOne(ctx, bson.D{{Key: "_id", Value: sess.Member.ID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "passwordHash", Value: legacy}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LogIn(ctx, "old@example.com", pw+"anything", ""); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("72 bytes plus a suffix against a legacy hash: %v", err)
	}
	if _, err := s.LogIn(ctx, "old@example.com", pw, ""); err != nil {
		t.Fatalf("legacy hash, right password: %v", err)
	}
	m, err := s.members.Get(ctx, sess.Member.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(m.PasswordHash), string(prehashPrefix)) {
		t.Fatalf("hash not upgraded: %q", m.PasswordHash[:10])
	}
	if _, err := s.LogIn(ctx, "old@example.com", pw, ""); err != nil {
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
		got, err := member.NormalizeEmail(raw)
		if err != nil || got != want {
			t.Errorf("member.NormalizeEmail(%+q) = %+q, %v; want %+q", raw, got, err, want)
		}
	}
	for _, bad := range []string{"ann@exa mple.com", "ann@-bad-.com", "ann@\u200b.com", "ann@xn--zz.com"} {
		if _, err := member.NormalizeEmail(bad); err == nil {
			t.Errorf("%+q accepted", bad)
		}
	}

	s := newService(t)
	ctx := context.Background()
	first := signUpWith(t, s, "jos\u00e9.t@b\u00fccher.de", "correct horse")
	for _, twin := range []string{"jose\u0301.t@bu\u0308cher.de", "JOS\u00c9.T@xn--bcher-kva.de"} {
		if _, err := s.SignUp(ctx, member.SignUp{Email: twin, Password: "correct horse", DisplayName: "Twin", Timezone: "UTC"}); !errors.Is(err, member.ErrEmailTaken) {
			t.Errorf("sign-up as %+q: %v, want member.ErrEmailTaken", twin, err)
		}
		sess, err := s.LogIn(ctx, twin, "correct horse", "")
		if err != nil || sess.Member.ID != first.Member.ID {
			t.Errorf("log-in as %+q: %v", twin, err)
		}
	}
	if _, err := s.LogIn(ctx, "not an address", "correct horse", ""); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("log-in with a malformed address: %v", err)
	}
}

// A local part holding a character that prints nothing, reorders text, or
// is a compatibility form of another is refused on email, at sign-up as
// well: each would print like josé.t@example.com and be a new member.
func TestEmailLookAlikesRefused(t *testing.T) {
	for name, raw := range map[string]string{
		"zero-width space U+200B":       "jos\u00e9\u200b.t@example.com",
		"leading zero-width space":      "\u200bjos\u00e9.t@example.com",
		"soft hyphen U+00AD":            "jos\u00e9\u00ad.t@example.com",
		"word joiner U+2060":            "jos\u00e9\u2060.t@example.com",
		"zero-width joiner U+200D":      "jos\u00e9\u200d.t@example.com",
		"zero-width non-joiner U+200C":  "jos\u00e9\u200c.t@example.com",
		"byte order mark U+FEFF":        "jos\u00e9\ufeff.t@example.com",
		"right-to-left override U+202E": "jos\u00e9\u202e.t@example.com",
		"left-to-right mark U+200E":     "jos\u00e9\u200e.t@example.com",
		"right-to-left isolate U+2067":  "jos\u00e9\u2067.t@example.com",
		"Arabic letter mark U+061C":     "jos\u00e9\u061c.t@example.com",
		"variation selector U+FE0F":     "jos\u00e9\ufe0f.t@example.com",
		"variation selector U+E0100":    "jos\u00e9\U000e0100.t@example.com",
		"combining grapheme joiner":     "jos\u00e9\u034f.t@example.com",
		"tag character U+E0041":         "jos\u00e9\U000e0041.t@example.com",
		"Hangul filler U+3164":          "jos\u00e9\u3164.t@example.com",
		"Mongolian vowel separator":     "jos\u00e9\u180e.t@example.com",
		"no-break space U+00A0":         "jos\u00e9\u00a0.t@example.com",
		"ideographic space U+3000":      "jos\u00e9\u3000.t@example.com",
		"control U+0007":                "jos\u00e9\u0007.t@example.com",
		"C1 control U+0085":             "jos\u00e9\u0085.t@example.com",
		"private use U+E000":            "jos\u00e9\ue000.t@example.com",
		"full-width letters":            "\uff4a\uff4f\uff53\u00e9.t@example.com",
		"ligature \ufb01":               "\ufb01ona@example.com",
		"superscript two":               "jose\u00b2@example.com",
		"Cyrillic а among Latin":        "lk\u0430@example.com",
		"Greek ο among Latin":           "j\u03bfse@example.com",
		"Latin a among Cyrillic":        "\u043f\u0440\u0438\u0432\u0435\u0442a@example.com",
	} {
		if got, err := member.NormalizeEmail(raw); err == nil {
			t.Errorf("%s: accepted as %+q", name, got)
		} else if in, ok := input.As(err); !ok || in.Field != "email" {
			t.Errorf("%s: %v, want an input error on email", name, err)
		}
	}
	// In the domain, IDNA maps ignorable and full-width characters away:
	// the address is the plain one's, so no look-alike account either.
	for _, raw := range []string{"ann@exa\u200bmple.com", "ann@exa\u00admple.com", "ann@\uff45xample.com"} {
		if got, err := member.NormalizeEmail(raw); err == nil && got != "ann@example.com" {
			t.Errorf("%+q: canonical %+q, want ann@example.com or a refusal", raw, got)
		}
	}
	// One alphabet alone is an address like any other.
	for _, raw := range []string{"\u043f\u0440\u0438\u0432\u0435\u0442@example.com", "\u03b3\u03b9\u03ac\u03bd\u03bd\u03b7\u03c2@example.com", "jos\u00e9.t+1@example.com"} {
		if _, err := member.NormalizeEmail(raw); err != nil {
			t.Errorf("%+q: %v", raw, err)
		}
	}
	s := newService(t)
	signUpWith(t, s, "jos\u00e9.t@example.com", "correct horse")
	_, err := s.SignUp(context.Background(), member.SignUp{Email: "jos\u00e9\u200b.t@example.com", Password: "correct horse", DisplayName: "Twin", Timezone: "UTC"})
	if in, ok := input.As(err); !ok || in.Field != "email" {
		t.Errorf("sign-up with a zero-width space: %v, want an input error on email", err)
	}
}
