package rules

import "testing"

func TestOrdinal(t *testing.T) {
	if ordinal(2) != "2nd" || ordinal(3) != "3rd" || ordinal(11) != "11th" || ordinal(21) != "21st" {
		t.Error("ordinals")
	}
}
