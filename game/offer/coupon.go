package offer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/randcode"
	"github.com/regulars/regulars/texts"
	"github.com/regulars/regulars/webhook"
)

var (
	ErrCouponNotFound = fault.New(fault.NotFound, "coupon not found")
	ErrCouponExpired  = fault.New(fault.Conflict, "coupon expired")
)

// MaxOrderExternalID bounds an order's id in the brand's systems, as an
// activity's externalId.
const MaxOrderExternalID = 128

// CouponRedemption is a coupon's use at the till: on which order (the
// externalId the brand's backend reports the purchase with, which links the
// purchase to the coupon for offer revenue), by whom (a STAFF member, zero
// for the brand's backend) and when.
type CouponRedemption struct {
	OrderExternalID string        `bson:"orderExternalId"`
	StaffID         bson.ObjectID `bson:"staffId,omitempty"`
	At              time.Time     `bson:"at"`
	// MemberID is the coupon's holder, as Claim.Used gives it: the order's
	// purchase counts only if it is theirs.
	MemberID bson.ObjectID `bson:"-"`
}

// Used is the claim's coupon use with its holder, nil when unused.
func (c *Claim) Used() *CouponRedemption {
	if c.Redemption == nil {
		return nil
	}
	r := *c.Redemption
	r.MemberID = c.MemberID
	return &r
}

// AlreadyRedeemed refuses a coupon used before on another order (CONFLICT),
// saying when and on which order.
type AlreadyRedeemed struct {
	At              time.Time
	OrderExternalID string
}

func (e *AlreadyRedeemed) Error() string {
	return fmt.Sprintf("coupon already used at %s on order %s", e.At.UTC().Format(time.RFC3339), e.OrderExternalID)
}

// ErrorCode is CONFLICT.
func (e *AlreadyRedeemed) ErrorCode() fault.Code { return fault.Conflict }

// Extensions tell the till the first use's time and order.
func (e *AlreadyRedeemed) Extensions() map[string]any {
	return map[string]any{"field": "code", "redeemedAt": e.At.UTC().Format(time.RFC3339Nano), "orderExternalId": e.OrderExternalID}
}

