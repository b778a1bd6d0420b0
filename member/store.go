package member

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/internal/byid"
)

// memberStore keeps members in the "members" collection.
type memberStore struct{ c *mongo.Collection }

// Index names, checked by the tests.
const (
	indexEmail       = "email_unique"
	indexBirthday    = "birthday"
	indexNameKey     = "name_key"
	indexUnannounced = "unannounced"
	indexDeleting    = "deleting"
)

func (s memberStore) indexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		// Log-in looks members up by email; unique so two sign-ups race safely.
		{Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetName(indexEmail).SetUnique(true)},
		// Search by the start of a display name (email prefixes use email_unique).
		{Keys: bson.D{{Key: "nameKey", Value: 1}}, Options: options.Index().SetName(indexNameKey)},
		// The birthday campaign.
		{Keys: bson.D{{Key: "birthday.month", Value: 1}, {Key: "birthday.day", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName(indexBirthday)},
		// Sign-ups not yet announced to webhooks; sparse: cleared once done.
		{Keys: bson.D{{Key: "unannounced", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName(indexUnannounced).SetSparse(true)},
		// Deletions cut short are found and finished (DeletionsPending).
		{Keys: bson.D{{Key: "deletedAt", Value: 1}}, Options: options.Index().SetName(indexDeleting).SetSparse(true)},
	}
}

func (s memberStore) insert(ctx context.Context, m *Member) error {
	_, err := s.c.InsertOne(ctx, m)
	if mongo.IsDuplicateKeyError(err) {
		return ErrEmailTaken
	}
	return err
}

func (s memberStore) byID(ctx context.Context, id bson.ObjectID) (*Member, error) {
	return s.one(ctx, bson.D{{Key: "_id", Value: id}})
}

func (s memberStore) byEmail(ctx context.Context, email string) (*Member, error) {
	return s.one(ctx, bson.D{{Key: "email", Value: email}})
}

func (s memberStore) one(ctx context.Context, filter bson.D) (*Member, error) {
	// Raw, then bson.Unmarshal: SingleResult.Decode allocates a 4 KB
	// reader per document, garbage on every socket's session check.
	raw, err := s.c.FindOne(ctx, filter).Raw()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	var m Member
	if err := bson.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

func (s memberStore) byIDs(ctx context.Context, ids []bson.ObjectID) ([]*Member, error) {
	cur, err := s.c.Find(ctx, byid.Filter(ids))
	if err != nil {
		return nil, err
	}
	var ms []*Member
	if err := cur.All(ctx, &ms); err != nil {
		return nil, err
	}
	return ms, nil
}

// update applies set (and unset) to one member and returns it as it is after.
func (s memberStore) update(ctx context.Context, id bson.ObjectID, update bson.D) (*Member, error) {
	return s.updateWhere(ctx, bson.D{{Key: "_id", Value: id}}, update)
}

// updateLive updates a member whose deletion has not begun: a change made
// with a deleted member's token in the moment before it is refused
// everywhere (ErrNotFound) must not write their data back.
func (s memberStore) updateLive(ctx context.Context, id bson.ObjectID, update bson.D) (*Member, error) {
	return s.updateWhere(ctx, bson.D{{Key: "_id", Value: id}, {Key: "deletedAt", Value: bson.D{{Key: "$exists", Value: false}}}}, update)
}

func (s memberStore) updateWhere(ctx context.Context, filter, update bson.D) (*Member, error) {
	var m Member
	err := s.c.FindOneAndUpdate(ctx, filter, update,
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&m)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &m, nil
}
