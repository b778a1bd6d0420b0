package rsvp

import (
	"context"
	"errors"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// PenaltyRules says how long a no-show costs a member waitlist priority
// (the program's eventNoShowPenaltyEvents; the server reads the program).
type PenaltyRules interface {
	// NoShowPenaltyEvents is how many of a member's next events, answered
	// after they were marked NO_SHOW, put them behind members without a
	// penalty on the waitlist; 0: no penalty (the default).
	NoShowPenaltyEvents(ctx context.Context) (int, error)
}

// NoShowPenalty is why an RSVP waits behind members without a penalty:
// the member was marked NO_SHOW at MissedAt for the event MissedEventID,
// and this RSVP is one of their next EventsCount answers after it.
type NoShowPenalty struct {
	MissedEventID bson.ObjectID `bson:"missedEventId"`
	MissedTitle   string        `bson:"missedTitle"`
	MissedAt      time.Time     `bson:"missedAt"`
	// EventsCount is the program's penalty length when this RSVP was made.
	EventsCount int `bson:"eventsCount"`
}

// penaltyFor is the no-show penalty a new answer of the member to eventID
// carries, nil if none: with the program's setting N > 0, the member's
// latest NO_SHOW penalises the next N events they answer after it was
// marked (this one included while fewer than N others were answered since).
func (s *Service) penaltyFor(ctx context.Context, memberID, eventID bson.ObjectID) (*NoShowPenalty, error) {
	if s.Penalty == nil {
		return nil, nil
	}
	n, err := s.Penalty.NoShowPenaltyEvents(ctx)
	if err != nil || n <= 0 {
		return nil, err
	}
	// The member's no-shows are few: the member_event index's memberId
	// prefix finds them, sorted in memory.
	var last RSVP
	err = s.rsvps.c.FindOne(ctx, bson.D{{Key: "memberId", Value: memberID}, {Key: "status", Value: NoShow}},
		options.FindOne().SetSort(bson.D{{Key: "noShowAt", Value: -1}, {Key: "updatedAt", Value: -1}})).Decode(&last)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	at := last.UpdatedAt
	if last.NoShowAt != nil {
		at = *last.NoShowAt
	}
	since, err := s.rsvps.c.CountDocuments(ctx, bson.D{{Key: "memberId", Value: memberID}, {Key: "eventId", Value: bson.D{{Key: "$ne", Value: eventID}}},
		{Key: "createdAt", Value: bson.D{{Key: "$gte", Value: at}}}}, options.Count().SetLimit(int64(n)))
	if err != nil {
		return nil, err
	}
	if since >= int64(n) {
		return nil, nil
	}
	title := ""
	if e, err := s.catalog.Get(ctx, last.EventID); err == nil {
		title = e.Title
	}
	return &NoShowPenalty{MissedEventID: last.EventID, MissedTitle: title, MissedAt: at, EventsCount: n}, nil
}

// penaltyRank is the waitlist's penalty level: 1 with a penalty, else 0.
func penaltyRank(p *NoShowPenalty) int {
	if p != nil {
		return 1
	}
	return 0
}

// Waitlist order (the index event_status_priority2 follows it): fewest
// lapsed offers, then members without a no-show penalty, then higher
// tier, then earlier joining, then id. An RSVP stored before penalties
// existed has no penalized field and counts as 0.
var waitlistOrder = bson.D{{Key: "eventId", Value: 1}, {Key: "status", Value: 1}, {Key: "lapses", Value: 1}, {Key: "penalized", Value: 1},
	{Key: "tierRank", Value: -1}, {Key: "joinedAt", Value: 1}, {Key: "_id", Value: 1}}

// WaitlistOrder is the waitlist's sort (waitlistOrder), for the views
// that list it in the order offers go out (community/events/attendees).
func WaitlistOrder() bson.D { return slices.Clone(waitlistOrder) }

// AfterInWaitlist is the filter of the RSVPs after r in waitlist order.
func AfterInWaitlist(r *RSVP) bson.E { return orderedFrom(r, true) }

// penalizedIs matches the RSVPs whose penalty level is p (0 matches a
// missing field too).
func penalizedIs(p int) bson.E {
	if p == 0 {
		return bson.E{Key: "penalized", Value: bson.D{{Key: "$ne", Value: 1}}}
	}
	return bson.E{Key: "penalized", Value: 1}
}

// orderedFrom is the filter of the RSVPs before r in waitlist order
// (after r with after set), one $or over the order's levels.
func orderedFrom(r *RSVP, after bool) bson.E {
	lt, gt := "$lt", "$gt"
	if after {
		lt, gt = gt, lt
	}
	or := bson.A{bson.D{{Key: "lapses", Value: bson.D{{Key: lt, Value: r.Lapses}}}}}
	// The penalty level: 0 < 1.
	if (!after && r.Penalized == 1) || (after && r.Penalized == 0) {
		or = append(or, bson.D{{Key: "lapses", Value: r.Lapses}, penalizedIs(1 - r.Penalized)})
	}
	same := bson.D{{Key: "lapses", Value: r.Lapses}, penalizedIs(r.Penalized)}
	or = append(or,
		append(same[:len(same):len(same)], bson.E{Key: "tierRank", Value: bson.D{{Key: gt, Value: r.TierRank}}}),
		append(same[:len(same):len(same)], bson.E{Key: "tierRank", Value: r.TierRank}, bson.E{Key: "joinedAt", Value: bson.D{{Key: lt, Value: r.JoinedAt}}}),
		append(same[:len(same):len(same)], bson.E{Key: "tierRank", Value: r.TierRank}, bson.E{Key: "joinedAt", Value: r.JoinedAt},
			bson.E{Key: "_id", Value: bson.D{{Key: lt, Value: r.ID}}}))
	return bson.E{Key: "$or", Value: or}
}
