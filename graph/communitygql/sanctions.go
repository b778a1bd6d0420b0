package communitygql

import (
	"context"

	"github.com/regulars/regulars/graph/model"
	"github.com/regulars/regulars/graph/relay"
	"github.com/regulars/regulars/member"

	"github.com/regulars/regulars/community/moderation"
)

// LiftSanction is the resolver for the liftSanction field.
func (r Mutation) LiftSanction(ctx context.Context, memberID string, kind moderation.SanctionKind, spaceID *string, reason *string) (*moderation.Sanction, error) {
	mid, err := relay.DecodeID("Member", "memberId", memberID)
	if err != nil {
		return nil, err
	}
	sid, err := relay.DecodeOptionalID("Space", "spaceId", spaceID)
	if err != nil {
		return nil, err
	}
	return r.Community.Moderation().LiftSanction(ctx, member.PrincipalFrom(ctx), mid, sid, kind, model.Deref(reason))
}
