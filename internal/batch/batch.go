// Package batch walks a collection in _id order a batch at a time, for
// background jobs that must resume where they stopped (a badge evaluated
// for existing members, an offer announced to them).
//
// Progress moves past the items of a batch up to the first failure only,
// so a rerun starts at the failed item and repeats nothing before it; the
// work per item must itself be idempotent (keyed), since a crash between
// the work and the saving of progress repeats it.
package batch

import (
	"context"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"golang.org/x/sync/errgroup"
)

// Result is what one batch did.
type Result struct {
	// Done is how many items, from the batch's start, completed; progress
	// moves past them (to Last).
	Done int
	// Counted is how many of those the work counted (say, notified).
	Counted int
	Last    bson.ObjectID
	// Finished: the batch was the last one and every item completed.
	Finished bool
}

// Step reads up to size documents of coll with _id after after (sorted by
// _id), runs work on each with up to workers at once, and reports how far
// it got. After a failure, items later in the batch are not started; the
// first failure is returned with the Result of the items before it.
func Step[T any](ctx context.Context, coll *mongo.Collection, after bson.ObjectID, size, workers int,
	id func(*T) bson.ObjectID, work func(ctx context.Context, item *T) (counted bool, err error)) (Result, error) {
	cur, err := coll.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}}},
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(size)))
	if err != nil {
		return Result{}, err
	}
	var items []T
	if err := cur.All(ctx, &items); err != nil {
		return Result{}, err
	}
	failed := make([]error, len(items))
	counted := make([]bool, len(items))
	var mu sync.Mutex
	firstFailed := len(items)
	fail := func(i int, err error) {
		mu.Lock()
		defer mu.Unlock()
		failed[i], firstFailed = err, min(firstFailed, i)
	}
	waits := func(i int) bool {
		mu.Lock()
		defer mu.Unlock()
		return i > firstFailed
	}
	var g errgroup.Group
	g.SetLimit(max(workers, 1))
	for i := range items {
		g.Go(func() error {
			if waits(i) {
				return nil // past the first failure: progress stops before it
			}
			ok, err := work(ctx, &items[i])
			if err != nil {
				fail(i, err)
			}
			counted[i] = ok && err == nil
			return nil
		})
	}
	_ = g.Wait()
	var r Result
	for r.Done < len(items) && failed[r.Done] == nil {
		if counted[r.Done] {
			r.Counted++
		}
		r.Done++
	}
	if r.Done > 0 {
		r.Last = id(&items[r.Done-1])
	}
	r.Finished = r.Done == len(items) && len(items) < size
	if r.Done < len(items) {
		return r, failed[r.Done]
	}
	return r, nil
}

// Cursor is how far a job walking a collection got: stored on the job's
// own document (inline) and moved by each Step's Result.
type Cursor struct {
	Processed int64         `bson:"processed"`
	Total     int64         `bson:"total"` // an estimate taken when the job started
	After     bson.ObjectID `bson:"after"` // the last item done
}

// Advance moves the cursor past the items r completed.
func (c *Cursor) Advance(r Result) {
	c.Processed += int64(r.Done)
	if r.Done > 0 {
		c.After = r.Last
	}
}

// Moved reports whether r changed anything worth saving.
func (r Result) Moved() bool { return r.Done > 0 || r.Finished }
