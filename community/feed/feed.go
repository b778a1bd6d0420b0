// Package feed keeps each community thread's live feed: what happened in
// the thread (posts created, edited, hidden, deleted, reactions, the
// thread changed), numbered 1, 2, 3… per thread, and streams it to
// subscribers without loss (the inbox's method), across instances through
// the inbox's broker (an inbox.PollBroker over the feed). It owns the
// collection community_thread_events.
package feed

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/community/forum"
	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/internal/mongoindex"
)

// Kind is what happened in a thread.
type Kind string

const (
	PostCreated   Kind = "POST_CREATED"
	PostEdited    Kind = "POST_EDITED"
	PostHidden    Kind = "POST_HIDDEN"
	PostRestored  Kind = "POST_RESTORED"
	PostDeleted   Kind = "POST_DELETED"
	Reactions     Kind = "REACTIONS"
	ThreadChanged Kind = "THREAD_CHANGED" // locked, unlocked, pinned, moved
)

// Event is one entry of a thread's feed. Seq numbers a thread's events 1,
// 2, 3…, claimed by a unique insert; it is what threadUpdates' cursors
// hold, so a subscriber resuming after one misses nothing.
type Event struct {
	ID       bson.ObjectID `bson:"_id"`
	ThreadID bson.ObjectID `bson:"threadId"`
	Seq      int64         `bson:"seq"`
	Kind     Kind          `bson:"kind"`
	PostID   bson.ObjectID `bson:"postId,omitempty"`
	// Reactions are the post's counts when the event was made (REACTIONS).
	Reactions map[forum.Reaction]int64 `bson:"reactions,omitempty"`
	At        time.Time                `bson:"at"`
}

// Feed keeps the threads' feeds (collection community_thread_events) and
// streams them: the same lossless path as the inbox's notifications
// (inbox.Stream), through the same broker (inbox.Broker, keyed by thread).
// The database is the source of truth; the broker carries only numbers,
// and a stream that is up to date takes the event itself from this
// process's recent publications; anything else (a gap, a dropped
// publication, another instance's event learnt by the broker's poll)
// makes the stream read the feed after its cursor.
type Feed struct {
	c      *mongo.Collection
	broker *inbox.PollBroker
	recent *recent
	now    func() time.Time
}

// pollEvery is the broker's default poll (Poll sets the server's).
const pollEvery = 250 * time.Millisecond

// New returns the feeds over db; now stamps the events.
func New(db *mongo.Database, now func() time.Time) *Feed {
	c := db.Collection("community_thread_events")
	return &Feed{c: c, broker: inbox.NewPollBrokerOn(c, "threadId", "at", pollEvery), recent: newRecent(recentEvents), now: now}
}

const (
	indexFeedSeq = "thread_seq_unique"
	indexFeedAt  = "at"
	feedBatch    = 100
	maxClaims    = 1000
)

// ErrContended: a thread's feed changed under a writer too many times in a row.
var ErrContended = fault.New(fault.Conflict, "too many changes at once in this thread; try again")

// EnsureIndexes creates the feed's indexes.
func (f *Feed) EnsureIndexes(ctx context.Context) error {
	return mongoindex.Ensure(ctx, f.c,
		mongo.IndexModel{Keys: bson.D{{Key: "threadId", Value: 1}, {Key: "seq", Value: 1}}, Options: options.Index().SetName(indexFeedSeq).SetUnique(true)},
		// The poll of other instances' events.
		mongo.IndexModel{Keys: bson.D{{Key: "at", Value: 1}}, Options: options.Index().SetName(indexFeedAt)})
}

