package events

import (
	"context"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// The event document (its holders, queue and seat count) and each RSVP
// change in separate single-document updates, in this order: the event
// first, then the RSVP (place, promote, claim in the open call), or the
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
	if r.Status != RSVPWaitlisted {
		return r, nil
	}
	e, err := s.events.get(ctx, r.EventID)
	if err != nil {
		return nil, err
	}
	switch {
	case slices.Contains(e.Holders, r.ID):
		return s.setStatus(ctx, r, RSVPWaitlisted, RSVPConfirmed, nil)
	case !slices.Contains(e.Queue, r.ID) && e.Status == StatusPublished:
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
func (s *Service) Repair(ctx context.Context, grace time.Duration) (int, error) {
	now := s.now()
	cur, err := s.events.c.Find(ctx, bson.D{{Key: "status", Value: StatusPublished}, {Key: "endsAt", Value: bson.D{{Key: "$gt", Value: now}}}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}).SetLimit(1000))
	if err != nil {
		return 0, err
	}
	var ids []struct {
		ID bson.ObjectID `bson:"_id"`
	}
	if err := cur.All(ctx, &ids); err != nil {
		return 0, err
	}
	n := 0
	for _, x := range ids {
		k, err := s.repairEvent(ctx, x.ID, now.Add(-grace))
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (s *Service) repairEvent(ctx context.Context, eventID bson.ObjectID, settled time.Time) (int, error) {
	e, err := s.events.get(ctx, eventID)
	if err != nil {
		return 0, err
	}
	listed := append(slices.Clone(e.Holders), e.Queue...)
	cur, err := s.rsvps.c.Find(ctx, bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: listed}}}},
		bson.D{{Key: "eventId", Value: eventID}, {Key: "status", Value: RSVPWaitlisted}},
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
	fixed := func(res int64, err error) error {
		if err == nil && res > 0 {
			n++
		}
		return err
	}
	for _, id := range e.Holders {
		r := byID[id]
		if r == nil || !old(r) || r.holds() {
			continue // RSVPs are never deleted; a holding one agrees
		}
		seats := r.Seats
		var push bson.D
		if r.Status == RSVPWaitlisted {
			push = bson.D{{Key: "queue", Value: r.ID}} // back in line, its priority kept
		}
		res, err := s.events.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: eventID}, {Key: "holders", Value: id}},
			s.seatChange(-seats, push, bson.D{{Key: "holders", Value: id}}))
		if err := fixed(modified(res, err)); err != nil {
			return n, err
		}
	}
	for _, id := range e.Queue {
		if r := byID[id]; old(r) && (r == nil || r.Status != RSVPWaitlisted) {
			res, err := s.events.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: eventID}, {Key: "queue", Value: id}},
				bson.D{{Key: "$pull", Value: bson.D{{Key: "queue", Value: id}}}, {Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}},
					{Key: "$set", Value: bson.D{{Key: "updatedAt", Value: s.now()}}}})
			if err := fixed(modified(res, err)); err != nil {
				return n, err
			}
		}
	}
	for _, r := range rs {
		if r.EventID == eventID && r.Status == RSVPWaitlisted && old(r) && !slices.Contains(listed, r.ID) {
			res, err := s.events.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: eventID}, {Key: "holders", Value: bson.D{{Key: "$ne", Value: r.ID}}}},
				bson.D{{Key: "$addToSet", Value: bson.D{{Key: "queue", Value: r.ID}}}, {Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}},
					{Key: "$set", Value: bson.D{{Key: "updatedAt", Value: s.now()}}}})
			if err := fixed(modified(res, err)); err != nil {
				return n, err
			}
		}
	}
	if n > 0 {
		s.publish(eventID)
		return n, s.promote(ctx, eventID)
	}
	return 0, nil
}

func modified(res *mongo.UpdateResult, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.ModifiedCount, nil
}
