package game

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/internal/byid"
)

// Lookups by id, for refetching any object by its global id (graph's
// node and nodes). Each is one query on _id, whatever the number of ids.

// ActivitiesByID returns activities in the order of ids; missing ones are nil.
func (s *Service) ActivitiesByID(ctx context.Context, ids []bson.ObjectID) ([]*Activity, error) {
	return byid.Find(ctx, s.acts.c, ids, func(a *Activity) bson.ObjectID { return a.ID })
}