// RedeemCoupon uses a coupon at the till on the order orderExternalID,
// once, by one conditional update: of any number of tills racing on one
// code exactly one wins, the others get *AlreadyRedeemed (CONFLICT) with the
// first use's time and order. The same code and order again (a retry)
// answers the same redemption. A coupon past its expiry is ErrCouponExpired;
// a malformed code BAD_USER_INPUT on code, an unknown one NOT_FOUND on code.
// The member is notified once. The returned claim's Redemption is the
// outcome (who, which order, when) to announce; a replay returns the same.
func (s *Service) RedeemCoupon(ctx context.Context, code, orderExternalID string, staffID bson.ObjectID) (*Claim, error) {
	code, err := input.Identifier("code", code, 64)
	if err != nil {
		return nil, err
	}
	c, ok := randcode.ParseVoucher(code)
	if !ok {
		return nil, input.Errorf("code", "is not a coupon code Regulars issued (four groups of four letters and digits, such as ABCD-EFGH-JKMN-PQRS)")
	}
	if orderExternalID, err = input.Identifier("orderExternalId", orderExternalID, MaxOrderExternalID); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	var claim Claim
	err = s.offers.claims.FindOneAndUpdate(ctx,
		bson.D{{Key: "code", Value: c}, {Key: "redemption", Value: bson.D{{Key: "$exists", Value: false}}}, {Key: "expiresAt", Value: bson.D{{Key: "$gt", Value: now}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "redemption", Value: CouponRedemption{OrderExternalID: orderExternalID, StaffID: staffID, At: now}}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&claim)
	if errors.Is(err, mongo.ErrNoDocuments) {
		if err := s.offers.claims.FindOne(ctx, bson.D{{Key: "code", Value: c}}).Decode(&claim); errors.Is(err, mongo.ErrNoDocuments) {
			return nil, input.Wrap("code", ErrCouponNotFound)
		} else if err != nil {
			return nil, err
		}
		switch {
		case claim.Redemption == nil:
			return nil, fmt.Errorf("%w at %s", ErrCouponExpired, claim.ExpiresAt.UTC().Format(time.RFC3339))
		case claim.Redemption.OrderExternalID != orderExternalID:
			return nil, &AlreadyRedeemed{At: claim.Redemption.At, OrderExternalID: claim.Redemption.OrderExternalID}
		}
		// The same order again: a retry, or a concurrent twin that won.
	} else if err != nil {
		return nil, err
	}
	return &claim, s.couponRedeemed(ctx, &claim)
}

// couponRedeemed carries out what follows a coupon's use: the member is
// told, keyed by the claim, so a retry sends nothing twice; then the claim
// is marked announced. It runs after the use wins, again on every replay,
// and from AnnounceCouponRedemptions for one a crash left unannounced:
// the brand's systems hear of it too (coupon.redeemed, keyed by the claim).
func (s *Service) couponRedeemed(ctx context.Context, c *Claim) error {
	o, err := s.offers.get(ctx, c.OfferID)
	if err != nil {
		return err
	}
	p, err := s.Program.Get(ctx)
	if err != nil {
		return err
	}
	if err := s.Effects.CarryOut(ctx, &p, []*ledger.Entry(nil), inbox.Message{MemberID: c.MemberID, Kind: inbox.KindCouponRedeemed,
		Key: "coupon:" + c.ID + ":redeemed", Related: &inbox.Related{Kind: inbox.RelatedOffer, ID: c.OfferID.Hex()},
		Template: texts.CouponRedeemed, Data: map[string]any{"offer": o.Title}}); err != nil {
		return err
	}
	if s.Webhooks != nil {
		data := map[string]any{
			"offer": webhook.Ref{Type: "Offer", ID: c.OfferID.Hex()}, "member": webhook.Ref{Type: "Member", ID: c.MemberID.Hex()},
			"code": c.Code, "orderExternalId": c.Redemption.OrderExternalID, "redeemedAt": c.Redemption.At,
		}
		if !c.Redemption.StaffID.IsZero() {
			data["staff"] = webhook.Ref{Type: "Member", ID: c.Redemption.StaffID.Hex()}
		}
		if err := s.Webhooks.Emit(ctx, webhook.Event{Type: webhook.CouponRedeemed, Cause: c.ID, At: c.Redemption.At, Data: data}); err != nil {
			return err
		}
	}
	if c.Announced {
		return nil
	}
	c.Announced = true
	_, err = s.offers.claims.UpdateOne(ctx, bson.D{{Key: "_id", Value: c.ID}}, bson.D{{Key: "$set", Value: bson.D{{Key: "announced", Value: true}}}})
	return err
}

// announceGrace is how long a coupon's use may stay unannounced before the
// job takes its request for dead.
const announceGrace = time.Minute

// AnnounceCouponRedemptions carries out, at most limit at a time, what
// follows coupon uses whose request stopped before it (couponRedeemed).
// Run by the background jobs; every step is keyed.
func (s *Service) AnnounceCouponRedemptions(ctx context.Context, limit int) (int, error) {
	cur, err := s.offers.claims.Find(ctx, bson.D{{Key: "redemption.at", Value: bson.D{{Key: "$lt", Value: s.now().UTC().Add(-announceGrace)}}},
		{Key: "announced", Value: bson.D{{Key: "$ne", Value: true}}}}, options.Find().SetLimit(int64(limit)))
	if err != nil {
		return 0, err
	}
	var cs []*Claim
	if err := cur.All(ctx, &cs); err != nil {
		return 0, err
	}
	for _, c := range cs {
		if err := s.couponRedeemed(ctx, c); err != nil {
			return 0, err
		}
	}
	return len(cs), nil
}
