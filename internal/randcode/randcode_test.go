package randcode

import (
	"regexp"
	"testing"
)

func TestVoucherReadsAloud(t *testing.T) {
	grouped := regexp.MustCompile(`^[` + Alphabet + `]{4}(-[` + Alphabet + `]{4}){3}$`)
	seen := map[string]bool{}
	for range 100 {
		v := Voucher()
		if !grouped.MatchString(v) {
			t.Fatalf("voucher %q is not four groups of four unambiguous characters", v)
		}
		if seen[v] {
			t.Fatalf("voucher %q drawn twice in 100", v)
		}
		seen[v] = true
	}
}
