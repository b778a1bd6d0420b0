package gamegql

import (
	"context"

	"github.com/regulars/regulars/graph/relay"

	"github.com/regulars/regulars/game/offer"
)

// OfferProgress is the resolver for the offerProgress field.
func (r Subscription) OfferProgress(ctx context.Context, id string) (<-chan *offer.Offer, error) {
	oid, err := relay.DecodeID("Offer", "id", id)
	if err != nil {
		return nil, err
	}
	return r.OfferWatch.Watch(ctx, oid)
}
