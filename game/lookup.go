package game

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/internal/byid"
)

// Lookups by id, for refetching any object by its global id (graph's
// node and nodes). Each is one query on _id, whatever the number of ids.

var (
	ErrBadgeNotFound = fault.New(fault.NotFound, "badge not found")
)

// ActivitiesByID returns activities in the order of ids; missing ones are nil.
func (s *Service) ActivitiesByID(ctx context.Context, ids []bson.ObjectID) ([]*Activity, error) {
	return byid.Find(ctx, s.acts.c, ids, func(a *Activity) bson.ObjectID { return a.ID })
}

// OnPublicBoards says whether the member shows on public leaderboards (has
// not opted out); a member without an account yet does.
func (s *Service) OnPublicBoards(ctx context.Context, memberID bson.ObjectID) (bool, error) {
	out, err := s.optedOut(ctx, memberID)
	return !out, err
}
