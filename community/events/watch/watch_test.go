package watch

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/community/events"
	"github.com/regulars/regulars/community/events/attendees"
	"github.com/regulars/regulars/community/events/eventstest"
	"github.com/regulars/regulars/community/events/rsvp"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/internal/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

type noAttendance struct{}

func (noAttendance) RecordEventAttendance(context.Context, bson.ObjectID, string, time.Time) error {
	return nil
}

func ptr[T any](v T) *T { return &v }

func next(t *testing.T, ch <-chan *Update) *Update {
	t.Helper()
	select {
	case u, ok := <-ch:
		if !ok {
			t.Fatal("the stream ended")
		}
		return u
	case <-time.After(10 * time.Second):
		t.Fatal("no update in 10 s")
		return nil
	}
}

// The brand's counts move when an RSVP's status changes even though the
// event's version does not (a seat is taken first, the RSVP reads
// confirmed after): the update after the second wake-up goes out at the
// same cursor, and a wake-up that changes nothing sends nothing. A client
// resuming from the cursor it has gets nothing until something changes.
func TestCountsChangeWithoutVersion(t *testing.T) {
	db := testkit.Database(t)
	clock := testkit.NewClock(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	in := inbox.New(db, inbox.NewMemoryBroker())
	ev := events.New(db, events.Deps{Standing: &eventstest.Standing{}, Notify: in, Now: clock.Now})
	rsvps := rsvp.New(db, ev, rsvp.Deps{Activities: noAttendance{}, Notify: in, Secret: []byte(strings.Repeat("k", 32)), Now: clock.Now})
	ev.Seating = rsvps
	counts := attendees.New(db, ev, attendees.Deps{Notify: in, Now: clock.Now})
	testkit.EnsureIndexes(t, ev.EnsureIndexes, rsvps.EnsureIndexes, in.EnsureIndexes)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := clock.Now().Add(72 * time.Hour)
	e, err := ev.Create(ctx, events.Input{Title: ptr("Spring ride"), Place: &events.Place{Venue: "HOG Club", Address: "1 Main St"},
		StartsAt: &start, EndsAt: ptr(start.Add(3 * time.Hour)), Timezone: ptr("Europe/Paris"), Capacity: ptr(2), GuestsPerMember: ptr(0)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ev.Publish(ctx, e.ID); err != nil {
		t.Fatal(err)
	}
	ann, brand := bson.NewObjectID(), bson.NewObjectID()
	testkit.Must(rsvps.RSVP(ctx, ann, e.ID, 0, "a"))(t)

	live, err := Event(ctx, ev, rsvps, brand, e.ID, -1, counts)
	if err != nil {
		t.Fatal(err)
	}
	u := next(t, live)
	if u.Counts == nil || u.Counts.Confirmed != 1 || u.Counts.Waitlisted != 0 {
		t.Fatalf("first update: %+v", u.Counts)
	}
	// Ann's RSVP reads waitlisted without the event changing, as between
	// a seat's update and its RSVP's.
	if _, err := db.Collection("event_rsvps").UpdateOne(ctx, bson.D{{Key: "eventId", Value: e.ID}, {Key: "memberId", Value: ann}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: rsvp.Waitlisted}}}}); err != nil {
		t.Fatal(err)
	}
	ev.Changed(e.ID)
	v := next(t, live)
	if v.Cursor != u.Cursor || v.Counts.Confirmed != 0 || v.Counts.Waitlisted != 1 {
		t.Fatalf("after the status changed: cursor %d (was %d), %+v", v.Cursor, u.Cursor, v.Counts)
	}
	ev.Changed(e.ID) // nothing changed: nothing sent
	select {
	case w := <-live:
		t.Fatalf("an update with nothing new: %+v", w)
	case <-time.After(300 * time.Millisecond):
	}

	resumed, err := Event(ctx, ev, rsvps, brand, e.ID, v.Cursor, counts)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case w := <-resumed:
		t.Fatalf("a resumed client got what it has: %+v", w)
	case <-time.After(300 * time.Millisecond):
	}
	if _, err := db.Collection("event_rsvps").UpdateOne(ctx, bson.D{{Key: "eventId", Value: e.ID}, {Key: "memberId", Value: ann}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: rsvp.Confirmed}}}}); err != nil {
		t.Fatal(err)
	}
	ev.Changed(e.ID)
	if w := next(t, resumed); w.Counts.Confirmed != 1 {
		t.Fatalf("resumed, after the status changed back: %+v", w.Counts)
	}
}
