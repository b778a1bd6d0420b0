package rsvp

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/internal/testkit"
)

type penaltyRules struct{ n int }

func (p *penaltyRules) NoShowPenaltyEvents(context.Context) (int, error) { return p.n, nil }

// noShow makes the member a no-show of a fresh event that is then over.
func (f *fixture) noShow(t *testing.T, m bson.ObjectID) {
	t.Helper()
	ctx := context.Background()
	e := f.event(t, 5, 0)
	if r := testkit.Must(f.s.RSVP(ctx, m, e.ID, 0, "missed-"+e.ID.Hex()))(t); r.Status != Confirmed {
		t.Fatalf("no seat at the missed event: %+v", r)
	}
	f.clock.Add(80 * time.Hour)
	testkit.Must(f.s.Jobs().MarkNoShows(ctx))(t)
	if r := testkit.Must(f.s.Mine(ctx, m, e.ID))(t); r.Status != NoShow {
		t.Fatalf("not a no-show: %s", r.Status)
	}
}

// waitBehind fills a one-seat event and puts first, then second, on its
// waitlist; it returns the event and the seat holder.
func (f *fixture) waitBehind(t *testing.T, first, second bson.ObjectID) (bson.ObjectID, bson.ObjectID) {
	t.Helper()
	ctx := context.Background()
	e := f.event(t, 1, 0)
	holder := bson.NewObjectID()
	testkit.Must(f.s.RSVP(ctx, holder, e.ID, 0, "hold-"+e.ID.Hex()))(t)
	testkit.Must(f.s.RSVP(ctx, first, e.ID, 0, "w1-"+e.ID.Hex()))(t)
	f.clock.Add(time.Minute)
	testkit.Must(f.s.RSVP(ctx, second, e.ID, 0, "w2-"+e.ID.Hex()))(t)
	return e.ID, holder
}

// A no-show member who joined a waitlist before a good member of the
// same tier is served after them, for the program's next N events; with
// the penalty off the order is unchanged (first come, first served).
func TestNoShowPenaltyMovesTheMemberBehind(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	rules := &penaltyRules{n: 2}
	f.s.Penalty = rules
	ann, bob := bson.NewObjectID(), bson.NewObjectID()
	f.noShow(t, ann)

	ev, holder := f.waitBehind(t, ann, bob)
	a := testkit.Must(f.s.Mine(ctx, ann, ev))(t)
	if a.Position != 2 || a.NoShowPenalty == nil || a.NoShowPenalty.EventsCount != 2 || a.NoShowPenalty.MissedTitle != "Spring ride" {
		t.Fatalf("penalized member: position %d, penalty %+v", a.Position, a.NoShowPenalty)
	}
	if b := testkit.Must(f.s.Mine(ctx, bob, ev))(t); b.Position != 1 || b.NoShowPenalty != nil {
		t.Fatalf("good member: position %d, penalty %+v", b.Position, b.NoShowPenalty)
	}
	// The waitlist's order (WaitlistOrder, AfterInWaitlist: the brand's
	// list pages by them) is the order offers go out, page by page.
	page := f.byStatus(t, ev, Waitlisted, nil, 2)
	rest := f.byStatus(t, ev, Waitlisted, page[0], 2)
	if len(page) != 2 || page[0].MemberID != bob || len(rest) != 1 || rest[0].MemberID != ann {
		t.Fatalf("waitlist pages: %+v then %+v", page, rest)
	}
	testkit.Must(f.s.CancelRSVP(ctx, holder, ev))(t)
	if b := testkit.Must(f.s.Mine(ctx, bob, ev))(t); b.Status != Offered {
		t.Fatalf("the freed seat did not go to the good member: %s", b.Status)
	}

	// The penalty weighs more than tier: a Gold no-show waits behind a Member.
	f.st.Set(ann, "Gold")
	ev2, _ := f.waitBehind(t, ann, bson.NewObjectID())
	if a := testkit.Must(f.s.Mine(ctx, ann, ev2))(t); a.Position != 2 {
		t.Fatalf("Gold no-show's second penalized event: position %d", a.Position)
	}
	// Two events answered since the no-show: the third is served as usual.
	f.st.Set(ann, "Member")
	ev3, _ := f.waitBehind(t, ann, bson.NewObjectID())
	if a := testkit.Must(f.s.Mine(ctx, ann, ev3))(t); a.Position != 1 || a.NoShowPenalty != nil {
		t.Fatalf("after N events: position %d, penalty %+v", a.Position, a.NoShowPenalty)
	}

	// Off (the default): a fresh no-show keeps their place in line.
	rules.n = 0
	cid, dan := bson.NewObjectID(), bson.NewObjectID()
	f.noShow(t, cid)
	ev4, _ := f.waitBehind(t, cid, dan)
	if c := testkit.Must(f.s.Mine(ctx, cid, ev4))(t); c.Position != 1 || c.NoShowPenalty != nil {
		t.Fatalf("penalty off: position %d, penalty %+v", c.Position, c.NoShowPenalty)
	}
}
