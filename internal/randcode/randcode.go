// Package randcode makes random codes people read and type: referral codes,
// redemption codes shown at a till.
package randcode

import (
	"crypto/rand"
	"strings"
)

// Alphabet has no characters that read alike: no 0/O, no 1/I/L.
const Alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// New returns n random characters of Alphabet (about 4.95 bits each).
func New(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = Alphabet[int(b[i])%len(Alphabet)]
	}
	return string(b)
}

// Voucher is 16 characters of Alphabet (about 79 bits), grouped by four for
// reading aloud at a till: a redemption's or a coupon's code.
func Voucher() string {
	c := New(16)
	return c[0:4] + "-" + c[4:8] + "-" + c[8:12] + "-" + c[12:16]
}

// ParseVoucher returns the canonical form of a voucher code as a till
// typed or scanned it (any case, hyphens optional), and whether it is one.
func ParseVoucher(code string) (string, bool) {
	c := strings.ToUpper(code)
	if len(c) == 16 && !strings.Contains(c, "-") {
		c = c[0:4] + "-" + c[4:8] + "-" + c[8:12] + "-" + c[12:16]
	}
	if len(c) != 19 {
		return "", false
	}
	for i := range len(c) {
		if i%5 == 4 {
			if c[i] != '-' {
				return "", false
			}
		} else if strings.IndexByte(Alphabet, c[i]) < 0 {
			return "", false
		}
	}
	return c, true
}
