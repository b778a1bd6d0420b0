// Package chain keeps per-member sequences of documents: each member's
// documents are numbered 1, 2, 3… and carry a key unique per member.
//
// A number is claimed by inserting the document that holds it: the unique
// (memberId, seq) index lets exactly one writer have it, and a loser reads
// the new head and tries again. The unique (memberId, key) index makes each
// cause append once however often it is tried. This serializes each
// member's changes on any MongoDB, standalone included, without
// transactions or atomic counters. The ledger and the engagement chain
// (game/) and the inbox use it.
//
// Documents store the member in "memberId", the number in "seq" and the
// key in "key".
package chain

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/fault"
)

// Index names every chain has.
const (
	IndexSeq = "member_seq"
	IndexKey = "member_key"
)

// ErrContended: a member's chain changed under a writer too many times in a row.
var ErrContended = fault.New(fault.Conflict, "too many concurrent changes for one member; try again")

// maxAttempts bounds the retries of one append.
const maxAttempts = 1000

// Chain is a collection of per-member numbered documents of type T.
type Chain[T any] struct{ C *mongo.Collection }

// Indexes are the two unique indexes the chain rests on.
func (ch Chain[T]) Indexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		{Keys: bson.D{{Key: "memberId", Value: 1}, {Key: "seq", Value: -1}}, Options: options.Index().SetName(IndexSeq).SetUnique(true)},
		{Keys: bson.D{{Key: "memberId", Value: 1}, {Key: "key", Value: 1}}, Options: options.Index().SetName(IndexKey).SetUnique(true)},
	}
}

// ByKey returns the member's document with key, or mongo.ErrNoDocuments.
func (ch Chain[T]) ByKey(ctx context.Context, memberID bson.ObjectID, key string) (*T, error) {
	var t T
	if err := ch.C.FindOne(ctx, bson.D{{Key: "memberId", Value: memberID}, {Key: "key", Value: key}}).Decode(&t); err != nil {
		return nil, err
	}
	return &t, nil
}

var newestFirst = bson.D{{Key: "memberId", Value: 1}, {Key: "seq", Value: -1}}

// Head returns the member's newest document, or a zero one (seq 0).
func (ch Chain[T]) Head(ctx context.Context, memberID bson.ObjectID) (*T, error) {
	var t T
	err := ch.C.FindOne(ctx, bson.D{{Key: "memberId", Value: memberID}}, options.FindOne().SetSort(newestFirst)).Decode(&t)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return &t, nil
	}
	return &t, err
}

// LastSeq returns the member's newest number, 0 for none, reading only the number.
func (ch Chain[T]) LastSeq(ctx context.Context, memberID bson.ObjectID) (int64, error) {
	// Read as a raw value: SingleResult.Decode allocates a 4 KB reader per
	// document, garbage on every subscription and every send.
	raw, err := ch.C.FindOne(ctx, bson.D{{Key: "memberId", Value: memberID}},
		options.FindOne().SetSort(newestFirst).SetProjection(bson.D{{Key: "seq", Value: 1}})).Raw()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var last struct {
		Seq int64 `bson:"seq"`
	}
	return last.Seq, bson.Unmarshal(raw, &last)
}

// LastSeqs returns the newest number of each of the members (absent: 0),
// in one read of their numbers alone: covered by the (memberId, seq)
// index on MongoDB, so it reads index entries, not documents. (A $group
// with $first would seek once per member; FerretDB 1.x has no such
// accumulator, and one query must serve both.)
func (ch Chain[T]) LastSeqs(ctx context.Context, memberIDs []bson.ObjectID) (last map[bson.ObjectID]int64, err error) {
	cur, err := ch.C.Find(ctx, bson.D{{Key: "memberId", Value: bson.D{{Key: "$in", Value: memberIDs}}}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: "memberId", Value: 1}, {Key: "seq", Value: 1}}).SetBatchSize(10_000))
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, cur.Close(ctx)) }()
	last = make(map[bson.ObjectID]int64, len(memberIDs))
	for cur.Next(ctx) {
		var d struct {
			MemberID bson.ObjectID `bson:"memberId"`
			Seq      int64         `bson:"seq"`
		}
		if err := cur.Decode(&d); err != nil {
			return nil, err
		}
		last[d.MemberID] = max(last[d.MemberID], d.Seq)
	}
	return last, cur.Err()
}

// KeyedOf returns the documents the members hold under any of keys, in one
// read along the (memberId, key) index.
func (ch Chain[T]) KeyedOf(ctx context.Context, memberIDs []bson.ObjectID, keys []string) ([]*T, error) {
	cur, err := ch.C.Find(ctx, bson.D{{Key: "memberId", Value: bson.D{{Key: "$in", Value: memberIDs}}}, {Key: "key", Value: bson.D{{Key: "$in", Value: keys}}}})
	if err != nil {
		return nil, err
	}
	var ts []*T
	return ts, cur.All(ctx, &ts)
}

