// Package attendees is who answered an event, as the brand and the
// background jobs read it: an event's answers of a status (the waitlist in
// the order offers go out), their counts, a member's answers across
// events, who may see which (policy.go), and the reminders sent to those
// confirmed (remind.go). It reads the collection event_rsvps, which
// community/events/rsvp owns and alone writes; nothing here writes it.
package attendees

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/community/events"
	"github.com/regulars/regulars/community/events/rsvp"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/page"
	"github.com/regulars/regulars/member"
)

// Deps is what the attendees' views use of the rest of the system.
type Deps struct {
	// Notify sends the reminders.
	Notify events.Notifier
	Now    func() time.Time
}

// Service reads the answers to the events of one catalog.
type Service struct {
	Deps
	catalog *events.Service
	rsvps   store
}

// New returns the attendees' views over db, of the events of catalog.
func New(db *mongo.Database, catalog *events.Service, d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Service{Deps: d, catalog: catalog, rsvps: store{c: db.Collection("event_rsvps")}}
}

// Attendees lists an event's RSVPs of one status in waitlist order (for
// WAITLISTED, the order offers go out: rsvp.WaitlistOrder), after the RSVP
// id after ("": from the first; an unknown one is NOT_FOUND on after), up
// to limit, and whether more follow.
func (s *Service) Attendees(ctx context.Context, eventID bson.ObjectID, status rsvp.Status, after string, limit int) ([]*rsvp.RSVP, bool, error) {
	filter := bson.D{{Key: "eventId", Value: eventID}, {Key: "status", Value: status}}
	sort := rsvp.WaitlistOrder()
	if status != rsvp.Waitlisted {
		sort = bson.D{{Key: "eventId", Value: 1}, {Key: "status", Value: 1}, {Key: "_id", Value: 1}}
		if after != "" {
			filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}})
		}
	} else if after != "" {
		a, err := s.rsvps.get(ctx, after)
		if err != nil {
			return nil, false, input.Wrap("after", err)
		}
		filter = append(filter, rsvp.AfterInWaitlist(a))
	}
	return page.Find[*rsvp.RSVP](ctx, s.rsvps.c, filter, options.Find().SetSort(sort), limit)
}

// Counts are an event's RSVPs by status, with the guests of confirmed ones.
type Counts struct {
	Confirmed, Guests, Waitlisted, Offered, Attended, NoShow int
}

// CountsOf counts an event's RSVPs by status.
func (s *Service) CountsOf(ctx context.Context, eventID bson.ObjectID) (*Counts, error) {
	cur, err := s.rsvps.c.Find(ctx, bson.D{{Key: "eventId", Value: eventID}},
		options.Find().SetProjection(bson.D{{Key: "status", Value: 1}, {Key: "guests", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var rows []struct {
		Status rsvp.Status `bson:"status"`
		Guests int         `bson:"guests"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return nil, err
	}
	c := &Counts{}
	for _, r := range rows {
		switch r.Status {
		case rsvp.Confirmed:
			c.Confirmed++
			c.Guests += r.Guests
		case rsvp.Waitlisted:
			c.Waitlisted++
		case rsvp.Offered:
			c.Offered++
		case rsvp.Attended:
			c.Attended++
			c.Guests += r.Guests
		case rsvp.NoShow:
			c.NoShow++
		}
	}
	return c, nil
}

// RSVPsOf pages memberID's answers to events as p reads them (the member's
// profile in the console), the most recently created event first, after
// the event before (zero: from the first), at most limit, and whether more
// follow: one range read of the index memberId_eventId. Statuses are as
// stored (a confirmed answer to a past event becomes ATTENDED or NO_SHOW).
// p must be the member or the brand, else ErrNotYourMembersRSVPs.
func (s *Service) RSVPsOf(ctx context.Context, p member.Principal, memberID, before bson.ObjectID, limit int) ([]*rsvp.RSVP, bool, error) {
	if !MayReadRSVPsOf(p, memberID) {
		return nil, false, ErrNotYourMembersRSVPs
	}
	filter := bson.D{{Key: "memberId", Value: memberID}}
	if !before.IsZero() {
		filter = append(filter, bson.E{Key: "eventId", Value: bson.D{{Key: "$lt", Value: before}}})
	}
	return page.Find[*rsvp.RSVP](ctx, s.rsvps.c, filter, options.Find().SetSort(bson.D{{Key: "memberId", Value: 1}, {Key: "eventId", Value: -1}}), limit)
}

// store reads event_rsvps. Its queries use the indexes community/events/rsvp
// declares beside its own (which need them too): an event's answers by
// status in waitlist order (indexWaitlist), a member's answers
// (indexMember).
type store struct{ c *mongo.Collection }

const (
	indexWaitlist = "event_status_priority2"
	indexMember   = "member_event"
)

func (s store) get(ctx context.Context, id string) (*rsvp.RSVP, error) {
	var r rsvp.RSVP
	err := s.c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&r)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, rsvp.ErrRSVPNotFound
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}
