package testkit

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// Race runs fn(i) for i in [0, n) on n goroutines released together: every
// goroutine is started and waiting before any runs, so the calls really
// overlap. It returns each call's error, by i. fn must not call t.Fatal
// (it runs off the test goroutine); if it does, or panics, its result is an
// error saying so instead of a lost failure.
func Race(t testing.TB, n int, fn func(i int) error) Results {
	t.Helper()
	if n < 2 {
		t.Fatalf("testkit.Race: %d goroutines is no race", n)
	}
	errs := make(Results, n)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	done.Add(n)
	for i := range n {
		go func() {
			defer done.Done()
			finished := false
			defer func() {
				if r := recover(); r != nil {
					errs[i] = fmt.Errorf("goroutine %d panicked: %v", i, r)
				} else if !finished {
					errs[i] = fmt.Errorf("goroutine %d exited early (t.Fatal off the test goroutine?)", i)
				}
			}()
			ready.Done()
			<-start
			errs[i] = fn(i)
			finished = true
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return errs
}

// Results are the errors of the calls of one Race, by goroutine.
type Results []error

// OK counts the calls that succeeded.
func (r Results) OK() int { return r.Is(nil) }

// Is counts the calls whose error is target (errors.Is); nil counts successes.
func (r Results) Is(target error) int {
	n := 0
	for _, err := range r {
		if (target == nil && err == nil) || (target != nil && errors.Is(err, target)) {
			n++
		}
	}
	return n
}

// Expect fails t for every call that failed with an error other than the
// expected ones (a call that succeeded is always fine).
func (r Results) Expect(t testing.TB, expected ...error) {
	t.Helper()
	for i, err := range r {
		if err == nil {
			continue
		}
		ok := false
		for _, e := range expected {
			ok = ok || errors.Is(err, e)
		}
		if !ok {
			t.Errorf("call %d: %v", i, err)
		}
	}
}

// Eventually polls cond until it holds, failing t with what if it still
// does not after deadline. It waits for a state, never for a time: use it
// where the state comes from another goroutine or process.
func Eventually(t testing.TB, deadline time.Duration, cond func() bool, what string, args ...any) {
	t.Helper()
	end := time.Now().Add(deadline)
	wait := time.Millisecond
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("after %s: "+what, append([]any{deadline}, args...)...)
		}
		time.Sleep(wait)
		wait = min(2*wait, 50*time.Millisecond)
	}
}
