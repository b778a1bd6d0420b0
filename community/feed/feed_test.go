package feed

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/internal/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

func newFeed(t *testing.T) *Feed {
	t.Helper()
	f := New(testkit.Database(t), time.Now)
	testkit.EnsureIndexes(t, f.EnsureIndexes)
	return f
}

// next reads one event, failing after 10 s (a guard, not a timing).
func next(t *testing.T, c <-chan *Event) *Event {
	t.Helper()
	select {
	case e, ok := <-c:
		if !ok {
			t.Fatal("stream closed")
		}
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10 s")
	}
	return nil
}

func publish(t *testing.T, f *Feed, thread bson.ObjectID) *Event {
	t.Helper()
	e := &Event{ThreadID: thread, Kind: PostCreated, PostID: bson.NewObjectID()}
	if err := f.Publish(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	return e
}

// A stream resumed after a cursor gets what followed it, then what comes;
// one that is up to date gets the published event itself, through the
// broker, without reading it back.
func TestResumeAfterCursorThenLive(t *testing.T) {
	f := newFeed(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	thread := bson.NewObjectID()
	for range 3 {
		publish(t, f, thread)
	}
	c := testkit.Must(f.Stream(ctx, thread, 1))(t)
	for _, want := range []int64{2, 3} {
		if e := next(t, c); e.Seq != want {
			t.Fatalf("resumed: seq %d, want %d", e.Seq, want)
		}
	}
	live := publish(t, f, thread)
	if e := next(t, c); e.Seq != 4 || e != live {
		t.Fatalf("live: seq %d, the published event itself: %v", e.Seq, e == live)
	}
	if n := f.Subscribers(thread); n != 1 {
		t.Fatalf("%d subscribers", n)
	}
	cancel()
	for range c {
	}
	testkit.Eventually(t, 5*time.Second, func() bool { return f.Subscribers(thread) == 0 }, "the stream stayed subscribed")
}

// A client that does not read while many events are published misses
// none: once it reads, it gets them all in order, once each.
func TestSlowClientMissesNothing(t *testing.T) {
	f := newFeed(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	thread := bson.NewObjectID()
	c := testkit.Must(f.Stream(ctx, thread, -1))(t)
	const n = 250 // past the subscription's buffer and a read batch
	for range n {
		publish(t, f, thread)
	}
	for i := int64(1); i <= n; i++ {
		if e := next(t, c); e.Seq != i {
			t.Fatalf("event %d arrived as %d", i, e.Seq)
		}
	}
}

// Two instances over one database: an event published on one reaches a
// stream on the other through the broker's poll, whole (read from the feed).
func TestAcrossInstances(t *testing.T) {
	db := testkit.Database(t)
	a, b := New(db, time.Now), New(db, time.Now)
	testkit.EnsureIndexes(t, a.EnsureIndexes)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go b.Poll(ctx, 10*time.Millisecond)
	thread := bson.NewObjectID()
	c := testkit.Must(b.Stream(ctx, thread, -1))(t)
	sent := publish(t, a, thread)
	if e := next(t, c); e.Seq != 1 || e.PostID != sent.PostID || e.Kind != PostCreated || e == sent {
		t.Fatalf("on the other instance: %+v", e)
	}
}

// The recent events kept for up-to-date streams are bounded: the oldest
// make way.
func TestRecentIsBounded(t *testing.T) {
	r := newRecent(4)
	thread := bson.NewObjectID()
	for i := int64(1); i <= 6; i++ {
		r.put(&Event{ThreadID: thread, Seq: i})
	}
	if r.get(thread, 2) != nil || r.get(thread, 3) == nil || r.get(thread, 6) == nil || len(r.index) != 4 {
		t.Fatalf("kept %d, 2: %v, 3: %v", len(r.index), r.get(thread, 2), r.get(thread, 3))
	}
}
