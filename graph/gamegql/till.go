package gamegql

import (
	"context"
	"errors"

	"github.com/regulars/regulars/graph/relay"

	"github.com/regulars/regulars/game/activity"
	"github.com/regulars/regulars/game/offer"
	"github.com/regulars/regulars/game/reward"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/till"
)

// Redemption is the resolver for the redemption field.
func (r Coupon) Redemption(ctx context.Context, obj *offer.Claim) (*offer.CouponRedemption, error) {
	return obj.Used(), nil
}

// Purchase is the resolver for the purchase field.
func (r CouponRedemption) Purchase(ctx context.Context, obj *offer.CouponRedemption) (*activity.Activity, error) {
	return r.Rooms.Activities.Purchase(ctx, obj.MemberID, obj.OrderExternalID)
}

// ByService is the resolver for the byService field.
func (r Fulfilment) ByService(ctx context.Context, obj *reward.Fulfilment) (bool, error) {
	return obj.StaffID.IsZero(), nil
}

// Staff is the resolver for the staff field.
func (r Fulfilment) Staff(ctx context.Context, obj *reward.Fulfilment) (*member.Member, error) {
	if !reward.MaySeeStaff(member.PrincipalFrom(ctx), obj) {
		return nil, nil
	}
	m, err := r.Members.Get(ctx, obj.StaffID)
	if errors.Is(err, member.ErrNotFound) {
		return nil, nil // the staff member's account was deleted since
	}
	return m, err
}

// MemberCard is the resolver for the memberCard field.
func (r Member) MemberCard(ctx context.Context, obj *member.Member) (*till.Card, error) {
	if err := till.MayReadCard(member.PrincipalFrom(ctx), obj.ID); err != nil {
		return nil, err
	}
	return r.Till.Card(ctx, obj.ID)
}

// FulfillRedemption is the resolver for the fulfillRedemption field.
func (r Mutation) FulfillRedemption(ctx context.Context, code string, location string, idempotencyKey string) (*reward.Redemption, error) {
	staff, err := till.Staff(member.PrincipalFrom(ctx))
	if err != nil {
		return nil, err
	}
	return r.Game.Rewards().FulfillRedemption(ctx, code, location, idempotencyKey, staff)
}

// RedeemCoupon is the resolver for the redeemCoupon field.
func (r Mutation) RedeemCoupon(ctx context.Context, code string, orderExternalID string) (*offer.Claim, error) {
	staff, err := till.Staff(member.PrincipalFrom(ctx))
	if err != nil {
		return nil, err
	}
	return r.Game.Offers().RedeemCoupon(ctx, code, orderExternalID, staff)
}

// IdentifyMember is the resolver for the identifyMember field.
func (r Query) IdentifyMember(ctx context.Context, code string) (*till.Identified, error) {
	return r.Till.Identify(ctx, code)
}

// MemberID is the resolver for the memberId field.
func (r TillMember) MemberID(ctx context.Context, obj *till.Identified) (string, error) {
	return relay.EncodeID("Member", obj.MemberID), nil
}
