package main

import (
	"context"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/testkit"
)

// at moves an event input's start to the clock's now plus d (three hours long).
func at(clock *testkit.Clock, d time.Duration) func(in map[string]any) {
	return func(in map[string]any) {
		start := clock.Now().UTC().Add(d).Truncate(time.Minute)
		in["startsAt"], in["endsAt"] = start.Format(time.RFC3339), start.Add(3*time.Hour).Format(time.RFC3339)
	}
}

// The no-show penalty, set by the brand: a member marked NO_SHOW who joins
// a waitlist before a good member of the same tier is served after them
// and sees why on their RSVP; with the penalty off the order is join time.
func TestNoShowPenaltyThroughTheAPI(t *testing.T) {
	clock := testkit.NewClock(time.Now().UTC())
	a := startApp(t, nil, func(m *Main) { m.eventClock = clock.Now })
	a.setProgram(t)
	setPenalty := func(n int) {
		var p struct{ EventNoShowPenaltyEvents int }
		a.service(t, `mutation($n: Int) { updateProgram(input: {eventNoShowPenaltyEvents: $n}) { eventNoShowPenaltyEvents } }`, map[string]any{"n": n}).
			decode(t, "updateProgram", &p)
		if p.EventNoShowPenaltyEvents != n {
			t.Fatalf("penalty set to %d, program says %d", n, p.EventNoShowPenaltyEvents)
		}
	}
	setPenalty(1)
	ann, bob, cat := a.signUp(t, "ann@example.com"), a.signUp(t, "bob@example.com"), a.signUp(t, "cat@example.com")
	missed := a.publishedEvent(t, func(in map[string]any) { at(clock, 72*time.Hour)(in); in["title"] = "Spring ride" })
	if r := a.rsvp(t, ann, missed, 0, "m-1"); r.Status != "CONFIRMED" {
		t.Fatalf("ann at the ride: %+v", r)
	}
	clock.Add(80 * time.Hour)
	if _, err := a.rsvps.Jobs().MarkNoShows(context.Background()); err != nil {
		t.Fatal(err)
	}

	type penalized struct {
		Position      *int
		NoShowPenalty *struct {
			MissedEventTitle string
			MissedAt         time.Time
			Events           int
		}
	}
	mine := func(s session, id string) penalized {
		var e struct{ MyRsvp penalized }
		a.do(t, s.bearer(), `query($id: ID!) { event(id: $id) { myRsvp { position noShowPenalty { missedEventTitle missedAt events } } } }`,
			map[string]any{"id": id}).decode(t, "event", &e)
		return e.MyRsvp
	}
	// One seat, Cat's; Ann joins the waitlist before Bob.
	line := func() string {
		id := a.publishedEvent(t, func(in map[string]any) { at(clock, 72*time.Hour)(in); in["capacity"] = 1 })
		a.rsvp(t, cat, id, 0, "c-"+id)
		a.rsvp(t, ann, id, 0, "a-"+id)
		clock.Add(time.Minute)
		a.rsvp(t, bob, id, 0, "b-"+id)
		return id
	}
	id := line()
	if r := mine(ann, id); r.Position == nil || *r.Position != 2 || r.NoShowPenalty == nil ||
		r.NoShowPenalty.MissedEventTitle != "Spring ride" || r.NoShowPenalty.Events != 1 || r.NoShowPenalty.MissedAt.IsZero() {
		t.Fatalf("ann after her no-show: %+v", r)
	}
	if r := mine(bob, id); r.Position == nil || *r.Position != 1 || r.NoShowPenalty != nil {
		t.Fatalf("bob: %+v", r)
	}
	a.do(t, cat.bearer(), `mutation($id: ID!) { cancelRsvp(eventId: $id) { status } }`, map[string]any{"id": id})
	if r := a.myRsvp(t, bob, id); r.Status != "OFFERED" {
		t.Fatalf("the freed seat did not go to bob: %+v", r)
	}
	// Off: the order is join time again.
	setPenalty(0)
	id = line()
	if r := mine(ann, id); r.Position == nil || *r.Position != 1 || r.NoShowPenalty != nil {
		t.Fatalf("ann with the penalty off: %+v", r)
	}
	// The bound: past 100 is refused, naming the field.
	if r := a.service(t, `mutation { updateProgram(input: {eventNoShowPenaltyEvents: 101}) { version } }`, nil); r.code() != "BAD_USER_INPUT" {
		t.Fatalf("101: %q", r.code())
	}
}

// The brand sees how far the announcement of a published event got; a
// member sees nothing of it.
func TestAnnouncementProgressForTheBrand(t *testing.T) {
	a := startApp(t, nil)
	a.setProgram(t)
	ann := a.signUp(t, "ann@example.com")
	a.signUp(t, "bob@example.com")
	a.signUp(t, "cat@example.com")
	var draft struct{ ID string }
	a.service(t, createEventMutation, map[string]any{"in": eventInput(nil)}).decode(t, "createEvent", &draft)
	type progress struct {
		Announcement *struct {
			Done                             bool
			Walked, Audience, Eligible, Sent int
			StartedAt, FinishedAt            *time.Time
		}
	}
	const q = `query($id: ID!) { event(id: $id) { announcement { done walked audience eligible sent startedAt finishedAt } } }`
	var p progress
	a.service(t, q, map[string]any{"id": draft.ID}).decode(t, "event", &p)
	if p.Announcement != nil {
		t.Fatalf("a draft's announcement: %+v", p.Announcement)
	}
	id := a.publishedEvent(t, nil)
	// The job runs on its own too; run it until the event reads done.
	for range 20 {
		if _, err := a.events.Announce(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
		a.service(t, q, map[string]any{"id": id}).decode(t, "event", &p)
		if p.Announcement != nil && p.Announcement.Done {
			break
		}
	}
	an := p.Announcement
	if an == nil || !an.Done || an.Sent != 3 || an.Eligible != 3 || an.Walked < 3 || an.Audience < 3 ||
		an.StartedAt == nil || an.FinishedAt == nil || an.FinishedAt.Before(*an.StartedAt) {
		t.Fatalf("progress: %+v", an)
	}
	var seen progress
	a.do(t, ann.bearer(), `query($id: ID!) { event(id: $id) { announcement { sent } } }`, map[string]any{"id": id}).decode(t, "event", &seen)
	if seen.Announcement != nil {
		t.Fatalf("a member sees the announcement: %+v", seen.Announcement)
	}
}