// Page returns up to limit documents newest first, older than seq before
// (0: newest), that also match extra.
func (ch Chain[T]) Page(ctx context.Context, memberID bson.ObjectID, before int64, limit int, extra ...bson.E) ([]*T, error) {
	filter := append(bson.D{{Key: "memberId", Value: memberID}}, extra...)
	if before > 0 {
		filter = append(filter, bson.E{Key: "seq", Value: bson.D{{Key: "$lt", Value: before}}})
	}
	cur, err := ch.C.Find(ctx, filter, options.Find().SetSort(newestFirst).SetLimit(int64(limit)))
	if err != nil {
		return nil, err
	}
	var ts []*T
	return ts, cur.All(ctx, &ts)
}

// Append adds, under key, the document next builds from the head; next
// returns nil to append nothing. If key is in the chain already, that
// document is returned and created is false. The key is read first, so a
// repeat costs one read and next never runs for it.
func (ch Chain[T]) Append(ctx context.Context, memberID bson.ObjectID, key string, next func(head *T) (*T, error)) (doc *T, created bool, err error) {
	for range maxAttempts {
		if t, err := ch.ByKey(ctx, memberID, key); err == nil {
			return t, false, nil
		} else if !errors.Is(err, mongo.ErrNoDocuments) {
			return nil, false, err
		}
		head, err := ch.Head(ctx, memberID)
		if err != nil {
			return nil, false, err
		}
		t, err := next(head)
		if err != nil || t == nil {
			return nil, false, err
		}
		if landed, err := ch.insert(ctx, t); err != nil {
			return nil, false, err
		} else if landed {
			return t, true, nil
		}
		// Someone else took this number (or this key): read again and retry.
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
	}
	return nil, false, ErrContended
}

// AppendAfter is Append for a writer that read the member's head a moment
// ago (head; nil: it did not): it builds on that head and inserts at once,
// reading the key only when the insert collides, and the head again only
// when another writer moved it, so a new key costs one insert. The unique
// key keeps the append exactly once: an insert that lands means no
// document had the key. next may therefore run for a key already in the
// chain, or on a head that has moved: it must write nothing, and what it
// returns on a stale head counts only if the insert lands (a nil or an
// error is asked again of the newest head).
func (ch Chain[T]) AppendAfter(ctx context.Context, memberID bson.ObjectID, key string, head *T, next func(head *T) (*T, error)) (doc *T, created bool, err error) {
	if head != nil {
		t, err := next(head)
		if err == nil && t != nil {
			if landed, err := ch.insert(ctx, t); err != nil {
				return nil, false, err
			} else if landed {
				return t, true, nil
			}
		}
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
	}
	return ch.Append(ctx, memberID, key, next)
}

// insert inserts t and reports whether it landed: false, with no error,
// when another document holds its number or its key.
func (ch Chain[T]) insert(ctx context.Context, t *T) (bool, error) {
	_, err := ch.C.InsertOne(ctx, t)
	if mongo.IsDuplicateKeyError(err) {
		return false, nil
	}
	return err == nil, err
}

// AppendNew is AppendAfter on the head it reads first, for a key that is
// most likely new (its cause was just made): one read and one insert,
// where Append reads the key and the head. next must write nothing (see
// AppendAfter).
func (ch Chain[T]) AppendNew(ctx context.Context, memberID bson.ObjectID, key string, next func(head *T) (*T, error)) (doc *T, created bool, err error) {
	head, err := ch.Head(ctx, memberID)
	if err != nil {
		return nil, false, err
	}
	return ch.AppendAfter(ctx, memberID, key, head, next)
}

// Insert stores doc under the member's next number (number sets it on
// doc), or returns the document stored earlier under the same key
// (existing). Unlike Append it inserts first and reads the key only when
// the insert collides, for documents that do not depend on the head (a
// notification): a first send costs two commands.
func (ch Chain[T]) Insert(ctx context.Context, memberID bson.ObjectID, key string, doc *T, number func(seq int64)) (existing *T, err error) {
	for range maxAttempts {
		last, err := ch.LastSeq(ctx, memberID)
		if err != nil {
			return nil, err
		}
		number(last + 1)
		_, err = ch.C.InsertOne(ctx, doc)
		if !mongo.IsDuplicateKeyError(err) {
			return nil, err
		}
		// Either the key is taken (one cause, one document) or another
		// writer claimed this number first and we take the next.
		if t, err := ch.ByKey(ctx, memberID, key); !errors.Is(err, mongo.ErrNoDocuments) {
			return t, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	return nil, ErrContended
}
