package rsvp

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/internal/page"
	"github.com/regulars/regulars/member"
)

// ErrNotYourMembersRSVPs: a member's RSVPs are theirs and the brand's to
// read (door staff see an event's attendees, not a member's history).
var ErrNotYourMembersRSVPs = fault.New(fault.Forbidden, "only the member and the brand see a member's RSVPs")

// RSVPsOf pages memberID's answers to events as p reads them (the member's
// profile in the console), the most recently created event first, after
// the event before (zero: from the first), at most limit, and whether more
// follow: one range read of the index memberId_eventId. Statuses are as
// stored (a confirmed answer to a past event becomes ATTENDED or NO_SHOW).
// p must be the member or the brand, else ErrNotYourMembersRSVPs.
func (s *Service) RSVPsOf(ctx context.Context, p member.Principal, memberID, before bson.ObjectID, limit int) ([]*RSVP, bool, error) {
	if p.MemberID != memberID && !p.Has(member.RoleBrand) {
		return nil, false, ErrNotYourMembersRSVPs
	}
	filter := bson.D{{Key: "memberId", Value: memberID}}
	if !before.IsZero() {
		filter = append(filter, bson.E{Key: "eventId", Value: bson.D{{Key: "$lt", Value: before}}})
	}
	return page.Find[*RSVP](ctx, s.rsvps.c, filter, options.Find().SetSort(bson.D{{Key: "memberId", Value: 1}, {Key: "eventId", Value: -1}}), limit)
}
