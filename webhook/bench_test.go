package webhook

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/testkit"
)

// BenchmarkSlowAndFastEndpoint: b.N events to a fast endpoint (answering
// at once), alone and beside a slow one (answering in 2 s) subscribed to
// the same events. Reported: the fast endpoint's deliveries per second and
// its latency from Emit to receipt (p50/p99), and how many the slow one
// got meanwhile (bounded by its slots: 4 per 2 s). The slow endpoint must
// not change the fast one's figures.
//
//	go test ./webhook -run '^$' -bench SlowAndFast -benchtime 100x
func BenchmarkSlowAndFastEndpoint(b *testing.B) {
	b.Run("fast-alone", func(b *testing.B) { benchEndpoints(b, false) })
	b.Run("fast-beside-slow", func(b *testing.B) { benchEndpoints(b, true) })
}

func benchEndpoints(b *testing.B, withSlow bool) {
	s := New(testkit.Database(b), Deps{Timeout: 10 * time.Second})
	testkit.EnsureIndexes(b, s.EnsureIndexes)
	var slowDone atomic.Int64
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
			slowDone.Add(1)
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	var mu sync.Mutex
	emitted := map[string]time.Time{}
	var lat testkit.Latencies
	all := make(chan struct{})
	var got atomic.Int64
	fast := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("Regulars-Event-Id")
		mu.Lock()
		at, ok := emitted[id]
		mu.Unlock()
		if ok {
			lat.Add(time.Since(at))
		}
		if got.Add(1) == int64(b.N) {
			close(all)
		}
	}))
	defer fast.Close()
	ctx := context.Background()
	urls := []string{fast.URL}
	if withSlow {
		urls = append(urls, slow.URL)
	}
	for _, u := range urls {
		if _, err := s.Create(ctx, EndpointInput{URL: &u, Events: []string{string(ActivityRecorded)}}); err != nil {
			b.Fatal(err)
		}
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); s.Run(runCtx, Loop{Tick: 50 * time.Millisecond}) }()
	b.ResetTimer()
	for i := range b.N {
		e := Event{Type: ActivityRecorded, Cause: fmt.Sprint(i)}
		mu.Lock()
		emitted[e.ID()] = time.Now()
		mu.Unlock()
		if err := s.Emit(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
	<-all
	lat.Report(b, "fast-", "fast-deliveries/s")
	if withSlow {
		b.ReportMetric(float64(slowDone.Load()), "slow-delivered")
	}
	cancel()
	<-done
}
