package edge

import (
	"net/netip"
	"testing"
)

func TestClientAddress(t *testing.T) {
	ps := ParseProxies([]string{"10.0.0.0/8", "192.0.2.1"})
	peer := netip.MustParseAddr
	for _, c := range []struct {
		peer string
		xff  []string
		want string
	}{
		{"198.51.100.1", []string{"203.0.113.1"}, "198.51.100.1"}, // untrusted peer: header ignored
		{"10.1.2.3", nil, "10.1.2.3"},
		{"10.1.2.3", []string{"203.0.113.1"}, "203.0.113.1"},
		{"192.0.2.1", []string{"1.1.1.1, 203.0.113.1, 10.9.9.9"}, "203.0.113.1"},
		{"10.1.2.3", []string{"10.2.2.2, 10.3.3.3"}, "10.2.2.2"},
		{"10.1.2.3", []string{"203.0.113.1, garbage"}, "10.1.2.3"},
		{"::ffff:10.1.2.3", []string{"2001:db8::1"}, "2001:db8::1"},
	} {
		if got := ps.Client(peer(c.peer), c.xff).String(); got != c.want {
			t.Errorf("peer %s, X-Forwarded-For %q: %s, want %s", c.peer, c.xff, got, c.want)
		}
	}
}
