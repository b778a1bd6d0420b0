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

// A holder that shuts down releases its grant: the next instance takes the
// lease at once, under a newer epoch, without waiting out the ttl; a
// release of a grant no longer held changes nothing.
func TestLeaseReleasedOnShutdown(t *testing.T) {
	db := testkit.Database(t)
	ctx := context.Background()
	clock := testkit.NewClock(time.Now())
	a := New(db.Collection("leases"), "periodic", "a", time.Minute, clock.Now)
	b := New(db.Collection("leases"), "periodic", "b", time.Minute, clock.Now)
	testkit.EnsureIndexes(t, a.EnsureIndex)
	ea := testkit.Must(a.Acquire(ctx))(t)
	if eb := testkit.Must(b.Acquire(ctx))(t); ea != 1 || eb != 0 {
		t.Fatalf("epochs %d and %d, want 1 and 0", ea, eb)
	}
	if err := b.Release(ctx, ea); err != nil {
		t.Fatal(err)
	}
	if !a.Holds(ctx, ea) {
		t.Fatal("another instance's release ended a's grant")
	}
	if err := a.Release(ctx, ea); err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Millisecond)
	if eb := testkit.Must(b.Acquire(ctx))(t); eb != ea+1 {
		t.Fatalf("after the release b took epoch %d, want %d", eb, ea+1)
	}
	if err := a.Release(ctx, ea); err != nil {
		t.Fatal(err)
	}
	if !b.Holds(ctx, ea+1) {
		t.Fatal("a late release of the old epoch ended the new holder's grant")
	}
}
