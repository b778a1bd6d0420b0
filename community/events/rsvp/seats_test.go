package rsvp

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/internal/testkit"
)

// A member checked in at the door keeps the seat: the repair job, which
// gives back the seats of RSVPs that no longer hold theirs, leaves an
// attended one alone, and the next member to answer waits. (It released
// them: two checked in, and a third was confirmed on two seats.)
func TestCheckedInMembersKeepTheirSeats(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	e := f.event(t, 2, 0)
	f.clock.Set(e.StartsAt.Add(-time.Hour)) // the door is open
	for i, m := range []bson.ObjectID{bson.NewObjectID(), bson.NewObjectID()} {
		r := testkit.Must(f.s.RSVP(ctx, m, e.ID, 0, "k"))(t)
		if _, err := f.s.Door().CheckIn(ctx, e.ID, f.s.Door().CheckInCode(r)); err != nil {
			t.Fatalf("check-in %d: %v", i, err)
		}
	}
	f.clock.Add(30 * time.Minute) // still before the start: RSVPs open
	testkit.Must(f.s.Jobs().Repair(ctx, time.Minute))(t)
	if left := testkit.Must(f.s.catalog.Get(ctx, e.ID))(t).SeatsLeft(); left != 0 {
		t.Fatalf("%d seats left after two of two were checked in", left)
	}
	if r := testkit.Must(f.s.RSVP(ctx, bson.NewObjectID(), e.ID, 0, "k"))(t); r.Status != Waitlisted {
		t.Fatalf("a third member on a full event: %s", r.Status)
	}
}
