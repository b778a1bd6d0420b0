package gamegql

import (
	"context"
	"time"

	"github.com/regulars/regulars/graph/model"
	"github.com/regulars/regulars/graph/relay"
	"github.com/regulars/regulars/graph/request"

	"github.com/regulars/regulars/game"
	"github.com/regulars/regulars/game/engagement"
	"github.com/regulars/regulars/game/leaderboard"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/game/streak"
	"github.com/regulars/regulars/member"
)

// Streak is the resolver for the streak field.
func (r ActivityResult) Streak(ctx context.Context, obj *game.ActivityResult) (*model.StreakChange, error) {
	if obj.Streak == nil {
		return nil, nil
	}
	e := obj.Streak
	return &model.StreakChange{Current: obj.StreakCurrent, Extended: e.Extended, Reset: e.Reset, FreezesUsed: e.FreezesUsed, FreezeEarned: e.FreezeEarned}, nil
}

// ID is the resolver for the id field.
func (r Badge) ID(ctx context.Context, obj *engagement.Badge) (string, error) {
	return relay.EncodeID("Badge", obj.ID), nil
}

// ImageURL is the resolver for the imageUrl field.
func (r Badge) ImageURL(ctx context.Context, obj *engagement.Badge) (*string, error) {
	return model.Optional(obj.ImageURL), nil
}

// Backfill is the resolver for the backfill field.
func (r Badge) Backfill(ctx context.Context, obj *engagement.Badge) (*engagement.Backfill, error) {
	if !program.ManagesProgram(member.PrincipalFrom(ctx)) {
		return nil, nil
	}
	return &obj.Backfill, nil
}

// Streak is the resolver for the streak field.
func (r Member) Streak(ctx context.Context, obj *member.Member) (*streak.View, error) {
	return r.Game.Engagement().Streak(ctx, obj.ID)
}

// Badges is the resolver for the badges field.
func (r Member) Badges(ctx context.Context, obj *member.Member) (*model.MemberBadges, error) {
	earned, progress, err := r.Game.Engagement().MemberBadges(ctx, obj.ID)
	if err != nil {
		return nil, err
	}
	mb := &model.MemberBadges{Earned: make([]*engagement.EarnedBadge, len(earned)), InProgress: make([]*engagement.BadgeProgress, len(progress))}
	for i := range earned {
		mb.Earned[i] = &earned[i]
	}
	for i := range progress {
		mb.InProgress[i] = &progress[i]
	}
	return mb, nil
}

// CreateBadge is the resolver for the createBadge field.
func (r Mutation) CreateBadge(ctx context.Context, input engagement.BadgeInput) (*engagement.Badge, error) {
	return r.Game.Engagement().CreateBadge(ctx, input)
}

// BuyStreakFreeze is the resolver for the buyStreakFreeze field.
func (r Mutation) BuyStreakFreeze(ctx context.Context, idempotencyKey string) (*streak.View, error) {
	self, err := member.PrincipalFrom(ctx).Self()
	if err != nil {
		return nil, err
	}
	return r.Game.Engagement().BuyStreakFreeze(ctx, self, idempotencyKey)
}

// SetLeaderboardOptOut is the resolver for the setLeaderboardOptOut field.
func (r Mutation) SetLeaderboardOptOut(ctx context.Context, optOut bool) (bool, error) {
	self, err := member.PrincipalFrom(ctx).Self()
	if err != nil {
		return false, err
	}
	return optOut, r.Game.Leaderboards().SetOptOut(ctx, self, optOut)
}

// ID is the resolver for the id field.
func (r PublicMember) ID(ctx context.Context, obj *model.PublicMember) (string, error) {
	return relay.EncodeID("PublicMember", obj.ID), nil
}

// AvatarURL is the resolver for the avatarUrl field.
func (r PublicMember) AvatarURL(ctx context.Context, obj *model.PublicMember) (*string, error) {
	return model.Optional(obj.AvatarURL), nil
}

// Badges is the resolver for the badges field.
func (r Query) Badges(ctx context.Context) ([]*engagement.Badge, error) {
	return r.Game.Engagement().VisibleBadges(ctx, member.PrincipalFrom(ctx))
}

// Leaderboard is the resolver for the leaderboard field.
func (r Query) Leaderboard(ctx context.Context, period leaderboard.Period, at *time.Time, first *int, after *string) (*model.Leaderboard, error) {
	limit, err := relay.PageSize(first)
	if err != nil {
		return nil, err
	}
	b, err := r.Game.Leaderboards().Board(ctx, period, model.Deref(at))
	if err != nil {
		return nil, err
	}
	list := relay.BoardList(b)
	from, err := relay.DecodeStandingCursor(list, after)
	if err != nil {
		return nil, err
	}
	rows, more, err := r.Rooms.Boards.Top(ctx, b, from, limit)
	if err != nil {
		return nil, err
	}
	lb := &model.Leaderboard{Period: b.Period, Key: b.Key, Final: b.Final}
	lb.Edges, lb.PageInfo = relay.Edges(rows, more, after, func(s leaderboard.Standing) string { return relay.EncodeStandingCursor(list, s) },
		func(c string, row leaderboard.Standing) *model.StandingEdge {
			return &model.StandingEdge{Cursor: c, Node: &row}
		})
	return lb, nil
}

// MyRank is the resolver for the myRank field.
func (r Query) MyRank(ctx context.Context, period leaderboard.Period, at *time.Time) (*leaderboard.Standing, error) {
	self, err := member.PrincipalFrom(ctx).Self()
	if err != nil {
		return nil, err
	}
	b, err := r.Game.Leaderboards().Board(ctx, period, model.Deref(at))
	if err != nil {
		return nil, err
	}
	st, err := r.Rooms.Boards.RankOf(ctx, b, self)
	return &st, err
}

// AroundMe is the resolver for the aroundMe field.
func (r Query) AroundMe(ctx context.Context, period leaderboard.Period, radius *int, at *time.Time) ([]*leaderboard.Standing, error) {
	self, err := member.PrincipalFrom(ctx).Self()
	if err != nil {
		return nil, err
	}
	b, err := r.Game.Leaderboards().Board(ctx, period, model.Deref(at))
	if err != nil {
		return nil, err
	}
	rows, err := r.Rooms.Boards.AroundMe(ctx, b, self, model.Deref(radius))
	if err != nil {
		return nil, err
	}
	out := make([]*leaderboard.Standing, len(rows))
	for i := range rows {
		out[i] = &rows[i]
	}
	return out, nil
}

// Rank is the resolver for the rank field.
func (r Standing) Rank(ctx context.Context, obj *leaderboard.Standing) (*int, error) {
	if obj.Rank == 0 {
		return nil, nil
	}
	n := int(obj.Rank)
	return &n, nil
}

// Member is the resolver for the member field.
func (r Standing) Member(ctx context.Context, obj *leaderboard.Standing) (*model.PublicMember, error) {
	m, err := request.LoadMember(ctx, obj.MemberID)
	if err != nil {
		return nil, err
	}
	return &model.PublicMember{Member: m}, nil
}

// IsMe is the resolver for the isMe field.
func (r Standing) IsMe(ctx context.Context, obj *leaderboard.Standing) (bool, error) {
	return member.PrincipalFrom(ctx).MemberID == obj.MemberID, nil
}
