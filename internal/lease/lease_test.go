package lease

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// Instances race for the jobs lease: exactly one holds each epoch, and a
// dead holder's lease passes on once it expires, with a newer epoch that
// fences the old holder out.
func TestLeaseOneHolderAtATime(t *testing.T) {
	db := testkit.Database(t)
	ctx := context.Background()
	clock := testkit.NewClock(time.Now())
	leases := make([]*Lease, 50)
	for i := range leases {
		leases[i] = New(db.Collection("leases"), "periodic", fmt.Sprint("instance-", i), time.Minute, clock.Now)
	}
	testkit.EnsureIndexes(t, leases[0].EnsureIndex)
	testkit.RequireIndexes(t, db.Collection("leases"), IndexJob)
	epochs := make([]int64, len(leases))
	res := testkit.Race(t, len(leases), func(i int) error {
		var err error
		epochs[i], err = leases[i].Acquire(ctx)
		return err
	})
	res.Expect(t)
	var w *Lease
	var winners int
	var epoch int64
	for i, e := range epochs {
		if e > 0 {
			winners++
			w, epoch = leases[i], e
		}
	}
	if winners != 1 {
		t.Fatalf("%d instances hold the lease, want 1", winners)
	}
	if n := testkit.Count(t, db.Collection("leases"), nil); n != 1 {
		t.Fatalf("%d lease documents, want 1", n)
	}
	if !w.Holds(ctx, epoch) {
		t.Fatal("the database does not name the winner as holder")
	}
	if e, err := w.Acquire(ctx); err != nil || e != epoch {
		t.Fatalf("the holder could not renew: %d %v", e, err)
	}
	// The holder dies; after the ttl another instance takes over.
	clock.Add(2 * time.Minute)
	var next *Lease
	for _, l := range leases {
		if l != w {
			next = l
			break
		}
	}
	e2, err := next.Acquire(ctx)
	if err != nil || e2 != epoch+1 {
		t.Fatalf("takeover: epoch %d (%v), want %d", e2, err, epoch+1)
	}
	if w.Holds(ctx, epoch) {
		t.Fatal("the old holder still believes it holds the lease")
	}
}
