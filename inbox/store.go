package inbox

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Index names, checked by the tests.
const (
	indexMemberSeq = "member_seq"
	indexMemberKey = "member_key"
)

// store keeps notifications and the per-member sequence counters.
type store struct {
	notifications *mongo.Collection
	seqs          *mongo.Collection
}

func (s store) indexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		// The inbox is read newest first per member.
		{Keys: bson.D{{Key: "memberId", Value: 1}, {Key: "seq", Value: -1}},
			Options: options.Index().SetName(indexMemberSeq).SetUnique(true)},
		// One cause, one notification.
		{Keys: bson.D{{Key: "memberId", Value: 1}, {Key: "key", Value: 1}},
			Options: options.Index().SetName(indexMemberKey).SetUnique(true)},
	}
}

// nextSeq atomically takes the member's next sequence number.
func (s store) nextSeq(ctx context.Context, memberID bson.ObjectID) (int64, error) {
	var doc struct {
		Seq int64 `bson:"seq"`
	}
	var err error
	// Two first-ever upserts for one member can collide on _id; the loser retries.
	for range 3 {
		err = s.seqs.FindOneAndUpdate(ctx,
			bson.D{{Key: "_id", Value: memberID}},
			bson.D{{Key: "$inc", Value: bson.D{{Key: "seq", Value: int64(1)}}}},
			options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After),
		).Decode(&doc)
		if !mongo.IsDuplicateKeyError(err) {
			break
		}
	}
	return doc.Seq, err
}

func (s store) insert(ctx context.Context, n *Notification) error {
	_, err := s.notifications.InsertOne(ctx, n)
	return err
}

func (s store) byKey(ctx context.Context, memberID bson.ObjectID, key string) (*Notification, error) {
	var n Notification
	err := s.notifications.FindOne(ctx, bson.D{{Key: "memberId", Value: memberID}, {Key: "key", Value: key}}).Decode(&n)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &n, nil
}

func (s store) list(ctx context.Context, memberID bson.ObjectID, before int64, limit int) ([]*Notification, error) {
	filter := bson.D{{Key: "memberId", Value: memberID}}
	if before > 0 {
		filter = append(filter, bson.E{Key: "seq", Value: bson.D{{Key: "$lt", Value: before}}})
	}
	cur, err := s.notifications.Find(ctx, filter,
		options.Find().SetSort(bson.D{{Key: "memberId", Value: 1}, {Key: "seq", Value: -1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, err
	}
	var ns []*Notification
	if err := cur.All(ctx, &ns); err != nil {
		return nil, err
	}
	return ns, nil
}
