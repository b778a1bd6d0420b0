// Package offerlive streams an offer's publishing progress to the brand
// team that watches it (the console's Offers page): the offer at once, then
// the offer again whenever its status or progress changes, until it is
// PUBLISHED.
//
// A watch reads the offer document (offer.Service.Offer, by _id) every
// interval and compares it with what it last sent, so progress made by the
// publishing job on any instance sharing the database reaches every watcher
// within one interval; the publishing job does not know of it. The package
// owns no collection.
package offerlive

import (
	"context"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/offer"
)

// Offers reads one offer (offer.Service); it returns offer.ErrOfferNotFound
// when there is none.
type Offers interface {
	Offer(ctx context.Context, id bson.ObjectID) (*offer.Offer, error)
}

// Watcher serves the watches.
type Watcher struct {
	offers   Offers
	interval time.Duration
}

// New returns a watcher that reads offers from offers every interval (> 0).
func New(offers Offers, interval time.Duration) *Watcher {
	return &Watcher{offers: offers, interval: interval}
}

// Watch streams the offer: as it is now at once, then each time its status
// or progress differs from the last one sent. The stream closes after the
// offer is sent PUBLISHED, when ctx ends, or when a read fails (the client
// watches again). It returns offer.ErrOfferNotFound when there is no such
// offer. Who may watch is the caller's rule (the API: BRAND).
func (w *Watcher) Watch(ctx context.Context, id bson.ObjectID) (<-chan *offer.Offer, error) {
	first, err := w.offers.Offer(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make(chan *offer.Offer)
	go func() {
		defer close(out)
		t := time.NewTicker(w.interval)
		defer t.Stop()
		var last *offer.Offer
		o := first
		for {
			if last == nil || changed(last, o) {
				select {
				case out <- o:
				case <-ctx.Done():
					return
				}
				last = o
			}
			if o.Status == offer.OfferPublished {
				return
			}
			select {
			case <-t.C:
			case <-ctx.Done():
				return
			}
			if o, err = w.offers.Offer(ctx, id); err != nil {
				if ctx.Err() == nil {
					slog.Warn("offerlive: read the offer", "offer", id.Hex(), "err", err)
				}
				return
			}
		}
	}()
	return out, nil
}

// changed tells whether b differs from a in what a watcher sees.
func changed(a, b *offer.Offer) bool {
	return a.Status != b.Status || a.Progress.Processed != b.Progress.Processed ||
		a.Progress.Notified != b.Progress.Notified || a.Progress.Total != b.Progress.Total
}
