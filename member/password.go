package member

import (
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/regulars/regulars/input"
)

// Password limits. bcrypt reads at most 72 bytes, so longer ones are refused
// rather than silently truncated.
const (
	MinPassword      = 8
	MaxPasswordBytes = 72
)

// commonPasswords are refused outright: they are the first ones an attacker tries.
var commonPasswords = map[string]bool{
	"password": true, "password1": true, "password123": true, "12345678": true,
	"123456789": true, "1234567890": true, "qwertyuiop": true, "qwerty123": true,
	"11111111": true, "iloveyou": true, "sunshine": true, "letmein1": true,
	"football": true, "baseball": true, "welcome1": true, "abcdefgh": true,
	"00000000": true, "passw0rd": true, "trustno1": true, "superman": true,
}

func checkPassword(pw, email string) error {
	switch {
	case utf8.RuneCountInString(pw) < MinPassword:
		return input.Errorf("password", "must be at least %d characters", MinPassword)
	case len(pw) > MaxPasswordBytes:
		return input.Errorf("password", "must be at most %d bytes", MaxPasswordBytes)
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
type hasher struct{ cost int }

func (h hasher) hash(pw string) ([]byte, error) {
	return bcrypt.GenerateFromPassword([]byte(pw), h.cost)
}

// dummyHash is compared against when an email is unknown, so a log-in takes
// as long whether or not the account exists.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("regulars-no-such-member"), bcrypt.DefaultCost)
	return h
})

func (h hasher) check(hash []byte, pw string) bool {
	if hash == nil {
		_ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(pw))
		return false
	}
	return bcrypt.CompareHashAndPassword(hash, []byte(pw)) == nil
}
