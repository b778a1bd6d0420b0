package offer

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/page"
)

// indexOfferStatusID backs List with a status: the offers in one status,
// newest first. List without a status reads the _id index.
const indexOfferStatusID = "status_id"

func (s offerStore) listIndexes() []mongo.IndexModel {
	return []mongo.IndexModel{{Keys: bson.D{{Key: "status", Value: 1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName(indexOfferStatusID)}}
}

// List returns the brand's offers newest first (by id, so by creation),
// those in status only when status is not empty, starting after the offer
// before (zero: from the newest), at most limit of them, and whether more
// follow. It is the brand's catalog of offers, whatever their dates or
// targeting; OffersFor is what one member sees. An unknown status is an
// input error on "status".
func (s *Service) List(ctx context.Context, status OfferStatus, before bson.ObjectID, limit int) ([]*Offer, bool, error) {
	filter := bson.D{}
	switch status {
	case "":
	case OfferDraft, OfferPublishing, OfferPublished:
		filter = append(filter, bson.E{Key: "status", Value: status})
	default:
		return nil, false, input.Errorf("status", "must be DRAFT, PUBLISHING or PUBLISHED, got %q", status)
	}
	if !before.IsZero() {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$lt", Value: before}}})
	}
	out, more, err := page.Find[*Offer](ctx, s.offers.offers, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}), limit)
	if err != nil {
		return nil, false, fmt.Errorf("offers: list: %w", err)
	}
	return out, more, nil
}
