package main

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/mongotest"
)

// Instances race for the jobs lease: exactly one holds each epoch, and a
// dead holder's lease passes on once it expires, with a newer epoch that
// fences the old holder out.
func TestLeaseOneHolderAtATime(t *testing.T) {
	db := mongotest.Database(t)
	ctx := context.Background()
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	leases := make([]*lease, 8)
	for i := range leases {
		leases[i] = &lease{coll: db.Collection("leases"), job: "periodic", holder: string(rune('a' + i)), ttl: time.Minute, now: now}
	}
	if err := leases[0].ensureIndex(ctx); err != nil {
		t.Fatal(err)
	}
	mongotest.RequireIndexes(t, db.Collection("leases"), indexLeaseJob)
	var winners atomic.Int32
	var winner atomic.Pointer[lease]
	var epoch atomic.Int64
	var wg sync.WaitGroup
	for _, l := range leases {
		wg.Go(func() {
			e, err := l.acquire(ctx)
			if err != nil {
				t.Error(err)
			}
			if e > 0 {
				winners.Add(1)
				winner.Store(l)
				epoch.Store(e)
			}
		})
	}
	wg.Wait()
	if winners.Load() != 1 {
		t.Fatalf("%d instances hold the lease, want 1", winners.Load())
	}
	w := winner.Load()
	if e, _ := w.acquire(ctx); e != epoch.Load() {
		t.Fatalf("the holder could not renew: %d", e)
	}
	// The holder dies; after the ttl another instance takes over.
	clock.Add(int64(2 * time.Minute))
	var next *lease
	for _, l := range leases {
		if l != w {
			next = l
			break
		}
	}
	e2, err := next.acquire(ctx)
	if err != nil || e2 != epoch.Load()+1 {
		t.Fatalf("takeover: epoch %d (%v), want %d", e2, err, epoch.Load()+1)
	}
	if w.holds(ctx, epoch.Load()) {
		t.Fatal("the old holder still believes it holds the lease")
	}
}
