package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/regulars/regulars/loadtest"
)

// The load test of the README, small and short, against the real server:
// every operation of the mix is answered without an error, the held
// subscriptions stay open, and the offer published mid-run reaches each
// of them exactly once. (Its speed figures are BENCHMARKS.md's; this only
// proves the generator and the server agree.)
func TestLoadTestMixRunsClean(t *testing.T) {
	a := startApp(t, map[string]string{"TRUSTED_PROXIES": "127.0.0.1"})
	cfg := loadtest.Config{
		URL: "http://" + a.Addr(), ServiceKey: testAPIKey, Duration: 6 * time.Second, Members: 12, Sockets: 8, OfferAt: 1500 * time.Millisecond, Drain: time.Minute,
		Rates: loadtest.Rates{LogIn: 0.5, Me: 4, Notifications: 2, Leaderboard: 2, CheckIn: 2, Purchase: 3, Refund: 1},
	}
	var log bytes.Buffer
	cfg.Log = &log
	r, err := loadtest.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	var out bytes.Buffer
	if err := r.Write(&out); err != nil {
		t.Fatal(err)
	}
	if len(r.Failures) > 0 || len(r.Ops) != 7 {
		t.Fatalf("the mix against a fresh server:\n%s", out.String())
	}
	for _, o := range r.Ops {
		if o.Requests == 0 || len(o.Errors) > 0 {
			t.Fatalf("%s: %d requests, errors %v\n%s", o.Name, o.Requests, o.Errors, out.String())
		}
	}
	if len(r.Server) < 2 || r.Server[0].Goroutines == 0 || r.Server[0].ResidentMB == 0 || r.Server[len(r.Server)-1].Sockets < 8 {
		t.Fatalf("the server's gauges through the run: %+v", r.Server)
	}
	if r.Sockets.Opened != 8 || r.Offer == nil || r.Offer.Received != 8 || r.Offer.Duplicates != 0 || r.Offer.Members < 12 {
		t.Fatalf("subscriptions and the offer:\n%s", out.String())
	}
	t.Log("\n" + out.String())
	if !strings.Contains(out.String(), "PASS: every threshold held") {
		t.Fatalf("report:\n%s", out.String())
	}

	// A threshold no server meets fails the run, naming the operation.
	cfg.Duration, cfg.OfferAt, cfg.Members, cfg.Sockets, cfg.P99 = 2*time.Second, 0, 1, 0, time.Nanosecond
	cfg.Rates = loadtest.Rates{Me: 2}
	if r, err = loadtest.Run(context.Background(), cfg); err != nil || len(r.Failures) != 1 || !strings.HasPrefix(r.Failures[0], "me: p99 ") {
		t.Fatalf("a 1 ns p99 threshold: %v %+v", err, r)
	}
}
