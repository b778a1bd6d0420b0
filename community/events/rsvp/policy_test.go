package rsvp

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/community/events"
	"github.com/regulars/regulars/internal/testkit"
	"github.com/regulars/regulars/member"
)

// Who sees what of an answer: a no-show penalty the member's and the
// brand's, a check-in code the member's own only (counts and attendee
// lists: community/events/attendees).
func TestWhoMaySeeWhichAnswer(t *testing.T) {
	f := setup(t)
	ann := bson.NewObjectID()
	brand := member.Principal{MemberID: bson.NewObjectID(), Roles: []member.Role{member.RoleBrand}}
	staff := member.Principal{MemberID: bson.NewObjectID(), Roles: []member.Role{member.RoleStaff}}
	annP := member.Principal{MemberID: ann, Roles: []member.Role{member.RoleCustomer}}
	bobP := member.Principal{MemberID: bson.NewObjectID(), Roles: []member.Role{member.RoleCustomer}}
	backend := member.Principal{Service: true}
	for _, c := range []struct {
		who   string
		p     member.Principal
		owner bool
	}{
		{"brand", brand, true}, {"backend", backend, true}, {"staff", staff, false},
		{"the member", annP, true}, {"another member", bobP, false},
	} {
		r := &RSVP{EventID: bson.NewObjectID(), MemberID: ann, Status: Confirmed}
		if MaySeePenalty(c.p, r) != c.owner {
			t.Errorf("%s: penalty %v; want %v", c.who, MaySeePenalty(c.p, r), c.owner)
		}
		code := f.s.CheckInCodeFor(c.p, r)
		if own := c.p.MemberID == ann; (code != "") != own || (own && code != f.s.Door().CheckInCode(r)) {
			t.Errorf("%s: check-in code %q", c.who, code)
		}
	}
}

// The online link: the brand's, and a member's once CONFIRMED or ATTENDED
// (not while waitlisted, nor for a member who did not answer).
func TestOnlineURLForConfirmedMembersAndTheBrand(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	e := f.event(t, 1, 0)
	place := &events.Place{OnlineURL: "https://meet.example/ride"}
	ann, bob, cat := bson.NewObjectID(), bson.NewObjectID(), bson.NewObjectID()
	testkit.Must(f.s.RSVP(ctx, ann, e.ID, 0, "a"))(t)
	if r := testkit.Must(f.s.RSVP(ctx, bob, e.ID, 0, "b"))(t); r.Status != Waitlisted {
		t.Fatalf("bob: %s", r.Status)
	}
	for _, c := range []struct {
		who  string
		p    member.Principal
		want string
	}{
		{"the brand", member.Principal{Service: true}, place.OnlineURL},
		{"confirmed", member.Principal{MemberID: ann}, place.OnlineURL},
		{"waitlisted", member.Principal{MemberID: bob}, ""},
		{"no answer", member.Principal{MemberID: cat}, ""},
		{"staff without an answer", member.Principal{MemberID: cat, Roles: []member.Role{member.RoleStaff}}, ""},
	} {
		if got, err := f.s.OnlineURLFor(ctx, c.p, e.ID, place); err != nil || got != c.want {
			t.Errorf("%s: %q %v, want %q", c.who, got, err, c.want)
		}
	}
	if got, err := f.s.OnlineURLFor(ctx, member.Principal{Service: true}, e.ID, &events.Place{Venue: "Club"}); err != nil || got != "" {
		t.Errorf("no link: %q %v", got, err)
	}
}

// The calendar entry: the member's own once CONFIRMED or ATTENDED; not
// while waitlisted, nor after cancelling, nor for a member who did not
// answer or a caller who is no member (the brand's backend).
func TestMayDownloadCalendar(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	e := f.event(t, 2, 0)
	ann, bob, cat, dan := bson.NewObjectID(), bson.NewObjectID(), bson.NewObjectID(), bson.NewObjectID()
	testkit.Must(f.s.RSVP(ctx, ann, e.ID, 0, "a"))(t)
	testkit.Must(f.s.RSVP(ctx, cat, e.ID, 0, "c"))(t)
	testkit.Must(f.s.CancelRSVP(ctx, cat, e.ID))(t)
	testkit.Must(f.s.RSVP(ctx, dan, e.ID, 0, "d"))(t)
	if r := testkit.Must(f.s.RSVP(ctx, bob, e.ID, 0, "b"))(t); r.Status != Waitlisted {
		t.Fatalf("bob: %s", r.Status)
	}
	f.clock.Add(71 * time.Hour)
	testkit.Must(f.s.Door().CheckIn(ctx, e.ID, f.s.Door().CheckInCode(testkit.Must(f.s.Mine(ctx, dan, e.ID))(t))))(t)
	for _, c := range []struct {
		who  string
		p    member.Principal
		want bool
	}{
		{"confirmed", member.Principal{MemberID: ann}, true},
		{"attended", member.Principal{MemberID: dan}, true},
		{"waitlisted", member.Principal{MemberID: bob}, false},
		{"cancelled", member.Principal{MemberID: cat}, false},
		{"no answer", member.Principal{MemberID: bson.NewObjectID()}, false},
		{"the brand's backend", member.Principal{Service: true}, false},
	} {
		if got, err := f.s.MayDownloadCalendar(ctx, c.p, e.ID); err != nil || got != c.want {
			t.Errorf("%s: %v %v, want %v", c.who, got, err, c.want)
		}
	}
}
