// Package rollupdb is the MongoDB mechanics the rollup job's parts share
// (package analytics/rollup and its engagement and campaigns rollups): the
// watermarks read again by Overlap, queries decoded or streamed, rollup
// documents replaced by _id, and the job's progress, kept in two
// collections of the job: one state document per part (CollState) and the
// dirty marks (CollDirty, ids prefixed by what they mark) so a run cut
// short is finished by the next.
package rollupdb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// The job's progress collections.
const (
	CollState = collState
	CollDirty = collDirty
)

const (
	collState = "analytics_state" // one document per part: its watermarks
	collDirty = "analytics_dirty" // what to recompute, kept until recomputed
)

// Overlap is how far before each watermark a run reads again: a document
// whose createdAt was taken before a later one's but that committed after
// it is still seen. Recomputing is idempotent, so reading twice is harmless.
const Overlap = 2 * time.Minute

// MemberBatch is how many members' facts one round trip recomputes.
const MemberBatch = 1000

// Since is where a run reads from after mark: mark − Overlap (zero: from
// the beginning).
func Since(mark time.Time) time.Time {
	if mark.IsZero() {
		return time.Time{}
	}
	return mark.Add(-Overlap)
}

// Advance is the mark a run keeps for the next after reading, from its
// marks on, everything recorded: the newest time it read (newest), or
// start − Overlap if that is later, start being when the run began, before
// it read anything. A document dated before start − Overlap had committed
// when the run read (the assumption Overlap already makes), so the next
// run need not read before it. Without this, while nothing newer arrives,
// every run would read and recompute again the overlap before the newest
// document: after a burst of a thousand sign-ups, its last two minutes,
// every minute, for good. A zero start keeps newest.
func Advance(newest, start time.Time) time.Time {
	if start.IsZero() {
		return newest
	}
	if s := start.Add(-Overlap); s.After(newest) {
		return s
	}
	return newest
}

// All decodes every document of a query into out.
func All[T any](ctx context.Context, c *mongo.Collection, filter any, opts *options.FindOptionsBuilder, out *[]T) error {
	if opts == nil {
		opts = options.Find()
	}
	cur, err := c.Find(ctx, filter, opts)
	if err != nil {
		return fmt.Errorf("%s: %w", c.Name(), err)
	}
	if err := cur.All(ctx, out); err != nil {
		return fmt.Errorf("%s: %w", c.Name(), err)
	}
	return nil
}

// Each streams a query's documents through fn.
func Each[T any](ctx context.Context, c *mongo.Collection, filter any, opts *options.FindOptionsBuilder, fn func(*T) error) error {
	if opts == nil {
		opts = options.Find()
	}
	cur, err := c.Find(ctx, filter, opts.SetBatchSize(2000))
	if err != nil {
		return fmt.Errorf("%s: %w", c.Name(), err)
	}
	defer func() { _ = cur.Close(context.WithoutCancel(ctx)) }()
	for cur.Next(ctx) {
		var v T
		if err := cur.Decode(&v); err != nil {
			return fmt.Errorf("%s: %w", c.Name(), err)
		}
		if err := fn(&v); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("%s: %w", c.Name(), err)
	}
	return nil
}

// Count counts the documents of a query by reading their ids (a find:
// the job uses no aggregation).
func Count(ctx context.Context, c *mongo.Collection, filter bson.D) (int64, error) {
	cur, err := c.Find(ctx, filter, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}).SetBatchSize(5000))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", c.Name(), err)
	}
	defer func() { _ = cur.Close(context.WithoutCancel(ctx)) }()
	var n int64
	for cur.Next(ctx) {
		n++
	}
	if err := cur.Err(); err != nil {
		return 0, fmt.Errorf("%s: %w", c.Name(), err)
	}
	return n, nil
}

// bulkReplace is the most documents replaced one by one; more (a first
// run, a change of timezone) are deleted and inserted again, two commands
// instead of one update per document, which the embedded database runs
// each as a scan of the collection. Meanwhile a dashboard may miss those
// documents for a moment.
const bulkReplace = 50

// ReplaceAll upserts docs by _id (ids[i] is docs[i]'s), one command each
// (each within the client's deadline).
func ReplaceAll[T any](ctx context.Context, c *mongo.Collection, ids []any, docs []T) error {
	if len(docs) == 0 {
		return nil
	}
	if len(docs) > bulkReplace {
		for i := 0; i < len(ids); i += 1000 {
			if _, err := c.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids[i:min(i+1000, len(ids))]}}}}); err != nil {
				return fmt.Errorf("%s: %w", c.Name(), err)
			}
		}
		for i := 0; i < len(docs); i += 1000 {
			if _, err := c.InsertMany(ctx, docs[i:min(i+1000, len(docs))], options.InsertMany().SetOrdered(false)); err != nil {
				return fmt.Errorf("%s: %w", c.Name(), err)
			}
		}
		return nil
	}
	for i := range docs {
		if _, err := c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: ids[i]}}, docs[i], options.Replace().SetUpsert(true)); err != nil {
			return fmt.Errorf("%s: %w", c.Name(), err)
		}
	}
	return nil
}

// LoadState decodes the state document id of c into st, leaving st as it
// is when there is none yet.
func LoadState[T any](ctx context.Context, c *mongo.Collection, id string, st *T) error {
	err := c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(st)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return fmt.Errorf("analytics state %s: %w", id, err)
	}
	return nil
}

// SaveState replaces the state document id of c by st.
func SaveState[T any](ctx context.Context, c *mongo.Collection, id string, st T) error {
	_, err := c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, st, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("analytics state %s: %w", id, err)
	}
	return nil
}

type mark struct {
	ID string `bson:"_id"`
}

// SaveMarks records dirty marks ids in c, before the writes that caused
// them.
func SaveMarks(ctx context.Context, c *mongo.Collection, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	keys := make([]any, len(ids))
	docs := make([]mark, len(ids))
	for i, id := range ids {
		keys[i], docs[i] = id, mark{ID: id}
	}
	return ReplaceAll(ctx, c, keys, docs)
}

// LoadMarks returns the dirty marks of c whose ids start with one of
// prefixes (every mark without prefixes).
func LoadMarks(ctx context.Context, c *mongo.Collection, prefixes ...string) ([]string, error) {
	filter := bson.D{}
	if len(prefixes) > 0 {
		or := bson.A{}
		for _, p := range prefixes {
			or = append(or, bson.D{{Key: "_id", Value: bson.Regex{Pattern: "^" + p}}})
		}
		filter = bson.D{{Key: "$or", Value: or}}
	}
	var marks []mark
	if err := All(ctx, c, filter, nil, &marks); err != nil {
		return nil, err
	}
	ids := make([]string, len(marks))
	for i, m := range marks {
		ids[i] = m.ID
	}
	return ids, nil
}

// ClearMarks deletes dirty marks ids of c, once recomputed.
func ClearMarks(ctx context.Context, c *mongo.Collection, ids []string) error {
	for len(ids) > 0 {
		n := min(len(ids), 1000)
		if _, err := c.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids[:n]}}}}); err != nil {
			return fmt.Errorf("analytics dirty marks: %w", err)
		}
		ids = ids[n:]
	}
	return nil
}
