package reviewlive

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/community"
	"github.com/regulars/regulars/community/moderation"
	"github.com/regulars/regulars/internal/livepoll"
	"github.com/regulars/regulars/member"
)

// fakeQueue is a space's pending items; each read is told on read (until
// the watch ends) so the test knows a poll happened.
type fakeQueue struct {
	mu    sync.Mutex
	items []*moderation.Item
	read  chan struct{}
}

func (q *fakeQueue) Queue(ctx context.Context, _ bson.ObjectID, _ moderation.ItemStatus, _ *moderation.QueueCursor, limit int) ([]*moderation.Item, bool, error) {
	q.mu.Lock()
	out := append([]*moderation.Item(nil), q.items...)
	q.mu.Unlock()
	defer func() {
		select {
		case q.read <- struct{}{}:
		case <-ctx.Done():
		}
	}()
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

func (q *fakeQueue) set(items ...*moderation.Item) {
	q.mu.Lock()
	q.items = items
	q.mu.Unlock()
}

type access struct{ err error }

func (a access) ReviewQueue(context.Context, member.Principal, bson.ObjectID, moderation.ItemStatus, *moderation.QueueCursor, int) ([]*community.QueueEntry, bool, error) {
	return nil, false, a.err
}

func next(t *testing.T, c <-chan *Change) *Change {
	t.Helper()
	select {
	case ch, ok := <-c:
		if !ok {
			t.Fatal("the stream closed")
		}
		return ch
	case <-time.After(10 * time.Second):
		t.Fatal("no change")
	}
	return nil
}

// polledUntilChange lets the watch poll until it sends a change. A read
// under way when the test changed the queue may still hold the old items
// (and sends nothing), so the reads are let through until one does.
func polledUntilChange(t *testing.T, q *fakeQueue, c <-chan *Change) *Change {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case <-q.read:
		case ch, ok := <-c:
			if !ok {
				t.Fatal("the stream closed")
			}
			return ch
		case <-deadline:
			t.Fatal("no change")
		}
	}
}

// A watch sends the queue at once, nothing while it stays the same, and a
// change when an item arrives or its score moves.
func TestWatchSendsOnlyChanges(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q := &fakeQueue{read: make(chan struct{})}
	w := New(access{}, q, time.Millisecond, nil)
	space := bson.NewObjectID()
	c, err := w.Watch(ctx, member.Principal{}, space)
	if err != nil {
		t.Fatal(err)
	}
	<-q.read
	first := next(t, c)
	if first.SpaceID != space || first.Pending != 0 || first.More {
		t.Fatalf("at once: %+v", first)
	}
	<-q.read // a second read of the same queue: nothing sent
	select {
	case ch := <-c:
		t.Fatalf("sent without a change: %+v", ch)
	default:
	}
	item := &moderation.Item{PostID: bson.NewObjectID(), Score: 1, Flags: 1}
	q.set(item)
	got := polledUntilChange(t, q, c)
	if got.Pending != 1 || got.Version == first.Version {
		t.Fatalf("after a flag: %+v", got)
	}
	q.set(&moderation.Item{PostID: item.PostID, Score: 3, Flags: 2})
	if again := polledUntilChange(t, q, c); again.Pending != 1 || again.Version == got.Version {
		t.Fatalf("after a second flag: %+v", again)
	}
	cancel()
	for range c { // closes once the watch stops
	}
}

// Who may not read the queue may not watch it.
func TestWatchRefusedWithoutAccess(t *testing.T) {
	w := New(access{err: community.ErrNotModerator}, &fakeQueue{read: make(chan struct{}, 1)}, time.Millisecond, nil)
	if _, err := w.Watch(context.Background(), member.Principal{}, bson.NewObjectID()); !errors.Is(err, community.ErrNotModerator) {
		t.Fatalf("err = %v", err)
	}
}

// failingQueue cannot be read.
type failingQueue struct{}

func (failingQueue) Queue(context.Context, bson.ObjectID, moderation.ItemStatus, *moderation.QueueCursor, int) ([]*moderation.Item, bool, error) {
	return nil, false, errors.New("the database is away")
}

// A watch whose first read fails is still a watch: its stream closes (the
// client subscribes again) rather than Watch failing.
func TestWatchFirstReadFailsClosesStream(t *testing.T) {
	w := New(access{}, failingQueue{}, time.Hour, nil)
	c, err := w.Watch(context.Background(), member.Principal{}, bson.NewObjectID())
	if err != nil {
		t.Fatal(err)
	}
	select {
	case ch, ok := <-c:
		if ok {
			t.Fatalf("sent %+v", ch)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stream stays open")
	}
}

// With an interval of an hour, a change signalled on this instance
// arrives at once.
func TestWatchWokenBySignal(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q := &fakeQueue{read: make(chan struct{}, 1)}
	var signals livepoll.Signals
	w := New(access{}, q, time.Hour, &signals)
	space := bson.NewObjectID()
	c, err := w.Watch(ctx, member.Principal{}, space)
	if err != nil {
		t.Fatal(err)
	}
	if first := next(t, c); first.Pending != 0 {
		t.Fatalf("at once: %+v", first)
	}
	<-q.read // the first read told; the next one fits the buffer
	q.set(&moderation.Item{PostID: bson.NewObjectID(), Score: 1, Flags: 1})
	signals.Signal(space)
	if got := next(t, c); got.Pending != 1 {
		t.Fatalf("after the signal: %+v", got)
	}
}
