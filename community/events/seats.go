package events

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// MaxPrice bounds an event's pricePoints (the points of one rule);
// MaxRefundCutoffHours its refundCutoffHours (a year).
const (
	MaxPrice             = 10_000_000
	MaxRefundCutoffHours = 8760
)

// Refundable reports whether cancelling at now gives the price back: up to
// the refund cutoff before the start.
func (e *Event) Refundable(now time.Time) bool {
	return !now.After(e.StartsAt.Add(-time.Duration(e.RefundCutoffHours) * time.Hour))
}

// Seats are the seat changes of an event's document, each one conditional
// update on what it changes (see the package's comment): the RSVPs
// (community/events/rsvp) take, hand on and give back seats only through
// them. Each reports whether it changed the event; none tells the
// watchers (Service.Changed does).
type Seats struct {
	c   *mongo.Collection
	now func() time.Time
}

// change is the update of an event taking (n > 0) or releasing seats,
// with push and pull on its lists.
func (s *Seats) change(n int, push, pull bson.D) bson.D {
	u := bson.D{{Key: "$inc", Value: bson.D{{Key: "taken", Value: n}, {Key: "version", Value: 1}}},
		{Key: "$set", Value: bson.D{{Key: "updatedAt", Value: s.now()}}}}
	if push != nil {
		u = append(u, bson.E{Key: "$push", Value: push})
	}
	if pull != nil {
		u = append(u, bson.E{Key: "$pull", Value: pull})
	}
	return u
}

// listed is the update of an event's lists alone (no seat taken).
func (s *Seats) listed(op string, id string) bson.D {
	return bson.D{{Key: op, Value: bson.D{{Key: "queue", Value: id}}}, {Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}},
		{Key: "$set", Value: bson.D{{Key: "updatedAt", Value: s.now()}}}}
}

func (s *Seats) update(ctx context.Context, filter, update bson.D) (bool, error) {
	res, err := s.c.UpdateOne(ctx, filter, update)
	if err != nil {
		return false, err
	}
	return res.ModifiedCount > 0, nil
}

// Take gives the RSVP id n seats, only while the event is published at the
// capacity e read, the count still leaves room for them, nobody waits and
// id holds nothing yet.
func (s *Seats) Take(ctx context.Context, e *Event, id string, n int) (bool, error) {
	return s.update(ctx, bson.D{
		{Key: "_id", Value: e.ID}, {Key: "status", Value: StatusPublished}, {Key: "capacity", Value: e.Capacity},
		{Key: "taken", Value: bson.D{{Key: "$lte", Value: e.Capacity - n}}},
		{Key: "holders", Value: bson.D{{Key: "$ne", Value: id}}},
		{Key: "queue", Value: bson.D{{Key: "$size", Value: 0}}},
	}, s.change(n, bson.D{{Key: "holders", Value: id}}, nil))
}

// Wait puts the RSVP id (a party of n) in line, only while there is no
// room for it at the capacity e read, others wait already, or the event is
// no longer published; it returns the event after, or nil when a seat is
// free for it (or id holds seats already).
func (s *Seats) Wait(ctx context.Context, e *Event, id string, n int) (*Event, error) {
	var after Event
	err := s.c.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: e.ID}, {Key: "holders", Value: bson.D{{Key: "$ne", Value: id}}},
		{Key: "$or", Value: bson.A{
			bson.D{{Key: "capacity", Value: bson.D{{Key: "$ne", Value: e.Capacity}}}},
			bson.D{{Key: "taken", Value: bson.D{{Key: "$gt", Value: e.Capacity - n}}}},
			bson.D{{Key: "queue.0", Value: bson.D{{Key: "$exists", Value: true}}}},
			bson.D{{Key: "status", Value: bson.D{{Key: "$ne", Value: StatusPublished}}}},
		}}},
		bson.D{{Key: "$addToSet", Value: bson.D{{Key: "queue", Value: id}}}, {Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}},
			{Key: "$set", Value: bson.D{{Key: "updatedAt", Value: s.now()}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&after)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &after, nil
}

// Offer moves the waitlisted RSVP id (a party of n) from the queue to the
// holders, only while the count is still the one e read: racing offers
// give a seat to exactly one member.
func (s *Seats) Offer(ctx context.Context, e *Event, id string, n int) (bool, error) {
	return s.update(ctx, bson.D{
		{Key: "_id", Value: e.ID}, {Key: "taken", Value: e.Taken}, {Key: "capacity", Value: e.Capacity},
		{Key: "queue", Value: id}, {Key: "holders", Value: bson.D{{Key: "$ne", Value: id}}},
	}, s.change(n, bson.D{{Key: "holders", Value: id}}, bson.D{{Key: "queue", Value: id}}))
}

