// Package reviewlive streams a space's review queue to the moderators and
// brand staff who watch it (the console's Moderation page): a Change at
// once, then one whenever the space's pending items change (a post flagged
// into the queue, a flag added to a queued post, an item resolved).
//
// A watch reads the head of the queue (moderation.Store.Queue, the
// IndexReviewQueue range read, items only) and compares it with what it
// last told (internal/livepoll): at once when this instance changed the
// queue (the community signals it through Deps.QueueChanged), and every
// interval for changes made by other instances sharing the database. The
// package owns no collection.
package reviewlive

import (
	"context"
	"encoding/binary"
	"hash/fnv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/community"
	"github.com/regulars/regulars/community/moderation"
	"github.com/regulars/regulars/internal/livepoll"
	"github.com/regulars/regulars/member"
)

// Counted is how many pending items a Change counts at most: the head of
// the queue a watch reads each interval.
const Counted = 100

// Access decides who may watch a space's queue: the same rule as reading
// it (community.Moderation.ReviewQueue, which answers ErrNotModerator or a
// not-found space on "spaceId").
type Access interface {
	ReviewQueue(ctx context.Context, p member.Principal, spaceID bson.ObjectID, status moderation.ItemStatus, after *moderation.QueueCursor, limit int) ([]*community.QueueEntry, bool, error)
}

// Queue reads a space's queue items (moderation.Store).
type Queue interface {
	Queue(ctx context.Context, spaceID bson.ObjectID, status moderation.ItemStatus, after *moderation.QueueCursor, limit int) ([]*moderation.Item, bool, error)
}

// Change is a space's review queue as of one read: Pending items wait for
// review (at most Counted; More when there are more). Version changes
// whenever the pending items, their scores or their flag counts do.
type Change struct {
	SpaceID bson.ObjectID
	Pending int
	More    bool
	Version uint64
}

// Watcher serves the watches.
type Watcher struct {
	access   Access
	queue    Queue
	interval time.Duration
	signals  *livepoll.Signals
}

// New returns a watcher that checks access with access, reads items from
// queue and looks again every interval (> 0), or at once when signals
// (nil: none) tells of a change to the space's queue on this instance
// (community.Deps.QueueChanged).
func New(access Access, queue Queue, interval time.Duration, signals *livepoll.Signals) *Watcher {
	return &Watcher{access: access, queue: queue, interval: interval, signals: signals}
}

// Watch streams the space's queue to p: the current Change at once, then
// a Change each time it differs from the last one sent, until ctx ends.
// It returns community.ErrNotModerator when p does not moderate the space
// and an input error on "spaceId" when there is no such space. A read that
// fails closes the stream (the client subscribes again).
func (w *Watcher) Watch(ctx context.Context, p member.Principal, spaceID bson.ObjectID) (<-chan *Change, error) {
	if _, _, err := w.access.ReviewQueue(ctx, p, spaceID, moderation.ItemPending, nil, 1); err != nil {
		return nil, err
	}
	return livepoll.Stream(ctx, w.signals.Wake(spaceID), livepoll.Loop[*Change]{
		Interval: w.interval,
		Read:     func(ctx context.Context) (*Change, error) { return w.read(ctx, spaceID) },
		Differs:  func(last, next *Change) bool { return next.Version != last.Version },
		Name:     "reviewlive: read the queue", Attrs: []any{"space", spaceID.Hex()},
	}), nil
}

// read takes the head of the space's pending queue and its fingerprint.
func (w *Watcher) read(ctx context.Context, spaceID bson.ObjectID) (*Change, error) {
	items, more, err := w.queue.Queue(ctx, spaceID, moderation.ItemPending, nil, Counted)
	if err != nil {
		return nil, err
	}
	h := fnv.New64a()
	var buf [8]byte
	for _, it := range items {
		h.Write(it.PostID[:])
		binary.BigEndian.PutUint64(buf[:], uint64(it.Score))
		h.Write(buf[:])
		binary.BigEndian.PutUint64(buf[:], uint64(it.Flags))
		h.Write(buf[:])
	}
	if more {
		h.Write([]byte{1})
	}
	return &Change{SpaceID: spaceID, Pending: len(items), More: more, Version: h.Sum64()}, nil
}
