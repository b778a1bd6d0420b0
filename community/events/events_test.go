package events

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/batch"
	"github.com/regulars/regulars/internal/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// standing is a program with tiers Member(0), Silver(1), Gold(2).
type standing struct {
	mu    sync.Mutex
	tiers map[bson.ObjectID]string
}

var ranks = map[string]int{"Member": 0, "Silver": 1, "Gold": 2}

func (f *standing) Tier(_ context.Context, m bson.ObjectID) (string, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tiers[m]
	if t == "" {
		t = "Member"
	}
	return t, ranks[t], nil
}
func (f *standing) TierExists(_ context.Context, n string) (bool, error) {
	_, ok := ranks[n]
	return ok, nil
}
func (f *standing) HasBadge(context.Context, bson.ObjectID, bson.ObjectID) (bool, error) {
	return false, nil
}
func (f *standing) BadgeExists(context.Context, bson.ObjectID) (bool, error) { return true, nil }

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
	clock *testkit.Clock
	st    *standing
	att   *attendance
	inbox *inbox.Inbox
}

func setup(t *testing.T) *fixture {
	db := testkit.Database(t)
	clock := testkit.NewClock(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	in := inbox.New(db, inbox.NewMemoryBroker())
	in.SetClock(clock.Now)
	f := &fixture{clock: clock, st: &standing{tiers: map[bson.ObjectID]string{}}, att: &attendance{keys: map[string]int{}}, inbox: in}
	f.s = New(db, Deps{Standing: f.st, Activities: f.att, Notify: in, Secret: []byte(strings.Repeat("k", 32)), Now: clock.Now})
	testkit.EnsureIndexes(t, f.s.EnsureIndexes, in.EnsureIndexes)
	return f
}

func ptr[T any](v T) *T { return &v }

func (f *fixture) event(t *testing.T, capacity, guests int) *Event {
	t.Helper()
	ctx := context.Background()
	start := f.clock.Now().Add(72 * time.Hour)
	e, err := f.s.Create(ctx, Input{Title: ptr("Spring ride"), Place: &Place{Venue: "HOG Club", Address: "1 Main St"},
		StartsAt: &start, EndsAt: ptr(start.Add(3 * time.Hour)), Timezone: ptr("Europe/Paris"), Capacity: &capacity, GuestsPerMember: &guests})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Publish(ctx, e.ID); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestIndexesExist(t *testing.T) {
	f := setup(t)
	testkit.RequireIndexes(t, f.s.events.c, indexEventStatusEnds, indexEventUpdated, indexEventAnnounce)
	testkit.RequireIndexes(t, f.s.rsvps.c, indexRSVPWaitlist, indexRSVPMember, indexRSVPOffered, indexRSVPKey)
}

func TestBadInputNamesTheFieldAndWritesNothing(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	start := f.clock.Now().Add(time.Hour)
	base := func() Input {
		return Input{Title: ptr("Ride"), Place: &Place{OnlineURL: "https://meet.example/x"}, StartsAt: ptr(start), EndsAt: ptr(start.Add(time.Hour)),
			Timezone: ptr("UTC"), Capacity: ptr(10)}
	}
	for field, change := range map[string]func(*Input){
		"capacity":             func(in *Input) { in.Capacity = ptr(0) },
		"endsAt":               func(in *Input) { in.EndsAt = ptr(start.Add(-time.Minute)) },
		"timezone":             func(in *Input) { in.Timezone = ptr("Mars/Olympus") },
		"title":                func(in *Input) { in.Title = ptr(" ") },
		"guestsPerMember":      func(in *Input) { in.GuestsPerMember = ptr(-1) },
		"rsvpClosesAt":         func(in *Input) { in.RSVPClosesAt = ptr(start.Add(time.Minute)) },
		"eligibility.tiers[0]": func(in *Input) { in.Eligibility = &Eligibility{Tiers: []string{"Platinum"}} },
	} {
		in := base()
		change(&in)
		_, err := f.s.Create(ctx, in)
		if e, ok := input.As(err); !ok || e.Field != field || fault.CodeOf(err) != fault.Invalid {
			t.Errorf("%s: got %v", field, err)
		}
	}
	if n := testkit.Count(t, f.s.events.c, nil); n != 0 {
		t.Fatalf("%d events written by refused input", n)
	}

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
	if _, err := f.s.Update(ctx, e.ID, Input{Eligibility: &Eligibility{Tiers: []string{"Gold"}}}); err != nil {
		t.Fatal(err)
	}
	ann := bson.NewObjectID()
	_, err := f.s.RSVP(ctx, ann, e.ID, 0, "k")
	if !errors.Is(err, ErrTierTooLow) || !strings.Contains(err.Error(), "Gold") {
		t.Fatalf("a Member at a Gold event: %v", err)
	}
	f.st.tiers[ann] = "Gold"
	if r, err := f.s.RSVP(ctx, ann, e.ID, 0, "k"); err != nil || r.Status != RSVPConfirmed {
		t.Fatalf("a Gold member: %v %+v", err, r)
	}
	// An invitation list hides the event from everyone else: not found, no details.
	if _, err := f.s.Update(ctx, e.ID, Input{Eligibility: &Eligibility{Members: []bson.ObjectID{vip}}}); err != nil {
		t.Fatal(err)
	}
	ben := bson.NewObjectID()
	if _, err := f.s.RSVP(ctx, ben, e.ID, 0, "k"); fault.CodeOf(err) != fault.NotFound {
		t.Fatalf("hidden event: %v", err)
	}
	if evs, _, err := f.s.List(ctx, ben, FilterUpcoming, bson.ObjectID{}, 10); err != nil || len(evs) != 0 {
		t.Fatalf("hidden event listed: %v %d", err, len(evs))
	}
	if evs, _, err := f.s.List(ctx, vip, FilterUpcoming, bson.ObjectID{}, 10); err != nil || len(evs) != 1 {
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
	rs, _, err := f.s.Attendees(ctx, e.ID, RSVPConfirmed, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	offered, _, err := f.s.Attendees(ctx, e.ID, RSVPOffered, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	seats := 0
	for _, r := range append(rs, offered...) {
		seats += r.Seats
	}
	got, err := f.s.Get(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if seats != 50 || got.Taken != 50 || len(got.Holders) != len(rs)+len(offered) {
		t.Fatalf("seats held %d, event counts %d (%d holders), want 50", seats, got.Taken, len(got.Holders))
	}
	if w := testkit.Count(t, f.s.rsvps.c, bson.D{{Key: "status", Value: RSVPWaitlisted}}); int(w) != 500-len(rs)-len(offered) || w != int64(len(got.Queue)) {
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
	f.st.tiers[silver], f.st.tiers[gold] = "Silver", "Gold"
	testkit.Must(f.s.RSVP(ctx, first, e.ID, 0, "a"))(t)
	w1 := testkit.Must(f.s.RSVP(ctx, silver, e.ID, 0, "b"))(t)
	p1 := testkit.Must(f.s.Position(ctx, w1))(t)
	w2 := testkit.Must(f.s.RSVP(ctx, gold, e.ID, 0, "c"))(t)
	if w1.Status != RSVPWaitlisted || p1 != 1 || testkit.Must(f.s.Position(ctx, w2))(t) != 1 {
		t.Fatalf("waitlist: %+v %+v", w1, w2)
	}
	if r := testkit.Must(f.s.Mine(ctx, silver, e.ID))(t); r.Position != 2 {
		t.Fatalf("silver behind gold: position %d", r.Position)
	}
	// A retry with the same key answers the same.
	if r := testkit.Must(f.s.RSVP(ctx, gold, e.ID, 0, "c"))(t); r.Status != RSVPWaitlisted {
		t.Fatalf("retry: %+v", r)
	}
	testkit.Must(f.s.CancelRSVP(ctx, first, e.ID))(t)
	g := testkit.Must(f.s.Mine(ctx, gold, e.ID))(t)
	if g.Status != RSVPOffered || g.OfferedUntil == nil || !g.OfferedUntil.Equal(f.clock.Now().Add(2*time.Hour)) {
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
	if r := testkit.Must(f.s.Mine(ctx, gold, e.ID))(t); r.Status != RSVPOffered {
		t.Fatalf("late claim changed the RSVP: %+v", r)
	}
	if n := testkit.Must(f.s.ExpireOffers(ctx))(t); n != 1 {
		t.Fatalf("expired %d", n)
	}
	s := testkit.Must(f.s.Mine(ctx, silver, e.ID))(t)
	if s.Status != RSVPOffered {
		t.Fatalf("silver not offered after gold lapsed: %+v", s)
	}
	testkit.Must(f.s.ClaimSeat(ctx, silver, e.ID))(t)
	if r := testkit.Must(f.s.Mine(ctx, gold, e.ID))(t); r.Status != RSVPWaitlisted || r.Lapses != 1 || r.Position != 1 {
		t.Fatalf("gold after lapsing: %+v", r)
	}
	// Capacity up: the next member is offered a seat at once.
	testkit.Must(f.s.Update(ctx, e.ID, Input{Capacity: ptr(2)}))(t)
	if r := testkit.Must(f.s.Mine(ctx, gold, e.ID))(t); r.Status != RSVPOffered {
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
			_, err := f.s.ExpireOffers(ctx)
			return err
		})
		res.Expect(t)
		got := testkit.Must(f.s.Get(ctx, e.ID))(t)
		held := testkit.Count(t, f.s.rsvps.c, bson.D{{Key: "status", Value: bson.D{{Key: "$in", Value: []RSVPStatus{RSVPConfirmed, RSVPOffered}}}}})
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
	code := f.s.CheckInCode(r)
	if code == "" {
		t.Fatal("no code for a confirmed RSVP")
	}
	if _, err := f.s.CheckIn(ctx, other.ID, code); !isField(err, "code") {
		t.Fatalf("code of another event: %v", err)
	}
	if _, err := f.s.CheckIn(ctx, e.ID, code[:len(code)-2]+"AA"); !isField(err, "code") {
		t.Fatalf("forged code: %v", err)
	}
	res := testkit.Race(t, 50, func(int) error { _, err := f.s.CheckIn(ctx, e.ID, code); return err })
	res.Expect(t, ErrAlreadyCheckedIn)
	if res.OK() != 1 || res.Is(ErrAlreadyCheckedIn) != 49 {
		t.Fatalf("%d admitted, %d conflicts", res.OK(), res.Is(ErrAlreadyCheckedIn))
	}
	if n := testkit.Count(t, f.s.rsvps.c, bson.D{{Key: "status", Value: RSVPAttended}}); n != 1 {
		t.Fatalf("%d attended", n)
	}
	if _, err := f.s.CheckIn(ctx, e.ID, code); !strings.Contains(fmt.Sprint(err), "at 2026-05-01T12:00:00Z") {
		t.Fatalf("second scan does not say when the first was: %v", err)
	}
	if len(f.att.keys) != 1 {
		t.Fatalf("attendance recorded under %d keys", len(f.att.keys))
	}
	// After the event, confirmed members who never came are no-shows.
	ben := bson.NewObjectID()
	testkit.Must(f.s.RSVP(ctx, ben, e.ID, 0, "k"))(t)
	f.clock.Add(80 * time.Hour)
	if n := testkit.Must(f.s.MarkNoShows(ctx))(t); n < 1 {
		t.Fatalf("marked %d no-shows", n)
	}
	if r := testkit.Must(f.s.Mine(ctx, ben, e.ID))(t); r.Status != RSVPNoShow {
		t.Fatalf("ben: %s", r.Status)
	}
}

func TestRemindersOnce(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	e := f.event(t, 5, 0)
	ann := bson.NewObjectID()
	testkit.Must(f.s.RSVP(ctx, ann, e.ID, 0, "k"))(t)
	f.clock.Add(49 * time.Hour) // 23 h before
	for range 2 {
		testkit.Must(f.s.Remind(ctx))(t)
	}
	f.clock.Add(22 * time.Hour) // 1 h before
	testkit.Must(f.s.Remind(ctx))(t)
	ns, _, err := f.inbox.List(ctx, ann, 0, 10)
	if err != nil || len(ns) != 2 || ns[0].Kind != inbox.KindEventReminder {
		t.Fatalf("reminders: %v %d", err, len(ns))
	}
}

// audience walks a fixed list of members in id order.
type audience []bson.ObjectID

func (a audience) Count(context.Context) (int64, error) { return int64(len(a)), nil }

func (a audience) Step(ctx context.Context, after bson.ObjectID, size, _ int, work func(context.Context, bson.ObjectID) (bool, error)) (batch.Result, error) {
	var r batch.Result
	n := 0
	for _, id := range a {
		if bytes.Compare(id[:], after[:]) <= 0 {
			continue
		}
		if n == size {
			return r, nil
		}
		n++
		ok, err := work(ctx, id)
		if err != nil {
			return r, err
		}
		r.Done++
		r.Last = id
		if ok {
			r.Counted++
		}
	}
	r.Finished = true
	return r, nil
}

// Announcing walks every member a batch at a time, resumes, and tells each
// eligible member once however often it runs.
func TestAnnounceOncePerEligibleMember(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	members := audience{bson.NewObjectID(), bson.NewObjectID(), bson.NewObjectID(), bson.NewObjectID(), bson.NewObjectID()}
	f.s.Audience = members
	f.st.tiers[members[1]] = "Gold"
	if _, err := f.inbox.SetMuted(ctx, members[2], []inbox.Category{inbox.CategoryOffers}); err != nil {
		t.Fatal(err)
	}
	start := f.clock.Now().Add(72 * time.Hour)
	e, err := f.s.Create(ctx, Input{Title: ptr("Gold night"), Place: &Place{Venue: "Club", Address: "1 Main St"}, StartsAt: &start, EndsAt: ptr(start.Add(time.Hour)),
		Timezone: ptr("UTC"), Capacity: ptr(10), Eligibility: &Eligibility{Tiers: []string{"Gold", "Member"}, Members: []bson.ObjectID{members[0], members[1], members[2], members[3]}}})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := f.s.Announce(ctx, 2); err != nil || n != 0 {
		t.Fatalf("a draft was announced: %d %v", n, err)
	}
	if _, err := f.s.Publish(ctx, e.ID); err != nil {
		t.Fatal(err)
	}
	<-f.s.Kicked()
	// 0 and 1 and 3 are told; 2 muted OFFERS, 4 is not on the list.
	if n, err := f.s.Announce(ctx, 2); err != nil || n != 3 {
		t.Fatalf("announced to %d, %v; want 3", n, err)
	}
	if n, err := f.s.Announce(ctx, 2); err != nil || n != 0 {
		t.Fatalf("a second run announced to %d, %v", n, err)
	}
	for i, m := range members {
		list, _, err := f.inbox.List(ctx, m, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		want := map[int]int{0: 1, 1: 1, 3: 1}[i]
		if len(list) != want || (want == 1 && list[0].Kind != inbox.KindEventPublished) {
			t.Errorf("member %d has %d notifications, want %d", i, len(list), want)
		}
	}
	got, err := f.s.Get(ctx, e.ID)
	if err != nil || got.Announcement.Pending || got.Announcement.Notified != 3 || got.Announcement.Processed != 5 {
		t.Fatalf("announcement: %+v %v", got.Announcement, err)
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
	set := func(m bson.ObjectID, status RSVPStatus) {
		t.Helper()
		if _, err := f.s.rsvps.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: rsvpID(e.ID, m)}}, bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: status}}}}); err != nil {
			t.Fatal(err)
		}
	}
	status := func(m bson.ObjectID) RSVPStatus {
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
	set(ann, RSVPWaitlisted)
	if r, err := f.s.RSVP(ctx, ann, e.ID, 0, "a"); err != nil || r.Status != RSVPConfirmed {
		t.Fatalf("ann's retry: %+v %v", r, err)
	}
	// Bob's RSVP was stored but never placed: his retry places it.
	if _, err := f.s.rsvps.c.InsertOne(ctx, &RSVP{ID: rsvpID(e.ID, bob), EventID: e.ID, MemberID: bob, Status: RSVPWaitlisted, Seats: 1,
		JoinedAt: f.clock.Now(), Key: "b", CreatedAt: f.clock.Now(), UpdatedAt: f.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if r, err := f.s.RSVP(ctx, bob, e.ID, 0, "b"); err != nil || r.Status != RSVPConfirmed {
		t.Fatalf("bob's retry: %+v %v", r, err)
	}
	// Cat waits. Ann's cancellation stopped before her seat was released;
	// Dan's RSVP was stored but never placed, and neither retries.
	if r, err := f.s.RSVP(ctx, cat, e.ID, 0, "c"); err != nil || r.Status != RSVPWaitlisted {
		t.Fatalf("cat: %+v %v", r, err)
	}
	set(ann, RSVPCancelled)
	if _, err := f.s.rsvps.c.InsertOne(ctx, &RSVP{ID: rsvpID(e.ID, dan), EventID: e.ID, MemberID: dan, Status: RSVPWaitlisted, Seats: 1,
		JoinedAt: f.clock.Now(), Key: "d", CreatedAt: f.clock.Now(), UpdatedAt: f.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if n, err := f.s.Repair(ctx, RepairGrace); err != nil || n != 0 {
		t.Fatalf("repair within the grace period settled %d, %v", n, err)
	}
	f.clock.Add(2 * RepairGrace)
	if n, err := f.s.Repair(ctx, RepairGrace); err != nil || n != 2 {
		t.Fatalf("repair settled %d, %v; want ann's seat and dan's place", n, err)
	}
	if status(cat) != RSVPOffered || status(dan) != RSVPWaitlisted || status(bob) != RSVPConfirmed {
		t.Fatalf("after repair: cat %s, dan %s, bob %s", status(cat), status(dan), status(bob))
	}
	got, err := f.s.Get(ctx, e.ID)
	if err != nil || got.Taken != 2 || len(got.Holders) != 2 || len(got.Queue) != 1 {
		t.Fatalf("event after repair: taken %d holders %v queue %v (%v)", got.Taken, got.Holders, got.Queue, err)
	}
	if n, err := f.s.Repair(ctx, RepairGrace); err != nil || n != 0 {
		t.Fatalf("a second repair settled %d, %v", n, err)
	}
}
