package forum

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Limits keeps the posting limits (community_limits): slow mode per space
// and member, and new members' posts per day.
type Limits struct{ limits *mongo.Collection }

// --- limits

// SlowMode claims member's next post in a space: at most one per every
// seconds. The claim is one conditional upsert of the (space, member)
// document: when a post was claimed less than seconds ago the filter
// misses, the upsert's insert collides with the existing document, and
// the caller gets ErrSlowMode.
func (s *Limits) SlowMode(ctx context.Context, spaceID, memberID bson.ObjectID, seconds int, now time.Time) error {
	if seconds <= 0 {
		return nil
	}
	return s.claim(ctx, "slow:"+spaceID.Hex()+":"+memberID.Hex(),
		bson.D{{Key: "at", Value: bson.D{{Key: "$lte", Value: now.Add(-time.Duration(seconds) * time.Second)}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "at", Value: now}}}}, ErrSlowMode)
}

// DailyPosts claims one of member's n posts of day (their local date).
func (s *Limits) DailyPosts(ctx context.Context, memberID bson.ObjectID, day string, n int) error {
	return s.claim(ctx, "day:"+memberID.Hex()+":"+day,
		bson.D{{Key: "n", Value: bson.D{{Key: "$lt", Value: n}}}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}, ErrDailyPosts)
}

func (s *Limits) claim(ctx context.Context, id string, cond, update bson.D, refused error) error {
	_, err := s.limits.UpdateOne(ctx, append(bson.D{{Key: "_id", Value: id}}, cond...), update, options.UpdateOne().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) {
		return refused
	}
	return err
}
