package game

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// membersMatching returns the distinct members of the documents in c that
// match filter, in the order first seen.
func membersMatching(ctx context.Context, c *mongo.Collection, filter bson.D) ([]bson.ObjectID, error) {
	cur, err := c.Find(ctx, filter, options.Find().SetProjection(bson.D{{Key: "memberId", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var docs []struct {
		MemberID bson.ObjectID `bson:"memberId"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	seen := map[bson.ObjectID]bool{}
	var ids []bson.ObjectID
	for _, d := range docs {
		if !seen[d.MemberID] {
			seen[d.MemberID] = true
			ids = append(ids, d.MemberID)
		}
	}
	return ids, nil
}

// page trims a list read with one item past limit, the extra item telling
// whether more remain.
func page[T any](items []T, limit int) ([]T, bool) {
	if len(items) > limit {
		return items[:limit], true
	}
	return items, false
}
