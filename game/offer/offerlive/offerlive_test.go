package offerlive

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/offer"
	"github.com/regulars/regulars/internal/livepoll"
)

// fakeOffers is one offer; a read is told on read (buffered, 1) so the
// test knows a poll happened since it last took one.
type fakeOffers struct {
	mu   sync.Mutex
	o    offer.Offer
	read chan struct{}
}

func (f *fakeOffers) Offer(ctx context.Context, id bson.ObjectID) (*offer.Offer, error) {
	f.mu.Lock()
	o := f.o
	f.mu.Unlock()
	if o.ID != id {
		return nil, offer.ErrOfferNotFound
	}
	select {
	case f.read <- struct{}{}:
	default: // one untaken signal is enough
	}
	return &o, nil
}

func (f *fakeOffers) set(status offer.OfferStatus, processed, notified, total int64) {
	f.mu.Lock()
	f.o.Status = status
	f.o.Progress.Processed, f.o.Progress.Notified, f.o.Progress.Total = processed, notified, total
	f.mu.Unlock()
}

func next(t *testing.T, c <-chan *offer.Offer) *offer.Offer {
	t.Helper()
	select {
	case o, ok := <-c:
		if !ok {
			t.Fatal("the stream closed")
		}
		return o
	case <-time.After(10 * time.Second):
		t.Fatal("no change")
	}
	return nil
}

// A watch sends the offer at once, nothing while it stays the same, each
// step of progress, and ends after it is sent PUBLISHED.
func TestWatchSendsChangesUntilPublished(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := &fakeOffers{o: offer.Offer{ID: bson.NewObjectID(), Status: offer.OfferDraft}, read: make(chan struct{}, 1)}
	w := New(f, time.Millisecond, nil)
	c, err := w.Watch(ctx, f.o.ID)
	if err != nil {
		t.Fatal(err)
	}
	<-f.read
	if o := next(t, c); o.Status != offer.OfferDraft {
		t.Fatalf("at once: %+v", o)
	}
	// Reads of the same offer send nothing: the next receive below gets
	// the change made after them.
	<-f.read
	<-f.read
	f.set(offer.OfferPublishing, 0, 0, 4)
	if o := next(t, c); o.Status != offer.OfferPublishing || o.Progress.Total != 4 {
		t.Fatalf("publishing: %+v", o)
	}
	f.set(offer.OfferPublishing, 2, 1, 4)
	if o := next(t, c); o.Progress.Processed != 2 || o.Progress.Notified != 1 {
		t.Fatalf("half way: %+v", o)
	}
	f.set(offer.OfferPublished, 4, 3, 4)
	if o := next(t, c); o.Status != offer.OfferPublished || o.Progress.Processed != 4 {
		t.Fatalf("published: %+v", o)
	}
	select {
	case o, ok := <-c:
		if ok {
			t.Fatalf("sent after PUBLISHED: %+v", o)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stream stays open after PUBLISHED")
	}
}

// A watch of an offer that is already PUBLISHED sends it once and ends; an
// unknown offer is refused at once.
func TestWatchPublishedAndUnknown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := &fakeOffers{o: offer.Offer{ID: bson.NewObjectID(), Status: offer.OfferPublished}, read: make(chan struct{}, 1)}
	w := New(f, time.Millisecond, nil)
	if _, err := w.Watch(ctx, bson.NewObjectID()); !errors.Is(err, offer.ErrOfferNotFound) {
		t.Fatalf("an unknown offer: %v", err)
	}
	c, err := w.Watch(ctx, f.o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if o := next(t, c); o.Status != offer.OfferPublished {
		t.Fatalf("at once: %+v", o)
	}
	if _, ok := <-c; ok {
		t.Fatal("the stream stays open")
	}
}

// With an interval of an hour, progress signalled on this instance arrives
// at once, and the stream still ends after PUBLISHED.
func TestWatchWokenBySignal(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := &fakeOffers{o: offer.Offer{ID: bson.NewObjectID(), Status: offer.OfferDraft}, read: make(chan struct{}, 1)}
	var signals livepoll.Signals
	w := New(f, time.Hour, &signals)
	c, err := w.Watch(ctx, f.o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if o := next(t, c); o.Status != offer.OfferDraft {
		t.Fatalf("at once: %+v", o)
	}
	f.set(offer.OfferPublishing, 1, 1, 2)
	signals.Signal(f.o.ID)
	if o := next(t, c); o.Progress.Processed != 1 {
		t.Fatalf("after a signal: %+v", o)
	}
	f.set(offer.OfferPublished, 2, 2, 2)
	signals.Signal(f.o.ID)
	if o := next(t, c); o.Status != offer.OfferPublished {
		t.Fatalf("published: %+v", o)
	}
	if _, ok := <-c; ok {
		t.Fatal("the stream stays open")
	}
	if n := signals.Watching(f.o.ID); n != 0 {
		t.Fatalf("%d watches left", n)
	}
}
