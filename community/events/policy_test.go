package events

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/internal/testkit"
	"github.com/regulars/regulars/member"
)

// Who sees which event: the brand every one, door staff every one but a
// draft (listed-only events included), a member any but a draft and an
// event listed for others; the announcement's progress is the brand's,
// once published.
func TestWhoMaySeeWhichEvent(t *testing.T) {
	ann, bob, sam := bson.NewObjectID(), bson.NewObjectID(), bson.NewObjectID()
	brand := member.Principal{MemberID: bson.NewObjectID(), Roles: []member.Role{member.RoleCustomer, member.RoleBrand}}
	backend := member.Principal{Service: true}
	staff := member.Principal{MemberID: sam, Roles: []member.Role{member.RoleCustomer, member.RoleStaff}}
	annP := member.Principal{MemberID: ann, Roles: []member.Role{member.RoleCustomer}}
	bobP := member.Principal{MemberID: bob, Roles: []member.Role{member.RoleCustomer}}
	open := &Event{Status: StatusPublished}
	listed := &Event{Status: StatusPublished, Eligibility: Eligibility{Members: []bson.ObjectID{ann}}}
	draft := &Event{Status: StatusDraft}
	cancelled := &Event{Status: StatusCancelled}
	for _, c := range []struct {
		who  string
		p    member.Principal
		e    *Event
		want bool
	}{
		{"brand, draft", brand, draft, true}, {"backend, draft", backend, draft, true},
		{"staff, draft", staff, draft, false}, {"staff, listed for ann", staff, listed, true},
		{"staff, cancelled", staff, cancelled, true}, {"staff, open", staff, open, true},
		{"ann, draft", annP, draft, false}, {"ann, listed for her", annP, listed, true},
		{"bob, listed for ann", bobP, listed, false}, {"bob, open", bobP, open, true},
		{"anonymous, open", member.Principal{}, open, false},
	} {
		if got := MaySee(c.p, c.e); got != c.want {
			t.Errorf("MaySee %s: %v, want %v", c.who, got, c.want)
		}
	}
	if MaySeeDraft(staff) || !MaySeeDraft(brand) || !MaySeeDraft(backend) {
		t.Error("MaySeeDraft: the brand only")
	}
	if !WorksTheDoor(staff) || !WorksTheDoor(brand) || WorksTheDoor(annP) {
		t.Error("WorksTheDoor: BRAND and STAFF only")
	}
	if !MaySeeAnnouncement(brand, open) || MaySeeAnnouncement(brand, draft) || MaySeeAnnouncement(staff, open) {
		t.Error("MaySeeAnnouncement: the brand's, once published")
	}
}

// Read applies MaySee to the stored event: a draft is NOT_FOUND to door
// staff as to a member, the brand reads it; a caller with no member
// profile who is not door staff is told to sign in.
func TestReadHidesDraftsFromDoorStaff(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	start := f.clock.Now().Add(24 * time.Hour)
	e := testkit.Must(f.s.Create(ctx, Input{Title: ptr("Launch"), Place: &Place{Venue: "Store", Address: "1 Main St"}, StartsAt: ptr(start),
		EndsAt: ptr(start.Add(2 * time.Hour)), Timezone: ptr("UTC"), Capacity: ptr(10)}))(t)
	staff := member.Principal{MemberID: bson.NewObjectID(), Roles: []member.Role{member.RoleStaff}}
	for _, p := range []member.Principal{staff, {MemberID: bson.NewObjectID()}} {
		if _, err := f.s.Read(ctx, p, e.ID); !errors.Is(err, ErrEventNotFound) {
			t.Fatalf("%+v read a draft: %v", p, err)
		}
	}
	if got, err := f.s.Read(ctx, member.Principal{Service: true}, e.ID); err != nil || got.Title != "Launch" {
		t.Fatalf("the brand's draft: %+v %v", got, err)
	}
	if _, err := f.s.Read(ctx, member.Principal{}, e.ID); !errors.Is(err, member.ErrSignInFirst) {
		t.Fatalf("anonymous: %v", err)
	}
	testkit.Must(f.s.Publish(ctx, e.ID))(t)
	if got, err := f.s.Read(ctx, staff, e.ID); err != nil || got.Status != StatusPublished {
		t.Fatalf("staff, published: %+v %v", got, err)
	}
}

// StatusNow reads the service's clock: the test clock past the end ends it.
func TestStatusNowFollowsTheClock(t *testing.T) {
	f := setup(t)
	e := &Event{Status: StatusPublished, EndsAt: f.clock.Now().Add(time.Hour)}
	if got := f.s.StatusNow(e); got != StatusPublished {
		t.Fatalf("before the end: %s", got)
	}
	f.clock.Add(time.Hour)
	if got := f.s.StatusNow(e); got != StatusEnded {
		t.Fatalf("at the end: %s", got)
	}
}
