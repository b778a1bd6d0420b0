package game

import (
	"testing"

	"github.com/regulars/regulars/internal/randcode"
)

func TestReferralCodesAndEmailKeys(t *testing.T) {
	c := randcode.New(referralCodeLength)
	for _, r := range c {
		switch r {
		case '0', 'O', '1', 'I', 'L':
			t.Fatalf("code %q has an ambiguous character", c)
		}
	}
	if NormalizeReferralCode(" abc-d ef ") != "ABCDEF" {
		t.Fatal("codes are not normalized as typed")
	}
	if emailKey("A.nn+promo@GoogleMail.com") != emailKey("ann@gmail.com") {
		t.Fatal("gmail aliases of one address differ")
	}
	if emailKey("a.nn@example.com") == emailKey("ann@example.com") {
		t.Fatal("dots matter outside Gmail")
	}
}

func TestMoney(t *testing.T) {
	for _, c := range []struct {
		minor int64
		cur   string
		want  string
	}{{4250, "USD", "42.50 USD"}, {500, "JPY", "500 JPY"}, {1005, "KWD", "1.005 KWD"}} {
		if got := formatMoney(c.minor, c.cur); got != c.want {
			t.Errorf("formatMoney(%d, %s) = %q", c.minor, c.cur, got)
		}
	}
	if ordinal(2) != "2nd" || ordinal(3) != "3rd" || ordinal(11) != "11th" || ordinal(21) != "21st" {
		t.Error("ordinals")
	}
}
