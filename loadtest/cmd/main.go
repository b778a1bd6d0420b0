// Command cmd runs the load test against a Regulars server:
//
//	go run ./loadtest/cmd -url http://127.0.0.1:8080 -service-key "$SERVICE_KEY"
//
// It exits 1 when a threshold is broken (-p99, -max-error-rate), 2 when
// the run could not be carried out and 130 when interrupted (Ctrl-C: the
// report of what ran is printed first; a second Ctrl-C quits at once).
// -h lists every setting.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/regulars/regulars/loadtest"
)

// exitInterrupted is the exit code of a run interrupted by SIGINT, as a
// shell reports a command killed by it (128 + 2).
const exitInterrupted = 130

func main() {
	cfg := loadtest.DefaultConfig()
	cfg.ServiceKey = os.Getenv("SERVICE_KEY")
	flag.StringVar(&cfg.URL, "url", cfg.URL, "the server's base URL")
	flag.StringVar(&cfg.ServiceKey, "service-key", cfg.ServiceKey, "a SERVICE_API_KEYS key (default $SERVICE_KEY)")
	flag.DurationVar(&cfg.Duration, "duration", cfg.Duration, "how long the mix runs")
	flag.IntVar(&cfg.Members, "members", cfg.Members, "members signed up for the run, each from an address of its own")
	flag.IntVar(&cfg.Sockets, "sockets", cfg.Sockets, "members holding a notifications subscription open")
	flag.IntVar(&cfg.SeedPurchases, "seed-purchases", cfg.SeedPurchases, "purchases recorded per member before the run (the brand's history)")
	flag.DurationVar(&cfg.OfferAt, "offer-at", cfg.OfferAt, "publish an offer to everyone this far into the run (0: none)")
	flag.DurationVar(&cfg.Drain, "drain", cfg.Drain, "after the mix, how long to wait for the offer to reach every subscriber")
	flag.Float64Var(&cfg.Rates.LogIn, "login-rps", cfg.Rates.LogIn, "logIn per second")
	flag.Float64Var(&cfg.Rates.Me, "me-rps", cfg.Rates.Me, "me (points, tier) per second")
	flag.Float64Var(&cfg.Rates.Notifications, "notifications-rps", cfg.Rates.Notifications, "notifications pages per second")
	flag.Float64Var(&cfg.Rates.Leaderboard, "leaderboard-rps", cfg.Rates.Leaderboard, "leaderboard pages per second")
	flag.Float64Var(&cfg.Rates.CheckIn, "checkin-rps", cfg.Rates.CheckIn, "checkIn per second")
	flag.Float64Var(&cfg.Rates.Purchase, "purchase-rps", cfg.Rates.Purchase, "purchases reported by the brand per second")
	flag.Float64Var(&cfg.Rates.Refund, "refund-rps", cfg.Rates.Refund, "refunds reported by the brand per second")
	flag.DurationVar(&cfg.P99, "p99", cfg.P99, "fail when an operation's p99 is over this (0: no limit)")
	flag.Float64Var(&cfg.MaxErrorRate, "max-error-rate", cfg.MaxErrorRate, "fail when more than this share of an operation's requests fail (RATE_LIMITED not counted)")
	asJSON := flag.Bool("json", false, "print the report as JSON")
	flag.Parse()
	cfg.Log = os.Stderr

	// The first Ctrl-C ends the run and prints what it measured; after it
	// SIGINT is the default again, so a second one quits at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		stop()
		fmt.Fprintln(os.Stderr, "loadtest: interrupted, stopping (Ctrl-C again to quit at once)")
	}()
	r, err := loadtest.Run(ctx, cfg)
	if errors.Is(err, loadtest.ErrInterrupted) {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(exitInterrupted)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(2)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(r)
	} else {
		err = r.Write(os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(2)
	}
	if r.Interrupted {
		os.Exit(exitInterrupted)
	}
	if len(r.Failures) > 0 {
		os.Exit(1)
	}
}
