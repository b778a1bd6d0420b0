package testkit

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// Race runs every call and returns its error by index.
func TestRaceCollectsResults(t *testing.T) {
	const n = 50
	var started atomic.Int32
	res := Race(t, n, func(i int) error {
		if s := started.Add(1); s == 1 {
			return nil
		}
		if i%2 == 0 {
			return errOdd
		}
		return nil
	})
	if started.Load() != n || len(res) != n {
		t.Fatalf("%d of %d ran", started.Load(), n)
	}
	if res.OK()+res.Is(errOdd) != n || res.Is(errOdd) == 0 {
		t.Fatalf("results %v", res)
	}
}

var errOdd = errors.New("odd")

// A goroutine that calls t.Fatal or panics yields an error, not a lost
// failure or a crash.
func TestRaceReportsGoexitAndPanic(t *testing.T) {
	res := Race(t, 2, func(i int) error {
		if i == 0 {
			panic("boom")
		}
		return nil
	})
	if res[0] == nil || res[1] != nil || res.OK() != 1 {
		t.Fatalf("results %v", res)
	}
}

func TestEventuallyAndClock(t *testing.T) {
	c := NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	go c.Add(time.Hour)
	Eventually(t, 5*time.Second, func() bool { return c.Now().Hour() == 1 }, "the clock never moved")
	c.Set(time.Time{})
	if !c.Now().IsZero() {
		t.Fatal("Set did not set")
	}
}

func TestLatencies(t *testing.T) {
	var l Latencies
	for i := 1; i <= 100; i++ {
		l.Add(time.Duration(i) * time.Millisecond)
	}
	if l.Quantile(0.5) != 51*time.Millisecond || l.Quantile(0.99) != 100*time.Millisecond {
		t.Fatalf("p50 %s p99 %s", l.Quantile(0.5), l.Quantile(0.99))
	}
}
