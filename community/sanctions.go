package community

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/community/moderation"
	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/member"
)

// ErrNoSanction: the member has no sanction of that kind in force there.
var ErrNoSanction = fault.New(fault.NotFound, "no such sanction in force")

// LiftSanction ends the member's sanction of kind in one space (a
// moderator of it) or, with spaceID zero, the one everywhere (global
// moderators and the brand), now; the same rules as SanctionMember. It
// returns the sanction as lifted (Until now), ErrNoSanction when none is in
// force, an input error on "memberId", "spaceId", "kind" or "reason". Logged.
func (s *Moderation) LiftSanction(ctx context.Context, p member.Principal, memberID, spaceID bson.ObjectID, kind moderation.SanctionKind, reason string) (*moderation.Sanction, error) {
	if err := s.maySanction(ctx, p, spaceID, kind); err != nil {
		return nil, err
	}
	reason, err := checkReason(reason)
	if err != nil {
		return nil, err
	}
	if _, err := s.members.Get(ctx, memberID); err != nil {
		return nil, input.Wrap("memberId", err)
	}
	now := s.now().UTC()
	sn, err := s.mod.Lift(ctx, memberID, spaceID, kind, now)
	if err != nil {
		return nil, err
	}
	if sn == nil {
		return nil, ErrNoSanction
	}
	was := sn.Until
	sn.Until = now
	return sn, s.log(ctx, p, "LIFT_"+string(kind), moderation.TargetMember, memberID.Hex(), spaceID, reason, "", "was until "+was.Format(time.RFC3339))
}
