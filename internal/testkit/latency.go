package testkit

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// Latencies collects durations, from any goroutine, for a benchmark's
// p50/p99 report.
type Latencies struct {
	mu    sync.Mutex
	d     []time.Duration
	start time.Time
}

// Add records one duration, which ended now.
func (l *Latencies) Add(d time.Duration) {
	l.mu.Lock()
	if l.start.IsZero() {
		l.start = time.Now().Add(-d)
	}
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// Len is how many durations were recorded.
func (l *Latencies) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.d)
}

// Quantile returns the q-quantile (0 ≤ q ≤ 1; 1 is the longest) of the
// recorded durations, 0 if there are none.
func (l *Latencies) Quantile(q float64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return 0
	}
	slices.Sort(l.d)
	return l.d[min(int(float64(len(l.d))*q), len(l.d)-1)]
}

// Report stops b's timer and reports prefix+"p50-ms" and prefix+"p99-ms"
// and, if rate is not empty, the rate since the first duration began in
// rate units (say "activities/s").
func (l *Latencies) Report(b *testing.B, prefix, rate string) {
	b.StopTimer()
	n := l.Len()
	if n == 0 {
		return
	}
	if rate != "" {
		l.mu.Lock()
		elapsed := time.Since(l.start)
		l.mu.Unlock()
		b.ReportMetric(float64(n)/elapsed.Seconds(), rate)
	}
	b.ReportMetric(ms(l.Quantile(0.5)), prefix+"p50-ms")
	b.ReportMetric(ms(l.Quantile(0.99)), prefix+"p99-ms")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