// Publish appends an event to its thread's feed under the next number and
// hands it to the thread's live streams.
func (f *Feed) Publish(ctx context.Context, e *Event) error {
	e.ID, e.At = bson.NewObjectID(), f.now().UTC()
	for range maxClaims {
		last, err := f.lastSeq(ctx, e.ThreadID)
		if err != nil {
			return err
		}
		e.Seq = last + 1
		_, err = f.c.InsertOne(ctx, e)
		if err == nil {
			f.recent.put(e)
			f.broker.Publish(e.ThreadID, e.Seq, nil)
			return nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return ErrContended
}

func (f *Feed) lastSeq(ctx context.Context, threadID bson.ObjectID) (int64, error) {
	var last struct {
		Seq int64 `bson:"seq"`
	}
	err := f.c.FindOne(ctx, bson.D{{Key: "threadId", Value: threadID}},
		options.FindOne().SetSort(bson.D{{Key: "threadId", Value: 1}, {Key: "seq", Value: -1}}).SetProjection(bson.D{{Key: "seq", Value: 1}})).Decode(&last)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil
	}
	return last.Seq, err
}

func (f *Feed) after(ctx context.Context, threadID bson.ObjectID, after int64, limit int) ([]*Event, error) {
	cur, err := f.c.Find(ctx, bson.D{{Key: "threadId", Value: threadID}, {Key: "seq", Value: bson.D{{Key: "$gt", Value: after}}}},
		options.Find().SetSort(bson.D{{Key: "threadId", Value: 1}, {Key: "seq", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, err
	}
	var out []*Event
	return out, cur.All(ctx, &out)
}

// Stream sends the thread's events after seq after (after < 0: from now)
// until ctx ends: the stored ones first, then each as it is published,
// with no gap and no duplicate at the seam (inbox.Stream's method).
func (f *Feed) Stream(ctx context.Context, threadID bson.ObjectID, after int64) (<-chan *Event, error) {
	sub := f.subscribe(threadID)
	read := after >= 0
	if after < 0 {
		last, err := f.lastSeq(ctx, threadID)
		if err != nil {
			sub.close()
			return nil, err
		}
		after = last
	}
	out := make(chan *Event)
	go func() {
		defer close(out)
		defer sub.close()
		send := func(e *Event) bool {
			select {
			case out <- e:
				after = e.Seq
				return true
			case <-ctx.Done():
				return false
			}
		}
		for {
			for read {
				es, err := f.after(ctx, threadID, after, feedBatch)
				if err != nil {
					return // the client resumes from its cursor
				}
				for _, e := range es {
					if !send(e) {
						return
					}
				}
				read = len(es) == feedBatch
			}
			select {
			case p := <-sub.c:
				switch {
				case p.seq <= after:
				case p.seq == after+1 && p.e != nil:
					if !send(p.e) {
						return
					}
				default:
					read = true
				}
			case <-ctx.Done():
				return
			}
			if sub.missed.Swap(false) {
				read = true
			}
		}
	}()
	return out, nil
}

// Subscribers counts the live streams of a thread in this process.
func (f *Feed) Subscribers(threadID bson.ObjectID) int { return f.broker.Subscribers(threadID) }

// Poll tells this process's streams of events other instances stored,
// every interval until ctx ends: the broker's poll (inbox.PollBroker: one
// query per instance over the index at, only the numbers travel).
func (f *Feed) Poll(ctx context.Context, interval time.Duration) { f.broker.RunEvery(ctx, interval) }

// published is one publication a stream takes: the number, and the event
// when this process still holds it.
type published struct {
	seq int64
	e   *Event
}

// subscription is one stream's subscription. The broker's delivery never blocks: a
// full stream is marked as having missed one and reads the feed instead
// (inbox.MemoryBroker's rule, for events).
type subscription struct {
	c      chan published
	missed atomic.Bool
	close  func()
}

func (f *Feed) subscribe(threadID bson.ObjectID) *subscription {
	s := &subscription{c: make(chan published, 8)}
	s.close = f.broker.Subscribe(threadID, func(p inbox.Stored) {
		select {
		case s.c <- published{seq: p.Seq, e: f.recent.get(threadID, p.Seq)}:
		default:
			s.missed.Store(true)
		}
	})
	return s
}

// recentEvents is how many of the newest events this process published
// it keeps for streams that are up to date.
const recentEvents = 1024

// recent holds the newest events published here, by thread and number,
// so a publication need not carry them and an up-to-date stream need not
// read them back.
type recent struct {
	mu    sync.Mutex
	ring  []*Event
	next  int
	index map[recentKey]*Event
}

type recentKey struct {
	thread bson.ObjectID
	seq    int64
}

func newRecent(n int) *recent {
	return &recent{ring: make([]*Event, n), index: make(map[recentKey]*Event, n)}
}

func (r *recent) put(e *Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if old := r.ring[r.next]; old != nil {
		delete(r.index, recentKey{old.ThreadID, old.Seq})
	}
	r.ring[r.next] = e
	r.index[recentKey{e.ThreadID, e.Seq}] = e
	r.next = (r.next + 1) % len(r.ring)
}

func (r *recent) get(thread bson.ObjectID, seq int64) *Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.index[recentKey{thread, seq}]
}
