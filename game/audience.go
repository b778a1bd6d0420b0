package game

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/internal/batch"
)

// offerAudience answers package offer's questions about members from the
// accounts (game/referral), engagement (game/engagement) and the game's
// activities (offer.Audience, offer.Facts), and sends its announcements
// through the game's notifier (offer.Notifier), read at each send.
type offerAudience struct{ s *Service }

func (x offerAudience) Send(ctx context.Context, m inbox.Message) (*inbox.Notification, error) {
	return x.s.notify.Send(ctx, m)
}

// SendBatch sends a batch on the game's effects path (effects.Path.SendBatch).
func (x offerAudience) SendBatch(ctx context.Context, ms []inbox.Message) ([]*inbox.Notification, int, error) {
	return x.s.path.SendBatch(ctx, ms)
}

func (x offerAudience) Count(ctx context.Context) (int64, error) { return x.s.referrals.Count(ctx) }

func (x offerAudience) Step(ctx context.Context, after bson.ObjectID, size, workers int, work func(ctx context.Context, memberID bson.ObjectID) (bool, error)) (batch.Result, error) {
	return x.s.referrals.Step(ctx, after, size, workers, work)
}

func (x offerAudience) Enroll(ctx context.Context, memberID bson.ObjectID) error {
	_, err := x.s.referrals.Account(ctx, memberID)
	return err
}

func (x offerAudience) HasBadge(ctx context.Context, memberID, badgeID bson.ObjectID) (bool, error) {
	return x.s.engagement.HasBadge(ctx, memberID, badgeID)
}

func (x offerAudience) BadgeExists(ctx context.Context, badgeID bson.ObjectID) (bool, error) {
	return x.s.engagement.BadgeExists(ctx, badgeID)
}

// LastPurchase is when the member last bought (zero: never).
func (x offerAudience) LastPurchase(ctx context.Context, memberID bson.ObjectID) (time.Time, error) {
	return x.s.acts.LastPurchase(ctx, memberID)
}
