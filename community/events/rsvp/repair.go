package rsvp

import (
	"context"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/community/events"
)

// The event document (its holders, queue and seat count) and each RSVP
// change in separate single-document updates, in this order: the event
// first, then the RSVP (place, Offer, claim in the open call), or the
// RSVP first, then the event (cancel, a lapsed offer). A process that
// stops between the two leaves them disagreeing. Two things bring them
// back together:
//
//   - the member's retry with the same key (retried) finishes their own
//     answer: a WAITLISTED RSVP holding seats is CONFIRMED, one neither
//     holding seats nor in line is placed again;
//   - Repair, run by the background jobs, settles every RSVP that has
//     disagreed with its event for longer than a grace period (so it never
//     races a request still in flight): seats held for an RSVP that is
//     cancelled, missing or back on the waitlist are released (a waitlisted
//     one goes back in line with its priority); an RSVP in line that is no
//     longer waiting leaves it; a waitlisted RSVP in no list joins the
//     line. Freed seats are offered to the waitlist at once.

// finish completes the member's own answer a failure left half-done (see
// above): it returns the RSVP as it is then.
func (s *Service) finish(ctx context.Context, r *RSVP) (*RSVP, error) {
	if r.Status != Waitlisted {
		return r, nil
	}
	e, err := s.catalog.Get(ctx, r.EventID)
	if err != nil {
		return nil, err
	}
	switch {
	case slices.Contains(e.Holders, r.ID):
		return s.setStatus(ctx, r, Waitlisted, Confirmed, nil)
	case !slices.Contains(e.Queue, r.ID) && e.Status == events.StatusPublished:
		return s.place(ctx, e, r)
	}
	return r, nil
}

// RepairGrace is how long an event and an RSVP may disagree before Repair
// settles them: longer than any request takes.
const RepairGrace = time.Minute

// Repair settles the RSVPs of upcoming published events that disagree
// with their event for longer than grace (see above). It returns how many
// it settled; safe to repeat and to run on several instances.
func (j *Jobs) Repair(ctx context.Context, grace time.Duration) (int, error) {
	now := j.svc.now()
	upcoming, err := j.svc.catalog.Upcoming(ctx, now, 1000)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range upcoming {
		k, err := j.repairEvent(ctx, e.ID, now.Add(-grace))
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (j *Jobs) repairEvent(ctx context.Context, eventID bson.ObjectID, settled time.Time) (int, error) {
	e, err := j.svc.catalog.Get(ctx, eventID)
	if err != nil {
		return 0, err
	}
	listed := append(slices.Clone(e.Holders), e.Queue...)
	cur, err := j.svc.rsvps.c.Find(ctx, bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: listed}}}},
		bson.D{{Key: "eventId", Value: eventID}, {Key: "status", Value: Waitlisted}},
	}}})
	if err != nil {
		return 0, err
	}
	var rs []*RSVP
	if err := cur.All(ctx, &rs); err != nil {
		return 0, err
	}
	byID := map[string]*RSVP{}
	for _, r := range rs {
		byID[r.ID] = r
	}
	old := func(r *RSVP) bool { return r == nil || r.UpdatedAt.Before(settled) }
	n := 0
	fixed := func(changed bool, err error) error {
		if err == nil && changed {
			n++
		}
		return err
	}
	for _, id := range e.Holders {
		r := byID[id]
		if r == nil || !old(r) || r.holds() {
			continue // RSVPs are never deleted; a holding one agrees
		}
		// A waitlisted one goes back in line, its priority kept.
		changed, err := j.svc.seats.Release(ctx, eventID, id, r.Seats, r.Status == Waitlisted)
		if err := fixed(changed, err); err != nil {
			return n, err
		}
	}
	for _, id := range e.Queue {
		if r := byID[id]; old(r) && (r == nil || r.Status != Waitlisted) {
			if err := fixed(j.svc.seats.Leave(ctx, eventID, id)); err != nil {
				return n, err
			}
		}
	}
	for _, r := range rs {
		if r.EventID == eventID && r.Status == Waitlisted && old(r) && !slices.Contains(listed, r.ID) {
			if err := fixed(j.svc.seats.Join(ctx, eventID, r.ID)); err != nil {
				return n, err
			}
		}
	}
	if n > 0 {
		j.svc.catalog.Changed(eventID)
		return n, j.svc.Offer(ctx, eventID)
	}
	return 0, nil
}
