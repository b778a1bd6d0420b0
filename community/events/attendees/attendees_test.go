package attendees

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/community/events"
	"github.com/regulars/regulars/community/events/eventstest"
	"github.com/regulars/regulars/community/events/rsvp"
	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/testkit"
	"github.com/regulars/regulars/member"
)

func TestMain(m *testing.M) { testkit.Main(m) }

type noAttendance struct{}

func (noAttendance) RecordEventAttendance(context.Context, bson.ObjectID, string, time.Time) error {
	return nil
}

type fixture struct {
	s     *Service
	rsvps *rsvp.Service
	ev    *events.Service
	clock *testkit.Clock
	st    *eventstest.Standing
	inbox *inbox.Inbox
}

func setup(t *testing.T) *fixture {
	db := testkit.Database(t)
	clock := testkit.NewClock(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	in := inbox.New(db, inbox.NewMemoryBroker())
	in.SetClock(clock.Now)
	f := &fixture{clock: clock, st: &eventstest.Standing{}, inbox: in}
	f.ev = events.New(db, events.Deps{Standing: f.st, Notify: in, Now: clock.Now})
	f.rsvps = rsvp.New(db, f.ev, rsvp.Deps{Activities: noAttendance{}, Notify: in, Secret: []byte(strings.Repeat("k", 32)), Now: clock.Now})
	f.ev.Seating = f.rsvps
	f.s = New(db, f.ev, Deps{Notify: in, Now: clock.Now})
	testkit.EnsureIndexes(t, f.ev.EnsureIndexes, f.rsvps.EnsureIndexes, in.EnsureIndexes)
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

// The views' queries run on the indexes community/events/rsvp declares.
func TestIndexesExist(t *testing.T) {
	f := setup(t)
	testkit.RequireIndexes(t, f.s.rsvps.c, indexWaitlist, indexMember)
}

// The brand's lists: the confirmed page by page, the waitlist in the
// order offers go out (a Gold member who joined later comes first), the
// counts by status with guests; an unknown cursor names after.
func TestAttendeesPagesAndCounts(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	e := f.event(t, 3, 1)
	ann, bob, silver, gold := bson.NewObjectID(), bson.NewObjectID(), bson.NewObjectID(), bson.NewObjectID()
	f.st.Set(silver, "Silver")
	f.st.Set(gold, "Gold")
	testkit.Must(f.rsvps.RSVP(ctx, ann, e.ID, 1, "a"))(t)
	testkit.Must(f.rsvps.RSVP(ctx, bob, e.ID, 0, "b"))(t)
	testkit.Must(f.rsvps.RSVP(ctx, silver, e.ID, 0, "s"))(t)
	testkit.Must(f.rsvps.RSVP(ctx, gold, e.ID, 0, "g"))(t)

	first, more := testkit.Must2(f.s.Attendees(ctx, e.ID, rsvp.Confirmed, "", 1))(t)
	rest, more2 := testkit.Must2(f.s.Attendees(ctx, e.ID, rsvp.Confirmed, first[0].ID, 10))(t)
	if len(first) != 1 || !more || len(rest) != 1 || more2 || first[0].ID == rest[0].ID {
		t.Fatalf("confirmed pages: %d (more %v) then %d (more %v)", len(first), more, len(rest), more2)
	}
	w, more := testkit.Must2(f.s.Attendees(ctx, e.ID, rsvp.Waitlisted, "", 1))(t)
	w2, _ := testkit.Must2(f.s.Attendees(ctx, e.ID, rsvp.Waitlisted, w[0].ID, 1))(t)
	if !more || w[0].MemberID != gold || len(w2) != 1 || w2[0].MemberID != silver {
		t.Fatalf("waitlist pages: %+v then %+v", w, w2)
	}
	if _, _, err := f.s.Attendees(ctx, e.ID, rsvp.Waitlisted, e.ID.Hex()+":"+bson.NewObjectID().Hex(), 1); !isField(err, "after", fault.NotFound) {
		t.Fatalf("unknown cursor: %v", err)
	}
	c := testkit.Must(f.s.CountsOf(ctx, e.ID))(t)
	if *c != (Counts{Confirmed: 2, Guests: 1, Waitlisted: 2}) {
		t.Fatalf("counts: %+v", *c)
	}
}

func isField(err error, field string, code fault.Code) bool {
	e, ok := input.As(err)
	return ok && e.Field == field && fault.CodeOf(err) == code
}

// A member's answers: theirs and the brand's, newest event first, page by
// page; anyone else is refused.
func TestRSVPsOfAMember(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	ann := bson.NewObjectID()
	e1, e2 := f.event(t, 5, 0), f.event(t, 5, 0)
	testkit.Must(f.rsvps.RSVP(ctx, ann, e1.ID, 0, "1"))(t)
	testkit.Must(f.rsvps.RSVP(ctx, ann, e2.ID, 0, "2"))(t)
	brand := member.Principal{Service: true}
	page, more := testkit.Must2(f.s.RSVPsOf(ctx, brand, ann, bson.ObjectID{}, 1))(t)
	rest, _ := testkit.Must2(f.s.RSVPsOf(ctx, member.Principal{MemberID: ann}, ann, page[0].EventID, 1))(t)
	if !more || page[0].EventID != e2.ID || len(rest) != 1 || rest[0].EventID != e1.ID {
		t.Fatalf("pages: %+v then %+v", page, rest)
	}
	staff := member.Principal{MemberID: bson.NewObjectID(), Roles: []member.Role{member.RoleStaff}}
	if _, _, err := f.s.RSVPsOf(ctx, staff, ann, bson.ObjectID{}, 1); !errors.Is(err, ErrNotYourMembersRSVPs) {
		t.Fatalf("door staff read a member's answers: %v", err)
	}
}

func TestRemindersOnce(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	e := f.event(t, 5, 0)
	ann := bson.NewObjectID()
	testkit.Must(f.rsvps.RSVP(ctx, ann, e.ID, 0, "k"))(t)
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

// Who sees who answered: counts and attendee lists are the brand's, the
// member behind an answer the brand's, their name the brand's and door
// staff's.
func TestWhoMaySeeWhoAnswered(t *testing.T) {
	brand := member.Principal{MemberID: bson.NewObjectID(), Roles: []member.Role{member.RoleBrand}}
	staff := member.Principal{MemberID: bson.NewObjectID(), Roles: []member.Role{member.RoleStaff}}
	customer := member.Principal{MemberID: bson.NewObjectID(), Roles: []member.Role{member.RoleCustomer}}
	backend := member.Principal{Service: true}
	for _, c := range []struct {
		who                      string
		p                        member.Principal
		counts, list, all, names bool
	}{
		{"brand", brand, true, true, true, true}, {"backend", backend, true, true, true, true},
		{"staff", staff, false, false, false, true}, {"a member", customer, false, false, false, false},
	} {
		if MaySeeCounts(c.p) != c.counts || MayListAttendees(c.p) != c.list || MaySeeMember(c.p) != c.all || MaySeeName(c.p) != c.names {
			t.Errorf("%s: counts %v, attendees %v, member %v, name %v; want %v %v %v %v", c.who,
				MaySeeCounts(c.p), MayListAttendees(c.p), MaySeeMember(c.p), MaySeeName(c.p), c.counts, c.list, c.all, c.names)
		}
	}
}
