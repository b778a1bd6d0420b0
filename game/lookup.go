package game

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/regulars/regulars/fault"
)

// Lookups by id, for refetching any object by its global id (graph's
// node and nodes). Each is one query on _id, whatever the number of ids.

var (
	ErrBadgeNotFound = fault.New(fault.NotFound, "badge not found")
)

// ActivitiesByID returns activities in the order of ids; missing ones are nil.
func (s *Service) ActivitiesByID(ctx context.Context, ids []bson.ObjectID) ([]*Activity, error) {
	return byIDs(ctx, s.acts.c, ids, func(a *Activity) bson.ObjectID { return a.ID })
}

// OnPublicBoards says whether the member shows on public leaderboards (has
// not opted out); a member without an account yet does.
func (s *Service) OnPublicBoards(ctx context.Context, memberID bson.ObjectID) (bool, error) {
	out, err := s.optedOut(ctx, memberID)
	return !out, err
}

// byIDs finds the documents of c with the given ids, in their order, nil
// for the missing ones.
func byIDs[T any](ctx context.Context, c *mongo.Collection, ids []bson.ObjectID, idOf func(*T) bson.ObjectID) ([]*T, error) {
	cur, err := c.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return nil, err
	}
	var found []*T
	if err := cur.All(ctx, &found); err != nil {
		return nil, err
	}
	byID := make(map[bson.ObjectID]*T, len(found))
	for _, t := range found {
		byID[idOf(t)] = t
	}
	out := make([]*T, len(ids))
	for i, id := range ids {
		out[i] = byID[id]
	}
	return out, nil
}
