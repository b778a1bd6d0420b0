package livepoll

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// doc is a document the tests change; every read is counted.
type doc struct {
	mu    sync.Mutex
	v     int
	err   error
	reads int
}

func (d *doc) set(v int) {
	d.mu.Lock()
	d.v = v
	d.mu.Unlock()
}

func (d *doc) read(context.Context) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.reads++
	return d.v, d.err
}

func loop(d *doc, interval time.Duration) Loop[int] {
	return Loop[int]{Interval: interval, Read: d.read, Differs: func(a, b int) bool { return a != b },
		Final: func(v int) bool { return v < 0 }, Name: "watch test"}
}

func next(t *testing.T, c <-chan int) int {
	t.Helper()
	select {
	case v, ok := <-c:
		if !ok {
			t.Fatal("the stream closed")
		}
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("nothing sent")
	}
	return 0
}

func closed(t *testing.T, c <-chan int) {
	t.Helper()
	select {
	case v, ok := <-c:
		if ok {
			t.Fatalf("sent %d, want the stream closed", v)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stream stays open")
	}
}

// With an interval of an hour, only signals wake the loop: each change
// signalled here arrives at once, a signal without a change sends
// nothing, and a Final value ends the stream and its subscription.
func TestSignalWakesWithoutWaitingForTheTick(t *testing.T) {
	var s Signals
	id := bson.NewObjectID()
	d := &doc{v: 1}
	c := Stream(context.Background(), s.Wake(id), loop(d, time.Hour))
	if v := next(t, c); v != 1 {
		t.Fatalf("at once: %d", v)
	}
	d.set(2)
	s.Signal(id)
	if v := next(t, c); v != 2 {
		t.Fatalf("after a signal: %d", v)
	}
	s.Signal(bson.NewObjectID()) // another document: nothing
	s.Signal(id)                 // no change: read, nothing sent
	d.set(3)
	s.Signal(id)
	if v := next(t, c); v != 3 {
		t.Fatalf("after the third signal: %d", v)
	}
	d.set(-1)
	s.Signal(id)
	if v := next(t, c); v != -1 {
		t.Fatalf("the final value: %d", v)
	}
	closed(t, c)
	if n := s.Watching(id); n != 0 {
		t.Fatalf("%d watches left after the stream ended", n)
	}
}

// Without signals the loop still sees a change at the next tick.
func TestPollSeesChangesWithoutSignals(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	d := &doc{v: 1}
	var none *Signals
	c := Stream(ctx, none.Wake(bson.NewObjectID()), loop(d, time.Millisecond))
	if v := next(t, c); v != 1 {
		t.Fatalf("at once: %d", v)
	}
	d.set(2)
	if v := next(t, c); v != 2 {
		t.Fatalf("at a tick: %d", v)
	}
	none.Signal(bson.NewObjectID()) // a nil Signals: nothing, no panic
	cancel()
	for range c { // closes once ctx ends
	}
}

// A failing read closes the stream, the first one too, and ends the
// subscription.
func TestFailedReadClosesTheStream(t *testing.T) {
	var s Signals
	id := bson.NewObjectID()
	d := &doc{err: errors.New("down")}
	closed(t, Stream(context.Background(), s.Wake(id), loop(d, time.Hour)))
	if n := s.Watching(id); n != 0 {
		t.Fatalf("%d watches left", n)
	}

	d = &doc{v: 1}
	c := Stream(context.Background(), s.Wake(id), loop(d, time.Hour))
	next(t, c)
	d.mu.Lock()
	d.err = errors.New("down")
	d.mu.Unlock()
	s.Signal(id)
	closed(t, c)
}
