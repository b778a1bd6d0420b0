package forum

import (
	"context"

	"github.com/regulars/regulars/internal/page"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Spaces keeps the spaces (community_spaces).
type Spaces struct{ spaces *mongo.Collection }

// --- spaces

// Save inserts sp, or replaces the space with its id.
func (s *Spaces) Save(ctx context.Context, sp *Space) error {
	_, err := s.spaces.ReplaceOne(ctx, byID(sp.ID), sp, options.Replace().SetUpsert(true))
	return err
}

// Get returns a space.
func (s *Spaces) Get(ctx context.Context, id bson.ObjectID) (*Space, error) {
	return one[Space](ctx, s.spaces, byID(id), ErrSpaceNotFound)
}

// List pages spaces by id, oldest first, after after (zero: the start).
func (s *Spaces) List(ctx context.Context, after bson.ObjectID, limit int) ([]*Space, bool, error) {
	filter := bson.D{}
	if !after.IsZero() {
		filter = bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}}}
	}
	return page.Find[*Space](ctx, s.spaces, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}), limit)
}
