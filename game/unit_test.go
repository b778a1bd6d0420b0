package game

import "testing"

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
