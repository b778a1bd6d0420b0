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
	"io"
	"os"
	"os/signal"

	"github.com/regulars/regulars/loadtest"
)

// exitInterrupted is the exit code of a run interrupted by SIGINT, as a
// shell reports a command killed by it (128 + 2).
const exitInterrupted = 130

func main() {
	cfg, asJSON, err := settings(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		os.Exit(2) // the flag package has said what
	}
	cfg.Log = os.Stderr

	// The first Ctrl-C ends the run and prints what it measured; after it
	// SIGINT is the default again, so a second one quits at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	finished := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			fmt.Fprintln(os.Stderr, "loadtest: interrupted, stopping (Ctrl-C again to quit at once)")
			stop()
		case <-finished:
		}
	}()
	r, err := loadtest.Run(ctx, cfg)
	close(finished)
	if errors.Is(err, loadtest.ErrInterrupted) {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(exitInterrupted)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(2)
	}
	if asJSON {
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

// settings reads the command line args into a run's settings, the
// service key from $SERVICE_KEY when -service-key is not given. Usage and
// errors go to out. The key is never a flag's default: -h would print it
// to a terminal or a CI log.
func settings(args []string, getenv func(string) string, out io.Writer) (loadtest.Config, bool, error) {
	cfg := loadtest.DefaultConfig()
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&cfg.URL, "url", cfg.URL, "the server's base URL")
	fs.StringVar(&cfg.ServiceKey, "service-key", "", "a SERVICE_API_KEYS key (default $SERVICE_KEY)")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "how long the mix runs (from its start, after the set-up)")
	fs.IntVar(&cfg.Members, "members", cfg.Members, "members signed up for the run, each from an address of its own")
	fs.IntVar(&cfg.Sockets, "sockets", cfg.Sockets, "members holding a notifications subscription open")
	fs.IntVar(&cfg.SeedPurchases, "seed-purchases", cfg.SeedPurchases, "purchases recorded per member before the run (the brand's history)")
	fs.DurationVar(&cfg.OfferAt, "offer-at", cfg.OfferAt, "publish an offer to everyone this far into the mix (0: none)")
	fs.DurationVar(&cfg.Drain, "drain", cfg.Drain, "after the mix, how long to wait for the offer to reach every subscriber")
	fs.Float64Var(&cfg.Rates.LogIn, "login-rps", cfg.Rates.LogIn, "logIn per second")
	fs.Float64Var(&cfg.Rates.Me, "me-rps", cfg.Rates.Me, "me (points, tier) per second")
	fs.Float64Var(&cfg.Rates.Notifications, "notifications-rps", cfg.Rates.Notifications, "notifications pages per second")
	fs.Float64Var(&cfg.Rates.Leaderboard, "leaderboard-rps", cfg.Rates.Leaderboard, "leaderboard pages per second")
	fs.Float64Var(&cfg.Rates.CheckIn, "checkin-rps", cfg.Rates.CheckIn, "checkIn per second")
	fs.Float64Var(&cfg.Rates.Purchase, "purchase-rps", cfg.Rates.Purchase, "purchases reported by the brand per second")
	fs.Float64Var(&cfg.Rates.Refund, "refund-rps", cfg.Rates.Refund, "refunds reported by the brand per second")
	fs.DurationVar(&cfg.P99, "p99", cfg.P99, "fail when an operation's p99 is over this (0: no limit)")
	fs.Float64Var(&cfg.MaxErrorRate, "max-error-rate", cfg.MaxErrorRate, "fail when more than this share of an operation's requests fail (RATE_LIMITED not counted)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return cfg, false, err
	}
	if cfg.ServiceKey == "" {
		cfg.ServiceKey = getenv("SERVICE_KEY")
	}
	return cfg, *asJSON, nil
}
