package communitygql

import (
	"context"
	"strconv"

	"github.com/regulars/regulars/graph/relay"

	"github.com/regulars/regulars/community"
	"github.com/regulars/regulars/community/moderation"
	"github.com/regulars/regulars/community/reviewlive"
	"github.com/regulars/regulars/member"
)

// TrustLevel is the resolver for the trustLevel field.
func (r CommunityStanding) TrustLevel(ctx context.Context, obj *community.MemberStanding) (int, error) {
	return obj.Trust, nil
}

// PostsLast30Days is the resolver for the postsLast30Days field.
func (r CommunityStanding) PostsLast30Days(ctx context.Context, obj *community.MemberStanding) (int, error) {
	return int(obj.PostsLast30d), nil
}

// HiddenRecently is the resolver for the hiddenRecently field.
func (r CommunityStanding) HiddenRecently(ctx context.Context, obj *community.MemberStanding) (bool, error) {
	return obj.HiddenRecent, nil
}

// CommunityStanding is the resolver for the communityStanding field.
func (r Member) CommunityStanding(ctx context.Context, obj *member.Member) (*community.MemberStanding, error) {
	return r.Community.StandingOf(ctx, member.PrincipalFrom(ctx), obj.ID)
}

// FirstFlags is the resolver for the firstFlags field.
func (r ReviewItem) FirstFlags(ctx context.Context, obj *community.QueueEntry, first *int) ([]*moderation.Flag, error) {
	n := 3
	if first != nil {
		var err error
		if n, err = relay.PageSize(first); err != nil {
			return nil, err
		}
	}
	return obj.Flags[:min(n, len(obj.Flags))], nil
}

// SpaceID is the resolver for the spaceId field.
func (r ReviewQueueChange) SpaceID(ctx context.Context, obj *reviewlive.Change) (string, error) {
	return relay.EncodeID("Space", obj.SpaceID), nil
}

// MorePending is the resolver for the morePending field.
func (r ReviewQueueChange) MorePending(ctx context.Context, obj *reviewlive.Change) (bool, error) {
	return obj.More, nil
}

// Version is the resolver for the version field.
func (r ReviewQueueChange) Version(ctx context.Context, obj *reviewlive.Change) (string, error) {
	return strconv.FormatUint(obj.Version, 16), nil
}

// ReviewQueueChanged is the resolver for the reviewQueueChanged field.
func (r Subscription) ReviewQueueChanged(ctx context.Context, spaceID string) (<-chan *reviewlive.Change, error) {
	sid, err := relay.DecodeID("Space", "spaceId", spaceID)
	if err != nil {
		return nil, err
	}
	return r.ReviewQueue.Watch(ctx, member.PrincipalFrom(ctx), sid)
}
