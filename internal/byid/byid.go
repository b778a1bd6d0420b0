// Package byid looks documents up by a list of ids in one query and hands
// them back in the order asked for, as graph's node lookups and dataloaders
// need them.
package byid

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Find returns the documents of c whose _id is in ids, in the order of ids,
// nil for the missing ones: one query on _id, whatever the number of ids.
func Find[T any](ctx context.Context, c *mongo.Collection, ids []bson.ObjectID, idOf func(*T) bson.ObjectID) ([]*T, error) {
	cur, err := c.Find(ctx, Filter(ids))
	if err != nil {
		return nil, err
	}
	var found []*T
	if err := cur.All(ctx, &found); err != nil {
		return nil, err
	}
	return Order(ids, found, idOf), nil
}

// Filter matches the documents whose _id is in ids: {_id: id} for one
// id, {_id: {$in: ids}} for more. The same documents on MongoDB; the
// embedded database looks up an _id equality by its index but scans the
// whole collection for any $in, and most look-ups (a member's name beside
// a notification, a node) ask for one id: in the soak, 95 of the 143
// members' look-ups by ids, each a scan of 300 ms there.
func Filter(ids []bson.ObjectID) bson.D {
	if len(ids) == 1 {
		return bson.D{{Key: "_id", Value: ids[0]}}
	}
	return bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}
}

// Order arranges found in the order of ids, nil where none has the id.
func Order[T any](ids []bson.ObjectID, found []*T, idOf func(*T) bson.ObjectID) []*T {
	byID := make(map[bson.ObjectID]*T, len(found))
	for _, t := range found {
		byID[idOf(t)] = t
	}
	out := make([]*T, len(ids))
	for i, id := range ids {
		out[i] = byID[id]
	}
	return out
}
