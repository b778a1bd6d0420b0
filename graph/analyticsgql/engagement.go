package analyticsgql

import (
	"context"
	"github.com/regulars/regulars/graph/model"
	"time"

	"github.com/regulars/regulars/graph/relay"

	"github.com/regulars/regulars/analytics"
	"github.com/regulars/regulars/game/leaderboard"
)

// Engagement is the resolver for the engagement field.
func (r Analytics) Engagement(ctx context.Context, obj *model.Analytics, rangeArg analytics.Range, boards leaderboard.Period) (*analytics.Engagement, error) {
	return r.AnalyticsService.Engagement(ctx, rangeArg, boards)
}

// AsOf is the resolver for the asOf field.
func (r AnalyticsEngagement) AsOf(ctx context.Context, obj *analytics.Engagement) (*time.Time, error) {
	return asOf(obj.Freshness), nil
}

// BadgeID is the resolver for the badgeId field.
func (r BadgeUnlocks) BadgeID(ctx context.Context, obj *analytics.BadgeUnlocks) (string, error) {
	return relay.EncodeID("Badge", obj.BadgeID), nil
}

// EventID is the resolver for the eventId field.
func (r EventAttendance) EventID(ctx context.Context, obj *analytics.EventAttendance) (*string, error) {
	if obj.EventID.IsZero() {
		return nil, nil
	}
	id := relay.EncodeID("Event", obj.EventID)
	return &id, nil
}

// Title is the resolver for the title field.
func (r EventAttendance) Title(ctx context.Context, obj *analytics.EventAttendance) (*string, error) {
	if obj.EventID.IsZero() {
		return nil, nil
	}
	return &obj.Title, nil
}

// StartsAt is the resolver for the startsAt field.
func (r EventAttendance) StartsAt(ctx context.Context, obj *analytics.EventAttendance) (*time.Time, error) {
	if obj.EventID.IsZero() {
		return nil, nil
	}
	return &obj.StartsAt, nil
}
