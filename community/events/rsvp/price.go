package rsvp

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/community/events"
	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/input"
)

// Payments takes an event's price in points through the ledger and gives
// it back; the server answers it from the game's ledger.
type Payments interface {
	// Available is the member's spendable points now.
	Available(ctx context.Context, memberID bson.ObjectID) (int64, error)
	// Charge debits points under key, once per key (a repeat changes
	// nothing), the entry's source the event. A balance short of points is
	// refused with the ledger's insufficient-points error; no race takes a
	// balance below zero (the ledger appends on its chain's head).
	Charge(ctx context.Context, memberID bson.ObjectID, key string, eventID bson.ObjectID, points int64, title string) error
	// Refund credits back the charge made under key, once, if there was one.
	Refund(ctx context.Context, memberID bson.ObjectID, key string, eventID bson.ObjectID, points int64, title string) error
}

// chargeKey is the ledger key of an answer's payment: one per RSVP key
// (keys are unique per member), so an answer pays at most once.
func chargeKey(r *RSVP) string { return "event:" + r.EventID.Hex() + ":" + r.Key }

// canPay refuses an RSVP of a member without the event's price.
func (s *Service) canPay(ctx context.Context, e *events.Event, memberID bson.ObjectID) error {
	if e.PricePoints == 0 || s.Payments == nil {
		return nil
	}
	n, err := s.Payments.Available(ctx, memberID)
	if err != nil {
		return err
	}
	if n < e.PricePoints {
		return input.Errorf("eventId", "this event costs %d points; you have %d", e.PricePoints, n)
	}
	return nil
}

// pay charges a confirmed RSVP the event's price (keyed: a retry pays
// once) and records it on the RSVP. A member who can no longer pay (spent
// meanwhile) loses the seat: the RSVP is cancelled, its seats handed on,
// and the refusal returned.
func (s *Service) pay(ctx context.Context, e *events.Event, r *RSVP) (*RSVP, error) {
	if e.PricePoints == 0 || s.Payments == nil || r.Status != Confirmed || r.Paid > 0 {
		return r, nil
	}
	if err := s.Payments.Charge(ctx, r.MemberID, chargeKey(r), e.ID, e.PricePoints, e.Title); err != nil {
		if isRefusal(err) {
			if _, cerr := s.cancel(ctx, r, false); cerr != nil {
				return nil, cerr
			}
			return nil, input.Wrap("eventId", err)
		}
		return nil, err // the retry (or the repair job) pays
	}
	if _, err := s.rsvps.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: r.ID}, {Key: "key", Value: r.Key}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "paid", Value: e.PricePoints}}}}); err != nil {
		return nil, err
	}
	r.Paid = e.PricePoints
	return r, nil
}

// refund gives back what a cancelled RSVP paid when a refund is due (keyed:
// once), and records it.
func (s *Service) refund(ctx context.Context, e *events.Event, r *RSVP) error {
	if r.Paid == 0 || r.Refunded || !r.RefundDue || s.Payments == nil {
		return nil
	}
	if err := s.Payments.Refund(ctx, r.MemberID, chargeKey(r), e.ID, r.Paid, e.Title); err != nil {
		return err
	}
	_, err := s.rsvps.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: r.ID}, {Key: "key", Value: r.Key}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "refunded", Value: true}}}})
	r.Refunded = err == nil
	return err
}

// isRefusal reports an error the caller caused (not enough points), as
// opposed to a failure to retry.
func isRefusal(err error) bool { return fault.CodeOf(err) != fault.Internal }

// RefundCancelled gives back what members paid for events the brand
// cancelled (whatever the refund cutoff), keyed, so it is safe to repeat:
// Cancel runs it at once and the background job finishes what a failure
// left. It returns how many RSVPs it refunded.
func (j *Jobs) RefundCancelled(ctx context.Context) (int, error) {
	cancelled, err := j.svc.catalog.RefundsDue(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range cancelled {
		k, err := j.svc.Refund(ctx, e)
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Refund gives back what members paid for the cancelled event e, keyed
// (events.Seating; see RefundCancelled), and returns how many RSVPs it
// refunded.
func (s *Service) Refund(ctx context.Context, e *events.Event) (int, error) {
	n := 0
	for {
		cur, err := s.rsvps.c.Find(ctx, bson.D{{Key: "eventId", Value: e.ID}, {Key: "paid", Value: bson.D{{Key: "$gt", Value: 0}}}, {Key: "refunded", Value: bson.D{{Key: "$ne", Value: true}}}},
			options.Find().SetLimit(200))
		if err != nil {
			return n, err
		}
		var paid []*RSVP
		if err := cur.All(ctx, &paid); err != nil {
			return n, err
		}
		for _, r := range paid {
			r.RefundDue = true
			if err := s.refund(ctx, e, r); err != nil {
				return n, fmt.Errorf("refund %s: %w", r.ID, err)
			}
			n++
		}
		if len(paid) < 200 {
			break
		}
	}
	return n, s.catalog.Refunded(ctx, e.ID)
}
