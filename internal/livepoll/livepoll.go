// Package livepoll runs the live views that follow one document by reading
// it again (community/reviewlive, game/offer/offerlive): read at once, then
// again every interval or as soon as this instance signals a change, and
// send a value only when it differs from the last one sent.
//
// Polling is what carries a change made on another instance sharing the
// database (FerretDB has no change streams); a Signal carries a change
// made here at once, without waiting for the next tick. A lost or extra
// signal costs at most one read: the document stays the source of truth.
package livepoll

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Signals wakes the watches of one document on this instance. The zero
// value is ready; a nil *Signals never wakes anyone (watches only poll).
type Signals struct {
	mu    sync.Mutex
	wakes map[bson.ObjectID]map[*Wake]struct{}
}

// Signal wakes every watch of id on this instance. It never blocks: a
// watch already woken and not yet reading is not woken twice.
func (s *Signals) Signal(id bson.ObjectID) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for w := range s.wakes[id] {
		select {
		case w.c <- struct{}{}:
		default:
		}
	}
}

// Watching counts the watches of id subscribed now (tests check that a
// stream that ended let go of its subscription).
func (s *Signals) Watching(id bson.ObjectID) int {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.wakes[id])
}

// Wake subscribes to the signals of id until Stop. Take it before the
// first read so that a change made between that read and the loop's
// start still wakes the loop.
func (s *Signals) Wake(id bson.ObjectID) *Wake {
	w := &Wake{s: s, id: id}
	if s == nil {
		return w // a nil channel: never ready
	}
	w.c = make(chan struct{}, 1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.wakes == nil {
		s.wakes = make(map[bson.ObjectID]map[*Wake]struct{})
	}
	if s.wakes[id] == nil {
		s.wakes[id] = make(map[*Wake]struct{})
	}
	s.wakes[id][w] = struct{}{}
	return w
}

// Wake is one watch's subscription to a document's signals.
type Wake struct {
	s  *Signals
	id bson.ObjectID
	c  chan struct{}
}

// Stop ends the subscription; repeating it changes nothing.
func (w *Wake) Stop() {
	if w.s == nil {
		return
	}
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	delete(w.s.wakes[w.id], w)
	if len(w.s.wakes[w.id]) == 0 {
		delete(w.s.wakes, w.id)
	}
}

// Loop says how a watch reads its document and what it sends.
type Loop[T any] struct {
	// Interval is how often the document is read again (> 0).
	Interval time.Duration
	// Read reads the document as it is now.
	Read func(ctx context.Context) (T, error)
	// Differs tells whether next must be sent after last.
	Differs func(last, next T) bool
	// Final, if set, tells whether v is the last value: the stream closes
	// once v is sent.
	Final func(v T) bool
	// Name names the watch in the log line of a failed read, with Attrs
	// (slog's key-value pairs, e.g. the document's id).
	Name  string
	Attrs []any
}

// Stream runs the loop in its own goroutine and returns its values: the
// first read at once, then every read that Differs from the last value
// sent. The stream closes when ctx ends, after a Final value, or when a
// read fails (the first one too: the client subscribes again); wake is
// stopped then. Stream takes ownership of wake (nil: poll only).
func Stream[T any](ctx context.Context, wake *Wake, l Loop[T]) <-chan T {
	out := make(chan T)
	go func() {
		defer close(out)
		var woken <-chan struct{}
		if wake != nil {
			defer wake.Stop()
			woken = wake.c
		}
		t := time.NewTicker(l.Interval)
		defer t.Stop()
		var last T
		sent := false
		for {
			v, err := l.Read(ctx)
			if err != nil {
				if ctx.Err() == nil {
					slog.Warn(l.Name, append(l.Attrs, "err", err)...)
				}
				return
			}
			if !sent || l.Differs(last, v) {
				select {
				case out <- v:
				case <-ctx.Done():
					return
				}
				last, sent = v, true
			}
			if l.Final != nil && l.Final(v) {
				return
			}
			select {
			case <-t.C:
			case <-woken:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}
