package member

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// EmailMigration says what CanonicalizeEmails did.
type EmailMigration struct {
	Checked, Changed int
	// Conflicts are members whose canonical address another member already
	// has: two accounts for one person, left as they are for a person to
	// merge or close. Unparseable lists addresses NormalizeEmail refuses.
	Conflicts, Unparseable []bson.ObjectID
}

// CanonicalizeEmails rewrites every stored address into the form
// NormalizeEmail gives today (rows from before it was lower-case only).
// It pages by _id and changes a row only if its address is still the one
// read, so it is safe to run again, and on MongoDB while the service runs
// (the embedded database's directory is locked by a running server).
func (s *Service) CanonicalizeEmails(ctx context.Context) (EmailMigration, error) {
	var r EmailMigration
	after := bson.ObjectID{}
	for {
		cur, err := s.members.c.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}}},
			options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(500).SetProjection(bson.D{{Key: "email", Value: 1}}))
		if err != nil {
			return r, err
		}
		var page []struct {
			ID    bson.ObjectID `bson:"_id"`
			Email string        `bson:"email"`
		}
		if err := cur.All(ctx, &page); err != nil {
			return r, err
		}
		if len(page) == 0 {
			return r, nil
		}
		for _, m := range page {
			after = m.ID
			r.Checked++
			canonical, err := NormalizeEmail(m.Email)
			if err != nil {
				r.Unparseable = append(r.Unparseable, m.ID)
				continue
			}
			if canonical == m.Email {
				continue
			}
			// The unique index refuses a clash anyway; looking first names
			// it without relying on how a server words that refusal.
			if _, err := s.members.byEmail(ctx, canonical); err == nil {
				r.Conflicts = append(r.Conflicts, m.ID)
				continue
			} else if !errors.Is(err, ErrNotFound) {
				return r, err
			}
			res, err := s.members.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: m.ID}, {Key: "email", Value: m.Email}},
				bson.D{{Key: "$set", Value: bson.D{{Key: "email", Value: canonical}}}})
			switch {
			case mongo.IsDuplicateKeyError(err):
				r.Conflicts = append(r.Conflicts, m.ID)
			case err != nil:
				return r, err
			case res.ModifiedCount == 1:
				r.Changed++
			}
		}
	}
}
