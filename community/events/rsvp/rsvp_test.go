package rsvp

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/community/events"
	"github.com/regulars/regulars/community/events/eventstest"
	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/testkit"
	"github.com/regulars/regulars/member"
)

func TestMain(m *testing.M) { testkit.Main(m) }

type attendance struct {
	mu   sync.Mutex
	keys map[string]int
}

func (a *attendance) RecordEventAttendance(_ context.Context, _ bson.ObjectID, key string, _ time.Time) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.keys[key]++
	return nil
}

type fixture struct {
	s     *Service
	ev    *events.Service
	clock *testkit.Clock
	st    *eventstest.Standing
	att   *attendance
	inbox *inbox.Inbox
}

func setup(t *testing.T) *fixture {
	db := testkit.Database(t)
	clock := testkit.NewClock(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	in := inbox.New(db, inbox.NewMemoryBroker())
	in.SetClock(clock.Now)
	f := &fixture{clock: clock, st: &eventstest.Standing{}, att: &attendance{keys: map[string]int{}}, inbox: in}
	f.ev = events.New(db, events.Deps{Standing: f.st, Notify: in, Now: clock.Now})
	f.s = New(db, f.ev, Deps{Activities: f.att, Notify: in, Secret: []byte(strings.Repeat("k", 32)), Now: clock.Now})
	f.ev.Seating = f.s
	testkit.EnsureIndexes(t, f.ev.EnsureIndexes, f.s.EnsureIndexes, in.EnsureIndexes)
	return f
}

func ptr[T any](v T) *T { return &v }

func (f *fixture) event(t *testing.T, capacity, guests int) *events.Event {
	t.Helper()
	ctx := context.Background()
	start := f.clock.Now().Add(72 * time.Hour)
	e, err := f.ev.Create(ctx, events.Input{Title: ptr("Spring ride"), Place: &events.Place{Venue: "HOG Club", Address: "1 Main St"},
		StartsAt: &start, EndsAt: ptr(start.Add(3 * time.Hour)), Timezone: ptr("Europe/Paris"), Capacity: &capacity, GuestsPerMember: &guests})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.ev.Publish(ctx, e.ID); err != nil {
		t.Fatal(err)
	}
	return e
}

// byStatus reads up to limit of an event's RSVPs of a status in waitlist
// order, after the RSVP after (nil: from the first).
func (f *fixture) byStatus(t *testing.T, eventID bson.ObjectID, status Status, after *RSVP, limit int) []*RSVP {
	t.Helper()
	filter := bson.D{{Key: "eventId", Value: eventID}, {Key: "status", Value: status}}
	if after != nil {
		filter = append(filter, AfterInWaitlist(after))
	}
	cur, err := f.s.rsvps.c.Find(context.Background(), filter, options.Find().SetSort(WaitlistOrder()).SetLimit(int64(limit)))
	if err != nil {
		t.Fatal(err)
	}
	var out []*RSVP
	if err := cur.All(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestIndexesExist(t *testing.T) {
	f := setup(t)
	testkit.RequireIndexes(t, f.s.rsvps.c, indexRSVPWaitlist, indexRSVPMember, indexRSVPOffered, indexRSVPKey, indexRSVPDoor)
}

func TestBadInputNamesTheFieldAndWritesNothing(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	e := f.event(t, 5, 1)
	ann := bson.NewObjectID()
	if _, err := f.s.RSVP(ctx, ann, e.ID, 2, "k"); !isField(err, "guests") {
		t.Fatalf("guests over the limit: %v", err)
	}
	f.clock.Add(72 * time.Hour) // RSVPs closed at the start
	if _, err := f.s.RSVP(ctx, ann, e.ID, 0, "k"); !isField(err, "eventId") {
		t.Fatalf("after closing: %v", err)
	}
	if n := testkit.Count(t, f.s.rsvps.c, nil); n != 0 {
		t.Fatalf("%d RSVPs written by refused input", n)
	}
}

func isField(err error, field string) bool {
	e, ok := input.As(err)
	return ok && e.Field == field && fault.CodeOf(err) == fault.Invalid
}

func TestEligibilityAndHiddenEvents(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	e := f.event(t, 5, 0)
	vip := bson.NewObjectID()
	if _, err := f.ev.Update(ctx, e.ID, events.Input{Eligibility: &events.Eligibility{Tiers: []string{"Gold"}}}); err != nil {
		t.Fatal(err)
	}
	ann := bson.NewObjectID()
	_, err := f.s.RSVP(ctx, ann, e.ID, 0, "k")
	if !errors.Is(err, events.ErrTierTooLow) || !strings.Contains(err.Error(), "Gold") {
		t.Fatalf("a Member at a Gold event: %v", err)
	}
	f.st.Set(ann, "Gold")
	if r, err := f.s.RSVP(ctx, ann, e.ID, 0, "k"); err != nil || r.Status != Confirmed {
		t.Fatalf("a Gold member: %v %+v", err, r)
	}
	// An invitation list hides the event from everyone else: not found, no details.
	if _, err := f.ev.Update(ctx, e.ID, events.Input{Eligibility: &events.Eligibility{Members: []bson.ObjectID{vip}}}); err != nil {
		t.Fatal(err)
	}
	ben := bson.NewObjectID()
	if _, err := f.s.RSVP(ctx, ben, e.ID, 0, "k"); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("hidden event: %v", err)
	}
	if evs, _, err := f.ev.List(ctx, ben, events.FilterUpcoming, bson.ObjectID{}, 10); err != nil || len(evs) != 0 {
		t.Fatalf("hidden event listed: %v %d", err, len(evs))
	}
	if evs, _, err := f.ev.List(ctx, vip, events.FilterUpcoming, bson.ObjectID{}, 10); err != nil || len(evs) != 1 {
		t.Fatalf("invited member's list: %v %d", err, len(evs))
	}
}

// 500 members race for 50 seats, half with a guest: exactly 50 seats are
// held, no more, read back from the database; the rest wait in line.
func TestRaceForSeatsHoldsCapacity(t *testing.T) {
	f := setup(t)
	// 500 callers share the embedded database's one connection: each
	// call waits for the others' commands, so it gets a longer deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	e := f.event(t, 50, 1)
	members := make([]bson.ObjectID, 500)
	for i := range members {
		members[i] = bson.NewObjectID()
	}
	res := testkit.Race(t, 500, func(i int) error {
		_, err := f.s.RSVP(ctx, members[i], e.ID, i%2, fmt.Sprint("key-", i))
		return err
	})
	if res.OK() != 500 {
		res.Expect(t)
		t.Fatalf("%d of 500 RSVPs answered", res.OK())
	}
	rs := f.byStatus(t, e.ID, Confirmed, nil, 100)
	offered := f.byStatus(t, e.ID, Offered, nil, 100)
	seats := 0
	for _, r := range append(rs, offered...) {
		seats += r.Seats
	}
	got, err := f.ev.Get(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if seats != 50 || got.Taken != 50 || len(got.Holders) != len(rs)+len(offered) {
		t.Fatalf("seats held %d, event counts %d (%d holders), want 50", seats, got.Taken, len(got.Holders))
	}
	if w := testkit.Count(t, f.s.rsvps.c, bson.D{{Key: "status", Value: Waitlisted}}); int(w) != 500-len(rs)-len(offered) || w != int64(len(got.Queue)) {
		t.Fatalf("%d waitlisted, %d on the queue", w, len(got.Queue))
	}
}

// A freed seat is offered to the highest tier first; a late claim is a
// CONFLICT and changes nothing; the expiry passes it on and the member who
// let it lapse goes to the end.
func TestWaitlistPriorityOffersAndExpiry(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	e := f.event(t, 1, 0)
	first, silver, gold := bson.NewObjectID(), bson.NewObjectID(), bson.NewObjectID()
	f.st.Set(silver, "Silver")
	f.st.Set(gold, "Gold")
	testkit.Must(f.s.RSVP(ctx, first, e.ID, 0, "a"))(t)
	w1 := testkit.Must(f.s.RSVP(ctx, silver, e.ID, 0, "b"))(t)
	p1 := testkit.Must(f.s.Position(ctx, w1))(t)
	w2 := testkit.Must(f.s.RSVP(ctx, gold, e.ID, 0, "c"))(t)
	if w1.Status != Waitlisted || p1 != 1 || testkit.Must(f.s.Position(ctx, w2))(t) != 1 {
		t.Fatalf("waitlist: %+v %+v", w1, w2)
	}
	if r := testkit.Must(f.s.Mine(ctx, silver, e.ID))(t); r.Position != 2 {
		t.Fatalf("silver behind gold: position %d", r.Position)
	}
	// A retry with the same key answers the same.
	if r := testkit.Must(f.s.RSVP(ctx, gold, e.ID, 0, "c"))(t); r.Status != Waitlisted {
		t.Fatalf("retry: %+v", r)
	}
	testkit.Must(f.s.CancelRSVP(ctx, first, e.ID))(t)
	g := testkit.Must(f.s.Mine(ctx, gold, e.ID))(t)
	if g.Status != Offered || g.OfferedUntil == nil || !g.OfferedUntil.Equal(f.clock.Now().Add(2*time.Hour)) {
		t.Fatalf("gold not offered the seat: %+v", g)
	}
	ns, _, err := f.inbox.List(ctx, gold, 0, 10)
	if err != nil || len(ns) != 1 || ns[0].Kind != inbox.KindEventSeatOffered {
		t.Fatalf("offer notification: %v %+v", err, ns)
	}
	f.clock.Add(2*time.Hour + time.Second)
	if _, err := f.s.ClaimSeat(ctx, gold, e.ID); !errors.Is(err, ErrOfferLapsed) {
		t.Fatalf("late claim: %v", err)
	}
	if r := testkit.Must(f.s.Mine(ctx, gold, e.ID))(t); r.Status != Offered {
		t.Fatalf("late claim changed the RSVP: %+v", r)
	}
	if n := testkit.Must(f.s.Jobs().ExpireOffers(ctx))(t); n != 1 {
		t.Fatalf("expired %d", n)
	}
	s := testkit.Must(f.s.Mine(ctx, silver, e.ID))(t)
	if s.Status != Offered {
		t.Fatalf("silver not offered after gold lapsed: %+v", s)
	}
	testkit.Must(f.s.ClaimSeat(ctx, silver, e.ID))(t)
	if r := testkit.Must(f.s.Mine(ctx, gold, e.ID))(t); r.Status != Waitlisted || r.Lapses != 1 || r.Position != 1 {
		t.Fatalf("gold after lapsing: %+v", r)
	}
	// Capacity up: the next member is offered a seat at once.
	testkit.Must(f.ev.Update(ctx, e.ID, events.Input{Capacity: ptr(2)}))(t)
	if r := testkit.Must(f.s.Mine(ctx, gold, e.ID))(t); r.Status != Offered {
		t.Fatalf("capacity up did not promote: %+v", r)
	}
}

// A cancellation and an expiry racing: the seats go to exactly one member
// each, never more than the capacity.
func TestCancellationRacesExpiry(t *testing.T) {
	for round := range 5 {
		f := setup(t)
		ctx := context.Background()
		e := f.event(t, 2, 0)
		ms := make([]bson.ObjectID, 6)
		for i := range ms {
			ms[i] = bson.NewObjectID()
			testkit.Must(f.s.RSVP(ctx, ms[i], e.ID, 0, "k"))(t)
		}
		testkit.Must(f.s.CancelRSVP(ctx, ms[0], e.ID))(t) // ms[2] offered
		f.clock.Add(3 * time.Hour)
		res := testkit.Race(t, 2, func(i int) error {
			if i == 0 {
				_, err := f.s.CancelRSVP(ctx, ms[1], e.ID)
				return err
			}
			_, err := f.s.Jobs().ExpireOffers(ctx)
			return err
		})
		res.Expect(t)
		got := testkit.Must(f.ev.Get(ctx, e.ID))(t)
		held := testkit.Count(t, f.s.rsvps.c, bson.D{{Key: "status", Value: bson.D{{Key: "$in", Value: []Status{Confirmed, Offered}}}}})
		if got.Taken != 2 || held != 2 || len(got.Holders) != 2 {
			t.Fatalf("round %d: taken %d, %d RSVPs hold seats, holders %v", round, got.Taken, held, got.Holders)
		}
	}
}

func TestCheckInOnceFromTwoDoors(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	e := f.event(t, 5, 0)
	other := f.event(t, 5, 0)
	ann := bson.NewObjectID()
	r := testkit.Must(f.s.RSVP(ctx, ann, e.ID, 0, "k"))(t)
	code := f.s.Door().CheckInCode(r)
	if code == "" {
		t.Fatal("no code for a confirmed RSVP")
	}
	if _, err := f.s.Door().CheckIn(ctx, other.ID, code); !isField(err, "code") {
		t.Fatalf("code of another event: %v", err)
	}
	if _, err := f.s.Door().CheckIn(ctx, e.ID, code[:len(code)-2]+"AA"); !isField(err, "code") {
		t.Fatalf("forged code: %v", err)
	}
	f.clock.Set(e.StartsAt.Add(-time.Hour)) // the door is open
	res := testkit.Race(t, 50, func(int) error { _, err := f.s.Door().CheckIn(ctx, e.ID, code); return err })
	res.Expect(t, ErrAlreadyCheckedIn)
	if res.OK() != 1 || res.Is(ErrAlreadyCheckedIn) != 49 {
		t.Fatalf("%d admitted, %d conflicts", res.OK(), res.Is(ErrAlreadyCheckedIn))
	}
	if n := testkit.Count(t, f.s.rsvps.c, bson.D{{Key: "status", Value: Attended}}); n != 1 {
		t.Fatalf("%d attended", n)
	}
	if _, err := f.s.Door().CheckIn(ctx, e.ID, code); !strings.Contains(fmt.Sprint(err), "at 2026-05-04T11:00:00Z") {
		t.Fatalf("second scan does not say when the first was: %v", err)
	}
	if len(f.att.keys) != 1 {
		t.Fatalf("attendance recorded under %d keys", len(f.att.keys))
	}
	// After the event, confirmed members who never came are no-shows.
	ben := bson.NewObjectID()
	testkit.Must(f.s.RSVP(ctx, ben, e.ID, 0, "k"))(t)
	f.clock.Add(80 * time.Hour)
	if n := testkit.Must(f.s.Jobs().MarkNoShows(ctx))(t); n < 1 {
		t.Fatalf("marked %d no-shows", n)
	}
	if r := testkit.Must(f.s.Mine(ctx, ben, e.ID))(t); r.Status != NoShow {
		t.Fatalf("ben: %s", r.Status)
	}
}

// A door person types the short door code from a phone screen: in lower
// case, with a space for the dash. It checks the member in once; a code no
// RSVP of the event has, or another event's, is refused on code.
func TestCheckInByTypedDoorCode(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	e := f.event(t, 5, 0)
	other := f.event(t, 5, 0)
	ann, ben := bson.NewObjectID(), bson.NewObjectID()
	r := testkit.Must(f.s.RSVP(ctx, ann, e.ID, 0, "k"))(t)
	asAnn := member.WithPrincipal(ctx, member.Principal{MemberID: ann})
	code := r.DoorCode(asAnn)
	if code == nil || !regexp.MustCompile(`^[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}$`).MatchString(*code) {
		t.Fatalf("door code %v is not two groups of four unambiguous characters", code)
	}
	if c := r.DoorCode(member.WithPrincipal(ctx, member.Principal{MemberID: ben})); c != nil {
		t.Fatalf("ben reads ann's door code %s", *c)
	}
	benOther := testkit.Must(f.s.RSVP(ctx, ben, other.ID, 0, "k"))(t)
	benCode := *benOther.DoorCode(member.WithPrincipal(ctx, member.Principal{MemberID: ben}))
	if _, err := f.s.Door().CheckIn(ctx, e.ID, benCode); !isField(err, "code") {
		t.Fatalf("door code of another event: %v", err)
	}
	wrong := "ABCD-EFGH"
	if wrong == *code {
		wrong = "HGFE-DCBA"
	}
	if _, err := f.s.Door().CheckIn(ctx, e.ID, wrong); !isField(err, "code") {
		t.Fatalf("wrong door code: %v", err)
	}
	f.clock.Set(e.StartsAt.Add(-time.Hour)) // the door is open
	typed := strings.ToLower(strings.Replace(*code, "-", " ", 1))
	in := testkit.Must(f.s.Door().CheckIn(ctx, e.ID, typed))(t)
	if in.Status != Attended || in.MemberID != ann {
		t.Fatalf("typed %q: %s of %s", typed, in.Status, in.MemberID.Hex())
	}
	if _, err := f.s.Door().CheckIn(ctx, e.ID, strings.ReplaceAll(*code, "-", "")); !errors.Is(err, ErrAlreadyCheckedIn) {
		t.Fatalf("second check-in by door code: %v", err)
	}
	if _, err := f.s.Door().CheckIn(ctx, e.ID, f.s.Door().CheckInCode(in)); !errors.Is(err, ErrAlreadyCheckedIn) {
		t.Fatalf("QR code after the door code: %v", err)
	}
	if len(f.att.keys) != 1 {
		t.Fatalf("attendance recorded under %d keys", len(f.att.keys))
	}
}

// A process stopping between the event's update and the RSVP's leaves them
// disagreeing: the member's retry finishes their own answer, and Repair
// settles the rest once they have disagreed past the grace period.
func TestCrashBetweenEventAndRSVPIsRepaired(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	e := f.event(t, 2, 0)
	ann, bob, cat, dan := bson.NewObjectID(), bson.NewObjectID(), bson.NewObjectID(), bson.NewObjectID()
	set := func(m bson.ObjectID, status Status) {
		t.Helper()
		if _, err := f.s.rsvps.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: rsvpID(e.ID, m)}}, bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: status}}}}); err != nil {
			t.Fatal(err)
		}
	}
	status := func(m bson.ObjectID) Status {
		t.Helper()
		r, err := f.s.Mine(ctx, m, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		return r.Status
	}
	// Ann's seat was taken but her RSVP never confirmed: her retry does it.
	if _, err := f.s.RSVP(ctx, ann, e.ID, 0, "a"); err != nil {
		t.Fatal(err)
	}
	set(ann, Waitlisted)
	if r, err := f.s.RSVP(ctx, ann, e.ID, 0, "a"); err != nil || r.Status != Confirmed {
		t.Fatalf("ann's retry: %+v %v", r, err)
	}
	// Bob's RSVP was stored but never placed: his retry places it.
	if _, err := f.s.rsvps.c.InsertOne(ctx, &RSVP{ID: rsvpID(e.ID, bob), EventID: e.ID, MemberID: bob, Status: Waitlisted, Seats: 1,
		JoinedAt: f.clock.Now(), Key: "b", CreatedAt: f.clock.Now(), UpdatedAt: f.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if r, err := f.s.RSVP(ctx, bob, e.ID, 0, "b"); err != nil || r.Status != Confirmed {
		t.Fatalf("bob's retry: %+v %v", r, err)
	}
	// Cat waits. Ann's cancellation stopped before her seat was released;
	// Dan's RSVP was stored but never placed, and neither retries.
	if r, err := f.s.RSVP(ctx, cat, e.ID, 0, "c"); err != nil || r.Status != Waitlisted {
		t.Fatalf("cat: %+v %v", r, err)
	}
	set(ann, Cancelled)
	if _, err := f.s.rsvps.c.InsertOne(ctx, &RSVP{ID: rsvpID(e.ID, dan), EventID: e.ID, MemberID: dan, Status: Waitlisted, Seats: 1,
		JoinedAt: f.clock.Now(), Key: "d", CreatedAt: f.clock.Now(), UpdatedAt: f.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if n, err := f.s.Jobs().Repair(ctx, RepairGrace); err != nil || n != 0 {
		t.Fatalf("repair within the grace period settled %d, %v", n, err)
	}
	f.clock.Add(2 * RepairGrace)
	if n, err := f.s.Jobs().Repair(ctx, RepairGrace); err != nil || n != 2 {
		t.Fatalf("repair settled %d, %v; want ann's seat and dan's place", n, err)
	}
	if status(cat) != Offered || status(dan) != Waitlisted || status(bob) != Confirmed {
		t.Fatalf("after repair: cat %s, dan %s, bob %s", status(cat), status(dan), status(bob))
	}
	got, err := f.ev.Get(ctx, e.ID)
	if err != nil || got.Taken != 2 || len(got.Holders) != 2 || len(got.Queue) != 1 {
		t.Fatalf("event after repair: taken %d holders %v queue %v (%v)", got.Taken, got.Holders, got.Queue, err)
	}
	if n, err := f.s.Jobs().Repair(ctx, RepairGrace); err != nil || n != 0 {
		t.Fatalf("a second repair settled %d, %v", n, err)
	}
}

// A code typed weeks early, or after the event, admits no one and pays
// nothing: the door opens CheckInOpens before the start and closes at the
// end, and the refusal says when, in the event's timezone.
func TestCheckInOnlyWithinItsWindow(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	e := f.event(t, 5, 0) // 2026-05-04 12:00 UTC, 14:00 in Paris, to 17:00 in Paris
	r := testkit.Must(f.s.RSVP(ctx, bson.NewObjectID(), e.ID, 0, "k"))(t)
	code := f.s.Door().CheckInCode(r)
	refused := func(when, want string) {
		t.Helper()
		_, err := f.s.Door().CheckIn(ctx, e.ID, code)
		if !errors.Is(err, ErrCheckInClosed) || fault.CodeOf(err) != fault.Conflict || !strings.Contains(err.Error(), want) {
			t.Fatalf("check-in %s: %v, want %q", when, err, want)
		}
		if n := testkit.Count(t, f.s.rsvps.c, bson.D{{Key: "status", Value: Attended}}); n != 0 || len(f.att.keys) != 0 {
			t.Fatalf("check-in %s: %d attended, %d attendances recorded", when, n, len(f.att.keys))
		}
	}
	refused("three days early", "check-in opens at 12:00 (Europe/Paris) on Mon 4 May 2026")
	f.clock.Set(e.StartsAt.Add(-CheckInOpens - time.Minute))
	refused("a minute before the door opens", "check-in opens at 12:00 (Europe/Paris)")
	f.clock.Set(e.EndsAt)
	refused("at the end", "check-in closed at 17:00 (Europe/Paris) on Mon 4 May 2026")
	f.clock.Set(e.StartsAt.Add(-CheckInOpens))
	if in := testkit.Must(f.s.Door().CheckIn(ctx, e.ID, code))(t); in.Status != Attended || len(f.att.keys) != 1 {
		t.Fatalf("check-in as the door opens: %s, %d attendances", in.Status, len(f.att.keys))
	}
}
