package gamegql

import (
	"github.com/regulars/regulars/game/offer"
	"github.com/regulars/regulars/graph/model"
	"github.com/regulars/regulars/graph/relay"
)

// offerConnection is a page of the brand's offers (brandOffers).
func offerConnection(list string, os []*offer.Offer, more bool, after *string) *model.OfferConnection {
	es, info := relay.Edges(os, more, after, func(o *offer.Offer) string { return relay.EncodeIDCursor(list, o.ID) },
		func(c string, o *offer.Offer) *model.OfferEdge { return &model.OfferEdge{Cursor: c, Node: o} })
	return &model.OfferConnection{Edges: es, PageInfo: info}
}
