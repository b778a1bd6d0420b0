package relay

import (
	"testing"

	"github.com/regulars/regulars/input"
)

// A string cursor gives back its position for its own list only; nil and
// "" are the start; anything else is BAD_USER_INPUT on after.
func TestStringCursors(t *testing.T) {
	c := EncodeStringCursor("threads.TOP", "12.0a")
	if pos, err := DecodeStringCursor("threads.TOP", &c); err != nil || pos != "12.0a" {
		t.Fatalf("round trip: %q %v", pos, err)
	}
	empty := ""
	for _, start := range []*string{nil, &empty} {
		if pos, err := DecodeStringCursor("threads.TOP", start); err != nil || pos != "" {
			t.Fatalf("the start: %q %v", pos, err)
		}
	}
	for _, bad := range []string{"garbage", EncodeStringCursor("threads.NEW", "12.0a"), EncodeStringCursor("threads.TOP", "")} {
		if _, err := DecodeStringCursor("threads.TOP", &bad); func() bool { e, ok := input.As(err); return !ok || e.Field != "after" }() {
			t.Errorf("cursor %q: %v, want an input error on after", bad, err)
		}
	}
}