// Claim moves the waitlisted RSVP id (a party of n) from the queue to the
// holders in the open call, first come: only while the count leaves room
// for it at the capacity e read.
func (s *Seats) Claim(ctx context.Context, e *Event, id string, n int) (bool, error) {
	return s.update(ctx, bson.D{
		{Key: "_id", Value: e.ID}, {Key: "capacity", Value: e.Capacity},
		{Key: "taken", Value: bson.D{{Key: "$lte", Value: e.Capacity - n}}},
		{Key: "queue", Value: id}, {Key: "holders", Value: bson.D{{Key: "$ne", Value: id}}},
	}, s.change(n, bson.D{{Key: "holders", Value: id}}, bson.D{{Key: "queue", Value: id}}))
}

// Release gives back the n seats the RSVP id holds on the event, once;
// requeue puts it back in line (at the end of the queue's order: its
// priority decides offers).
func (s *Seats) Release(ctx context.Context, eventID bson.ObjectID, id string, n int, requeue bool) (bool, error) {
	var push bson.D
	if requeue {
		push = bson.D{{Key: "queue", Value: id}}
	}
	return s.update(ctx, bson.D{{Key: "_id", Value: eventID}, {Key: "holders", Value: id}},
		s.change(-n, push, bson.D{{Key: "holders", Value: id}}))
}

// Leave takes the RSVP id out of the event's line, once.
func (s *Seats) Leave(ctx context.Context, eventID bson.ObjectID, id string) (bool, error) {
	return s.update(ctx, bson.D{{Key: "_id", Value: eventID}, {Key: "queue", Value: id}}, s.listed("$pull", id))
}

// Join puts the RSVP id in the event's line unless it holds seats, once.
func (s *Seats) Join(ctx context.Context, eventID bson.ObjectID, id string) (bool, error) {
	return s.update(ctx, bson.D{{Key: "_id", Value: eventID}, {Key: "holders", Value: bson.D{{Key: "$ne", Value: id}}}}, s.listed("$addToSet", id))
}

// Touch moves the event's version on without a seat change (an RSVP to it
// changed), so live watchers compare anew.
func (s *Seats) Touch(ctx context.Context, eventID bson.ObjectID) error {
	_, err := s.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: eventID}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}, {Key: "$set", Value: bson.D{{Key: "updatedAt", Value: s.now()}}}})
	return err
}

// Upcoming lists up to limit published events not over at now, by id.
func (s *Service) Upcoming(ctx context.Context, now time.Time, limit int64) ([]*Event, error) {
	return s.events.find(ctx, bson.D{{Key: "status", Value: StatusPublished}, {Key: "endsAt", Value: bson.D{{Key: "$gt", Value: now}}}}, limit)
}

// Starting lists the published events starting after now and within d.
func (s *Service) Starting(ctx context.Context, now time.Time, d time.Duration) ([]*Event, error) {
	return s.events.find(ctx, bson.D{{Key: "status", Value: StatusPublished}, {Key: "endsAt", Value: bson.D{{Key: "$gt", Value: now}}},
		{Key: "startsAt", Value: bson.D{{Key: "$gt", Value: now}, {Key: "$lte", Value: now.Add(d)}}}}, 0)
}

// Unmarked lists up to 100 published events over at now whose no-shows
// are not marked yet (MarkedNoShows).
func (s *Service) Unmarked(ctx context.Context, now time.Time) ([]*Event, error) {
	return s.events.find(ctx, bson.D{{Key: "status", Value: StatusPublished}, {Key: "endsAt", Value: bson.D{{Key: "$lte", Value: now}}},
		{Key: "noShowsMarked", Value: bson.D{{Key: "$ne", Value: true}}}}, 100)
}

// MarkedNoShows records that the event's no-shows are marked.
func (s *Service) MarkedNoShows(ctx context.Context, eventID bson.ObjectID) error {
	_, err := s.events.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: eventID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "noShowsMarked", Value: true}, {Key: "updatedAt", Value: s.now()}}}, {Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}})
	return err
}

// RefundsDue lists up to 100 cancelled events whose refunds are not all
// given back yet (Refunded).
func (s *Service) RefundsDue(ctx context.Context) ([]*Event, error) {
	return s.events.find(ctx, bson.D{{Key: "status", Value: StatusCancelled}, {Key: "refundsPending", Value: true}}, 100)
}

// Refunded records that everything paid for the cancelled event is given back.
func (s *Service) Refunded(ctx context.Context, eventID bson.ObjectID) error {
	_, err := s.events.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: eventID}}, bson.D{{Key: "$set", Value: bson.D{{Key: "refundsPending", Value: false}}}})
	return err
}
