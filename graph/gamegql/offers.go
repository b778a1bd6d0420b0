package gamegql

import (
	"context"
	"fmt"

	"github.com/regulars/regulars/graph/model"
	"github.com/regulars/regulars/graph/relay"
	"github.com/regulars/regulars/member"

	"github.com/regulars/regulars/game/offer"
	"github.com/regulars/regulars/game/program"
)

// Offer is the resolver for the offer field.
func (r Coupon) Offer(ctx context.Context, obj *offer.Claim) (*offer.Offer, error) {
	return r.Game.Offers().Offer(ctx, obj.OfferID)
}

// CreateOffer is the resolver for the createOffer field.
func (r Mutation) CreateOffer(ctx context.Context, input offer.OfferInput) (*offer.Offer, error) {
	return r.Game.Offers().CreateOffer(ctx, input)
}

// PublishOffer is the resolver for the publishOffer field.
func (r Mutation) PublishOffer(ctx context.Context, id string) (*offer.Offer, error) {
	oid, err := relay.DecodeID("Offer", "id", id)
	if err != nil {
		return nil, err
	}
	return r.Game.Offers().PublishOffer(ctx, oid)
}

// ClaimOffer is the resolver for the claimOffer field.
func (r Mutation) ClaimOffer(ctx context.Context, offerID string) (*offer.Claim, error) {
	self, err := member.PrincipalFrom(ctx).Self()
	if err != nil {
		return nil, err
	}
	oid, err := relay.DecodeID("Offer", "offerId", offerID)
	if err != nil {
		return nil, err
	}
	return r.Game.Offers().ClaimOffer(ctx, self, oid)
}

// ID is the resolver for the id field.
func (r Offer) ID(ctx context.Context, obj *offer.Offer) (string, error) {
	return relay.EncodeID("Offer", obj.ID), nil
}

// ImageURL is the resolver for the imageUrl field.
func (r Offer) ImageURL(ctx context.Context, obj *offer.Offer) (*string, error) {
	return model.Optional(obj.ImageURL), nil
}

// Progress is the resolver for the progress field.
func (r Offer) Progress(ctx context.Context, obj *offer.Offer) (*offer.Progress, error) {
	if !program.ManagesProgram(member.PrincipalFrom(ctx)) {
		return nil, nil
	}
	return &obj.Progress, nil
}

// Offers is the resolver for the offers field.
func (r Query) Offers(ctx context.Context) ([]*offer.Offer, error) {
	self, err := member.PrincipalFrom(ctx).Self()
	if err != nil {
		return nil, err
	}
	return r.Game.Offers().OffersFor(ctx, self)
}

// Offer is the resolver for the offer field.
func (r Query) Offer(ctx context.Context, id string) (*offer.Offer, error) {
	oid, err := relay.DecodeID("Offer", "id", id)
	if err != nil {
		return nil, err
	}
	return r.Game.Offers().Offer(ctx, oid)
}

// Target is the resolver for the target field.
func (r OfferInput) Target(ctx context.Context, obj *offer.OfferInput, data *model.OfferTargetingInput) error {
	if data == nil {
		return nil
	}
	t := offer.Targeting{Tiers: data.Tiers, BirthdayThisMonth: model.Deref(data.BirthdayThisMonth), InactiveDays: model.Deref(data.InactiveDays)}
	if data.BadgeID != nil {
		id, err := relay.DecodeID("Badge", "target.badgeId", *data.BadgeID)
		if err != nil {
			return err
		}
		t.BadgeID = &id
	}
	for i, m := range data.MemberIds {
		id, err := relay.DecodeID("Member", fmt.Sprintf("target.memberIds[%d]", i), m)
		if err != nil {
			return err
		}
		t.Members = append(t.Members, id)
	}
	obj.Target = t
	return nil
}

// BrandOffers is the resolver for the brandOffers field.
func (r Query) BrandOffers(ctx context.Context, status *offer.OfferStatus, first *int, after *string) (*model.OfferConnection, error) {
	n, err := relay.PageSize(first)
	if err != nil {
		return nil, err
	}
	from, err := relay.DecodeIDCursor("brand-offers", after)
	if err != nil {
		return nil, err
	}
	os, more, err := r.Game.Offers().List(ctx, model.Deref(status), from, n)
	if err != nil {
		return nil, err
	}
	return offerConnection("brand-offers", os, more, after), nil
}
