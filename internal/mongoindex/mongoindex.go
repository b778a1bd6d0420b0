// Package mongoindex creates the indexes each store declares.
package mongoindex

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Ensure creates every index of models on coll; safe to repeat. One at a
// time: re-creating a batch that partly exists trips up some
// MongoDB-compatible servers, and each create is idempotent.
func Ensure(ctx context.Context, coll *mongo.Collection, models ...mongo.IndexModel) error {
	for _, m := range models {
		if _, err := coll.Indexes().CreateOne(ctx, m); err != nil {
			return fmt.Errorf("%s indexes: %w", coll.Name(), err)
		}
	}
	return nil
}

// Set is the indexes a store declares for one of its collections.
type Set struct {
	C      *mongo.Collection
	Models []mongo.IndexModel
}

// EnsureAll ensures every set in turn (Ensure); safe to repeat.
func EnsureAll(ctx context.Context, sets ...Set) error {
	for _, s := range sets {
		if err := Ensure(ctx, s.C, s.Models...); err != nil {
			return err
		}
	}
	return nil
}
