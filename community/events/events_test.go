package events

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/community/events/eventstest"
	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/testkit"
	"github.com/regulars/regulars/member"
)

func TestMain(m *testing.M) { testkit.Main(m) }

type fixture struct {
	s     *Service
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
	f.s = New(db, Deps{Standing: f.st, Notify: in, Now: clock.Now})
	testkit.EnsureIndexes(t, f.s.EnsureIndexes, in.EnsureIndexes)
	return f
}

func ptr[T any](v T) *T { return &v }

func TestIndexesExist(t *testing.T) {
	f := setup(t)
	testkit.RequireIndexes(t, f.s.events.c, indexEventStatusEnds, indexEventUpdated, indexEventAnnounce, indexEventStatusStart)
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
}

// Announcing walks every member a batch at a time, resumes, and tells each
// eligible member once however often it runs.
func TestAnnounceOncePerEligibleMember(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	members := eventstest.Audience{bson.NewObjectID(), bson.NewObjectID(), bson.NewObjectID(), bson.NewObjectID(), bson.NewObjectID()}
	f.s.Audience = members
	f.st.Set(members[1], "Gold")
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

// Door staff list every published event not over, the ones they could not
// attend themselves included (a tier or member list), and no draft,
// cancelled or ended one, by start, soonest first, whatever the order they
// were created in.
func TestAtTheDoorListsEveryOpenEvent(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	staff := bson.NewObjectID()
	create := func(title string, startsIn time.Duration, el *Eligibility, publish bool) *Event {
		t.Helper()
		start := f.clock.Now().Add(startsIn)
		e := testkit.Must(f.s.Create(ctx, Input{Title: ptr(title), Place: &Place{Venue: "Store", Address: "1 Main St"}, StartsAt: ptr(start),
			EndsAt: ptr(start.Add(2 * time.Hour)), Timezone: ptr("UTC"), Capacity: ptr(10), Eligibility: el}))(t)
		if publish {
			testkit.Must(f.s.Publish(ctx, e.ID))(t)
		}
		return e
	}
	create("Ended", time.Hour, nil, true)
	today := create("Today", 3*time.Hour, nil, true)
	f.clock.Add(4 * time.Hour) // "Ended" is over, "Today" started an hour ago
	listed := create("Listed members", 72*time.Hour, &Eligibility{Members: []bson.ObjectID{bson.NewObjectID()}}, true)
	gold := create("Gold only", 48*time.Hour, &Eligibility{Tiers: []string{"Gold"}}, true)
	same := create("Same start, later id", 48*time.Hour, &Eligibility{Tiers: []string{"Gold"}}, true)
	create("Draft", 24*time.Hour, nil, false)
	cancelled := create("Cancelled", 24*time.Hour, nil, true)
	testkit.Must(f.s.Cancel(ctx, cancelled.ID))(t)

	titles := func(es []*Event) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.Title)
		}
		return out
	}
	door := member.Principal{MemberID: staff, Roles: []member.Role{member.RoleStaff}}
	if _, _, err := f.s.AtTheDoor(ctx, member.Principal{MemberID: staff}, DoorPosition{}, 2); !errors.Is(err, ErrNotDoorStaff) {
		t.Fatalf("a customer read the door's list: %v", err)
	}
	// Pages of 2 whose first ends between two events starting together.
	first, more := testkit.Must2(f.s.AtTheDoor(ctx, door, DoorPosition{}, 2))(t)
	if !more {
		t.Fatal("a first page of 2 of 4 says no more follow")
	}
	last := first[len(first)-1]
	rest, more := testkit.Must2(f.s.AtTheDoor(ctx, door, DoorPosition{StartsAt: last.StartsAt, ID: last.ID}, 2))(t)
	if got := titles(append(first, rest...)); more || !slices.Equal(got, []string{today.Title, gold.Title, same.Title, listed.Title}) {
		t.Fatalf("at the door: %v (more %v)", got, more)
	}
	upcoming, _ := testkit.Must2(f.s.List(ctx, staff, FilterUpcoming, bson.ObjectID{}, 10))(t)
	if got := titles(upcoming); !slices.Equal(got, []string{today.Title}) {
		t.Fatalf("the staff member's own upcoming events: %v", got)
	}
}
