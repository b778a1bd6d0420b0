package game

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// chain is a collection of per-member documents numbered 1, 2, 3… Appending
// inserts the next number, which the unique (memberId, seq) index lets
// exactly one writer do; every document also has a key, unique per member,
// so an effect is appended once however often it is tried. The newest
// document carries the member's current state. This serializes each
// member's changes on any MongoDB, standalone included, without
// transactions or atomic counters.
type chain[T any] struct{ c *mongo.Collection }

// Index names every chain has.
const (
	indexChainSeq = "member_seq"
	indexChainKey = "member_key"
)

func (ch chain[T]) indexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		{Keys: bson.D{{Key: "memberId", Value: 1}, {Key: "seq", Value: -1}}, Options: options.Index().SetName(indexChainSeq).SetUnique(true)},
		{Keys: bson.D{{Key: "memberId", Value: 1}, {Key: "key", Value: 1}}, Options: options.Index().SetName(indexChainKey).SetUnique(true)},
	}
}

// byKey returns the member's document with key, or mongo.ErrNoDocuments.
func (ch chain[T]) byKey(ctx context.Context, memberID bson.ObjectID, key string) (*T, error) {
	var t T
	if err := ch.c.FindOne(ctx, bson.D{{Key: "memberId", Value: memberID}, {Key: "key", Value: key}}).Decode(&t); err != nil {
		return nil, err
	}
	return &t, nil
}

// head returns the member's newest document, or a zero one (seq 0).
func (ch chain[T]) head(ctx context.Context, memberID bson.ObjectID) (*T, error) {
	var t T
	err := ch.c.FindOne(ctx, bson.D{{Key: "memberId", Value: memberID}},
		options.FindOne().SetSort(bson.D{{Key: "memberId", Value: 1}, {Key: "seq", Value: -1}})).Decode(&t)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return &t, nil
	}
	return &t, err
}

// page returns up to limit documents newest first, older than seq before (0: newest).
func (ch chain[T]) page(ctx context.Context, memberID bson.ObjectID, before int64, limit int) ([]*T, error) {
	filter := bson.D{{Key: "memberId", Value: memberID}}
	if before > 0 {
		filter = append(filter, bson.E{Key: "seq", Value: bson.D{{Key: "$lt", Value: before}}})
	}
	cur, err := ch.c.Find(ctx, filter, options.Find().
		SetSort(bson.D{{Key: "memberId", Value: 1}, {Key: "seq", Value: -1}}).
		SetLimit(int64(limit)))
	if err != nil {
		return nil, err
	}
	var ts []*T
	return ts, cur.All(ctx, &ts)
}

const maxAppendAttempts = 1000

var errContended = errors.New("too many concurrent changes for one member; try again")

// append adds, under key, the document next builds from the head; next
// returns nil to append nothing. If key is in the chain already, that
// document is returned and created is false.
func (ch chain[T]) append(ctx context.Context, memberID bson.ObjectID, key string, next func(head *T) (*T, error)) (doc *T, created bool, err error) {
	for range maxAppendAttempts {
		if t, err := ch.byKey(ctx, memberID, key); err == nil {
			return t, false, nil
		} else if !errors.Is(err, mongo.ErrNoDocuments) {
			return nil, false, err
		}
		head, err := ch.head(ctx, memberID)
		if err != nil {
			return nil, false, err
		}
		t, err := next(head)
		if err != nil || t == nil {
			return nil, false, err
		}
		_, err = ch.c.InsertOne(ctx, t)
		if err == nil {
			return t, true, nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return nil, false, err
		}
		// Someone else took this number (or this key): read again and retry.
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
	}
	return nil, false, errContended
}

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
