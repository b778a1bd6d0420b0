package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/text/unicode/norm"

	"github.com/regulars/regulars/input"
)

// Password policy, the same for every path that sets a password. Lengths
// count characters (Unicode code points) after NFC normalisation, so a
// password typed on a keyboard that composes accents differently is the
// same password, and every path (sign-up, log-in) measures it in that form
// (passwordForm). Characters that print nothing on their own (spaces,
// controls, format characters such as zero-width joiners, combining marks,
// variation selectors, tag characters) are allowed but do not count
// towards MinPassword.
const (
	MinPassword = 8   // visible characters
	MaxPassword = 128 // characters in all
)

// commonPasswords are refused outright: they are the first ones an attacker tries.
var commonPasswords = map[string]bool{
	"password": true, "password1": true, "password123": true, "12345678": true,
	"123456789": true, "1234567890": true, "qwertyuiop": true, "qwerty123": true,
	"11111111": true, "iloveyou": true, "sunshine": true, "letmein1": true,
	"football": true, "baseball": true, "welcome1": true, "abcdefgh": true,
	"00000000": true, "passw0rd": true, "trustno1": true, "superman": true,
}

// normalizePassword is the form a password is hashed and compared in.
func normalizePassword(pw string) string { return norm.NFC.String(pw) }

// passwordForm is the one place a password as typed becomes the form it is
// checked, hashed and compared in: NFC, then at most MaxPassword
// characters in that form. Sign-up and log-in both go through it, so a
// password accepted at sign-up is the same length at log-in. Errors are
// input errors on "password".
func passwordForm(pw string) (string, error) {
	// NFC composes at most 4 code points of at most 4 bytes into one
	// character: anything longer is over MaxPassword whatever its form, and
	// is refused before the work of normalising it.
	if len(pw) > 4*4*MaxPassword {
		return "", input.Errorf("password", "must be at most %d characters", MaxPassword)
	}
	if !utf8.ValidString(pw) {
		return "", input.Errorf("password", "must be valid UTF-8")
	}
	pw = normalizePassword(pw)
	if utf8.RuneCountInString(pw) > MaxPassword {
		return "", input.Errorf("password", "must be at most %d characters", MaxPassword)
	}
	return pw, nil
}

// invisible reports whether r prints nothing on its own: white space,
// controls, format characters (zero-width space and joiners, bidi marks,
// tag characters), combining marks (Mn, Me: they only change the character
// before them; variation selectors are among them), other default-ignorable
// code points, and the Hangul and braille blanks.
func invisible(r rune) bool {
	return unicode.IsSpace(r) || unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zs, unicode.Mn, unicode.Me,
		unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point) ||
		r == '\u115F' || r == '\u1160' || r == '\u3164' || r == '\uFFA0' || r == '\u2800'
}

// checkPassword applies the policy to a new password, already in
// passwordForm.
func checkPassword(pw, email string) error {
	visible := 0
	for _, r := range pw {
		if !invisible(r) {
			visible++
		}
	}
	switch n := utf8.RuneCountInString(pw); {
	case visible == 0 && n > 0:
		return input.Errorf("password", "must not be blank: spaces and invisible characters alone are not a password")
	case visible < MinPassword:
		return input.Errorf("password", "must have at least %d visible characters", MinPassword)
	case commonPasswords[strings.ToLower(pw)]:
		return input.Errorf("password", "is too common; choose another")
	case strings.EqualFold(pw, email) || (len(email) > 0 && strings.EqualFold(pw, email[:max(strings.IndexByte(email, '@'), 0)])):
		return input.Errorf("password", "must not be your email address")
	}
	if distinct(pw) < 4 {
		return input.Errorf("password", "is too simple; use more different characters")
	}
	return nil
}

func distinct(s string) int {
	seen := map[rune]bool{}
	for _, r := range s {
		seen[r] = true
	}
	return len(seen)
}

// hasher hashes and checks passwords; the cost is lowered in tests only.
//
// bcrypt reads at most 72 bytes, so a longer password would match any
// other with the same first 72 bytes. Hashes are therefore of a pre-hash:
// bcrypt(base64(HMAC-SHA-256(preHashKey, NFC(password)))), 44 bytes, stored
// with the prehashPrefix. Hashes from before (plain bcrypt of the password as
// typed) still verify, never for passwords over 72 bytes, and are replaced
// at the member's next log-in.
type hasher struct{ cost int }

// preHashKey is a fixed label, not a secret: it only separates these
// pre-hashes from any other use of HMAC-SHA-256 over a password.
var preHashKey = []byte("regulars/password/v1")

var prehashPrefix = []byte("$rp1$")

func preHash(pw string) []byte {
	mac := hmac.New(sha256.New, preHashKey)
	mac.Write([]byte(normalizePassword(pw)))
	out := make([]byte, base64.StdEncoding.EncodedLen(sha256.Size))
	base64.StdEncoding.Encode(out, mac.Sum(nil))
	return out
}

func (h hasher) hash(pw string) ([]byte, error) {
	b, err := bcrypt.GenerateFromPassword(preHash(pw), h.cost)
	if err != nil {
		return nil, err
	}
	return append(bytes.Clone(prehashPrefix), b...), nil
}

// dummyHash is compared against when an email is unknown, so a log-in takes
// as long whether or not the account exists.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := hasher{cost: bcrypt.DefaultCost}.hash("regulars-no-such-member")
	return h
})

// check reports whether pw matches hash, and whether the hash is of the old
// kind and should be replaced now that the password is known.
func (h hasher) check(hash []byte, pw string) (ok, rehash bool) {
	if hash == nil {
		_ = bcrypt.CompareHashAndPassword(dummyHash()[len(prehashPrefix):], preHash(pw))
		return false, false
	}
	if rest, ok := bytes.CutPrefix(hash, prehashPrefix); ok {
		return bcrypt.CompareHashAndPassword(rest, preHash(pw)) == nil, false
	}
	// A plain bcrypt hash: its password was at most 72 bytes when set, so a
	// longer one can only be a prefix match and is refused.
	for _, cand := range []string{pw, normalizePassword(pw)} {
		if len(cand) <= 72 && bcrypt.CompareHashAndPassword(hash, []byte(cand)) == nil {
			return true, true
		}
	}
	return false, false
}
