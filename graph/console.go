package graph

import "github.com/regulars/regulars/game/offer"

// offerConnection is a page of the brand's offers (brandOffers).
func offerConnection(list string, os []*offer.Offer, more bool, after *string) *OfferConnection {
	es, info := edges(os, more, after, func(o *offer.Offer) string { return encodeIDCursor(list, o.ID) },
		func(c string, o *offer.Offer) *OfferEdge { return &OfferEdge{Cursor: c, Node: o} })
	return &OfferConnection{Edges: es, PageInfo: info}
}
