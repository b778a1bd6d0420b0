package community

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/community/moderation"
	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/member"
)

// ErrNotYourMembersStanding: a member's community standing is theirs and
// the brand's and moderators' to read.
var ErrNotYourMembersStanding = fault.New(fault.Forbidden, "only the member, the brand and moderators see a member's community standing")

// MemberStanding is a member's community record: what moderators see of
// an author (History) and the sanctions in force.
type MemberStanding struct {
	AuthorHistory
	// Sanctions in force now, at most 100 (moderation.Store.InForce).
	Sanctions []*moderation.Sanction
}

// StandingOf is memberID's community standing as p reads it (the member's
// profile in the console): p must be the member, the brand or a global
// moderator, else ErrNotYourMembersStanding.
func (s *Service) StandingOf(ctx context.Context, p member.Principal, memberID bson.ObjectID) (*MemberStanding, error) {
	if p.MemberID != memberID && !staff(p) {
		return nil, ErrNotYourMembersStanding
	}
	h, err := s.moderation.History(ctx, memberID)
	if err != nil {
		return nil, err
	}
	sn, err := s.mod.InForce(ctx, memberID, s.now())
	if err != nil {
		return nil, err
	}
	return &MemberStanding{AuthorHistory: h, Sanctions: sn}, nil
}
