package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/regulars/regulars/graph/relay"

	"github.com/regulars/regulars/internal/testkit"
)

// BenchmarkIdentifyMember: identifyMember end to end, over HTTP and
// GraphQL with the service key, BENCH_CLIENTS at a time (default 4), over
// BENCH_MEMBERS members (default 200) with cards, each with a purchase so
// their tier and points are read from a real ledger. Sub-benchmarks: by
// the printed code, by a QR payload. Reported: identifications/s, p50-ms,
// p99-ms, errors (must be 0).
//
//	go test ./server -run '^$' -bench IdentifyMember -benchtime 400x
func BenchmarkIdentifyMember(b *testing.B) {
	n, clients := envInt("BENCH_MEMBERS", 200), envInt("BENCH_CLIENTS", 4)
	a := startApp(b, map[string]string{"RATE_LIMIT_IP_RPS": "1000000", "RATE_LIMIT_IP_BURST": "1000000"})
	a.setProgram(b)
	ms, _ := benchMembers(b, a, n)
	ctx := context.Background()
	codes := make([]string, n)
	for i, m := range ms {
		a.service(b, recordActivity, purchaseVars(relay.EncodeID("Member", m.ID), fmt.Sprint("bench-", i), 1000)).decode(b, "recordActivity", &activityResult{})
		c, err := a.till.Card(ctx, m.ID)
		if err != nil {
			b.Fatal(err)
		}
		codes[i] = c.Code
	}
	run := func(b *testing.B, code func(i int) string) {
		var lat testkit.Latencies
		var failed atomic.Int64
		var next atomic.Int64
		b.ResetTimer()
		var wg sync.WaitGroup
		for range clients {
			wg.Go(func() {
				for {
					i := int(next.Add(1)) - 1
					if i >= b.N {
						return
					}
					c := code(i % n)
					start := time.Now()
					r, err := a.post("ApiKey "+testAPIKey, identifyQuery, map[string]any{"c": c})
					lat.Add(time.Since(start))
					if err != nil || len(r.Errors) > 0 {
						failed.Add(1)
					}
				}
			})
		}
		wg.Wait()
		lat.Report(b, "", "identifications/s")
		b.ReportMetric(0, "ns/op")
		b.ReportMetric(float64(failed.Load()), "errors")
	}
	b.Run("code", func(b *testing.B) { run(b, func(i int) string { return codes[i] }) })
	b.Run("qr", func(b *testing.B) {
		// Payloads made before the clock starts, fresh for 60 seconds.
		qrs := make([]string, n)
		for i, m := range ms {
			c, err := a.till.Card(ctx, m.ID)
			if err != nil {
				b.Fatal(err)
			}
			qrs[i] = c.QRPayload
		}
		run(b, func(i int) string { return qrs[i] })
	})
}

// envInt reads a positive integer from the environment, or def.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
