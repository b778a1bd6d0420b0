package jobs

import (
	"context"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/lease"
	"github.com/regulars/regulars/internal/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// A kick starts a round at once (the interval is an hour); rounds run under
// one epoch while the lease is held, and a shutdown releases the lease so
// another instance takes it at its first try, with a newer epoch.
func TestPeriodicRunsWhenKickedAndHandsOverOnShutdown(t *testing.T) {
	db := testkit.Database(t)
	leases := db.Collection("leases")
	kick := make(chan struct{})
	rounds := make(chan int64)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var starts []int64
	go func() {
		defer close(done)
		Periodic{
			Lease:    lease.New(leases, "periodic", Holder(), time.Hour, time.Now),
			Interval: time.Hour,
			Kicks:    []<-chan struct{}{kick},
			Round: func(ctx context.Context, stillHeld func() bool) {
				if !stillHeld() {
					t.Error("a round's own lease is not held")
				}
			},
			Observe: func(epoch int64, start bool) {
				if start {
					starts = append(starts, epoch)
				} else {
					rounds <- epoch
				}
			},
		}.Run(ctx)
	}()
	first := <-rounds
	kick <- struct{}{}
	if again := <-rounds; again != first {
		t.Errorf("kicked round under epoch %d, want the held %d", again, first)
	}
	cancel()
	<-done
	if len(starts) != 2 {
		t.Errorf("rounds started: %v, want 2", starts)
	}
	other := lease.New(leases, "periodic", Holder(), time.Hour, time.Now)
	epoch, err := other.Acquire(context.Background())
	if err != nil || epoch != first+1 {
		t.Fatalf("another instance after shutdown: epoch %d, %v; want %d (the lease released)", epoch, err, first+1)
	}
}

// WhileHeld works only on the instance holding the lease, at once and at
// every tick.
func TestWhileHeldWorksOnlyForTheHolder(t *testing.T) {
	db := testkit.Database(t)
	leases := db.Collection("leases")
	holder := lease.New(leases, "push", Holder(), time.Hour, time.Now)
	if e, err := holder.Acquire(context.Background()); err != nil || e == 0 {
		t.Fatalf("acquire: %d %v", e, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	other := make(chan struct{})
	otherWorked := false
	go func() {
		defer close(other)
		WhileHeld(ctx, "push", lease.New(leases, "push", Holder(), time.Hour, time.Now), time.Millisecond, func(context.Context) { otherWorked = true })
	}()
	passes := 0
	WhileHeld(ctx, "push", holder, time.Millisecond, func(context.Context) {
		if passes++; passes == 3 {
			cancel()
		}
	})
	<-other
	if passes != 3 {
		t.Errorf("the holder worked %d times, want 3", passes)
	}
	if otherWorked {
		t.Error("an instance not holding the lease did the work")
	}
}
