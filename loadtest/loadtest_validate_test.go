package loadtest

import (
	"math"
	"strings"
	"testing"
	"time"
)

// Every setting out of range is refused with a message naming its flag
// and the value given, and only the root problem is reported.
func TestValidateRefusesOutOfRangeSettings(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string // the whole error
	}{
		{"negative rate", func(c *Config) { c.Rates.Me = -5 }, "me-rps: -5, requests per second: 0 (off), or 0.001 to 100000"},
		{"NaN rate", func(c *Config) { c.Rates.Purchase = math.NaN() }, "purchase-rps: NaN, requests per second: 0 (off), or 0.001 to 100000"},
		{"rate paced as 0", func(c *Config) { c.Rates.Refund = 0.0001 }, "refund-rps: 0.0001, requests per second: 0 (off), or 0.001 to 100000"},
		{"negative p99", func(c *Config) { c.P99 = -time.Millisecond }, "p99: -1ms, must not be negative (0: no limit)"},
		{"negative seed-purchases", func(c *Config) { c.SeedPurchases = -1 }, "seed-purchases: -1, must not be negative"},
		{"negative max-error-rate", func(c *Config) { c.MaxErrorRate = -1 }, "max-error-rate: -1, a share from 0 to 1"},
		{"max-error-rate over 1", func(c *Config) { c.MaxErrorRate = 5 }, "max-error-rate: 5, a share from 0 to 1"},
		{"negative drain", func(c *Config) { c.Drain = -time.Minute }, "drain: -1m0s, must not be negative"},
		{"negative offer-at", func(c *Config) { c.OfferAt = -time.Second }, "offer-at: -1s, must not be negative (0: no offer)"},
		{"offer after the run", func(c *Config) { c.Duration = 10 * time.Second }, "offer-at: 20s must fall inside the run (-duration 10s)"},
		{"no members", func(c *Config) { c.Members = 0 }, "members: 0, at least 1"},
		{"negative sockets", func(c *Config) { c.Sockets = -1 }, "sockets: -1, must not be negative"},
		{"more sockets than members", func(c *Config) { c.Sockets = 300 }, "sockets: 300, 0 to members (200)"},
		{"no duration", func(c *Config) { c.Duration = 0 }, "duration: 0s, must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.ServiceKey = "k"
			tc.change(&cfg)
			err := cfg.Validate()
			if err == nil || err.Error() != tc.want {
				t.Errorf("error %q, want %q", err, tc.want)
			}
		})
	}
	cfg := DefaultConfig()
	cfg.ServiceKey = "k"
	if err := cfg.Validate(); err != nil {
		t.Errorf("the defaults: %v", err)
	}
}

// Run refuses a bad setting before sending anything.
func TestRunRefusesABadSettingFirst(t *testing.T) {
	f := newFakeServer(t)
	cfg := quietConfig(f.URL)
	cfg.Rates.Me = -5
	if _, err := Run(t.Context(), cfg); err == nil || !strings.HasPrefix(err.Error(), "me-rps: ") {
		t.Errorf("error %v: want me-rps refused", err)
	}
	if f.count("signUp") > 0 {
		t.Errorf("%d sign-ups sent for a refused run", f.count("signUp"))
	}
}
