// Package offerlive streams an offer's publishing progress to the brand
// team that watches it (the console's Offers page): the offer at once, then
// the offer again whenever its status or progress changes, until it is
// PUBLISHED.
//
// A watch reads the offer document (offer.Service.Offer, by _id) and
// compares it with what it last sent (internal/livepoll): at once when this
// instance changed the offer (the publishing code signals it through
// offer.Deps.Changed), and every interval for progress made by the
// publishing job on other instances sharing the database. The package owns
// no collection.
package offerlive

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/offer"
	"github.com/regulars/regulars/internal/livepoll"
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
	signals  *livepoll.Signals
}

// New returns a watcher that reads offers from offers every interval
// (> 0), or at once when signals (nil: none) tells of a change to the
// offer on this instance (offer.Deps.Changed).
func New(offers Offers, interval time.Duration, signals *livepoll.Signals) *Watcher {
	return &Watcher{offers: offers, interval: interval, signals: signals}
}

// Watch streams the offer: as it is now at once, then each time its status
// or progress differs from the last one sent. The stream closes after the
// offer is sent PUBLISHED, when ctx ends, or when a read fails (the client
// watches again). It returns offer.ErrOfferNotFound when there is no such
// offer. Who may watch is the caller's rule (the API: BRAND).
func (w *Watcher) Watch(ctx context.Context, id bson.ObjectID) (<-chan *offer.Offer, error) {
	wake := w.signals.Wake(id) // before the read: a change after it wakes the loop
	first, err := w.offers.Offer(ctx, id)
	if err != nil {
		wake.Stop()
		return nil, err
	}
	return livepoll.Stream(ctx, wake, livepoll.Loop[*offer.Offer]{
		Interval: w.interval,
		Read: func(ctx context.Context) (*offer.Offer, error) {
			if o := first; o != nil { // read by Watch to answer NOT_FOUND
				first = nil
				return o, nil
			}
			return w.offers.Offer(ctx, id)
		},
		Differs: changed,
		Final:   func(o *offer.Offer) bool { return o.Status == offer.OfferPublished },
		Name:    "offerlive: read the offer", Attrs: []any{"offer", id.Hex()},
	}), nil
}

// changed tells whether b differs from a in what a watcher sees.
func changed(a, b *offer.Offer) bool {
	return a.Status != b.Status || a.Progress.Processed != b.Progress.Processed ||
		a.Progress.Notified != b.Progress.Notified || a.Progress.Total != b.Progress.Total
}
