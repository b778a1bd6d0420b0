package gamegql

import (
	"context"
	"slices"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/graph/model"
	"github.com/regulars/regulars/graph/relay"
	"github.com/regulars/regulars/graph/request"

	"github.com/regulars/regulars/game"
	"github.com/regulars/regulars/game/activity"
	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/game/referral"
	"github.com/regulars/regulars/game/reward"
	"github.com/regulars/regulars/member"
)

// ID is the resolver for the id field.
func (r Activity) ID(ctx context.Context, obj *activity.Activity) (string, error) {
	return relay.EncodeID("Activity", obj.ID), nil
}

// Amount is the resolver for the amount field.
func (r Activity) Amount(ctx context.Context, obj *activity.Activity) (*model.Money, error) {
	if obj.Currency == "" {
		return nil, nil
	}
	return &model.Money{AmountMinor: int(obj.AmountMinor), Currency: obj.Currency}, nil
}

// ID is the resolver for the id field.
func (r LedgerEntry) ID(ctx context.Context, obj *ledger.Entry) (string, error) {
	return relay.EncodeID("LedgerEntry", obj.ID), nil
}

// BalanceAfter is the resolver for the balanceAfter field.
func (r LedgerEntry) BalanceAfter(ctx context.Context, obj *ledger.Entry) (int, error) {
	return int(obj.State.Balance), nil
}

// ID is the resolver for the id field.
func (r LedgerSource) ID(ctx context.Context, obj *ledger.Source) (*string, error) {
	return relay.PublicSourceID(obj), nil
}

// Points is the resolver for the points field.
func (r Member) Points(ctx context.Context, obj *member.Member) (*ledger.PointsSummary, error) {
	c, err := request.LoadLedger(ctx, obj.ID)
	if err != nil {
		return nil, err
	}
	return c.Points(), nil
}

// Tier is the resolver for the tier field.
func (r Member) Tier(ctx context.Context, obj *member.Member) (*ledger.TierStatus, error) {
	p, err := r.Rooms.Program.Get(ctx)
	if err != nil {
		return nil, err
	}
	c, err := request.LoadLedger(ctx, obj.ID)
	if err != nil {
		return nil, err
	}
	return c.Tier(&p), nil
}

// Referral is the resolver for the referral field.
func (r Member) Referral(ctx context.Context, obj *member.Member) (*referral.Summary, error) {
	return r.Rooms.Referrals.Summary(ctx, obj.ID)
}

// RecordActivity is the resolver for the recordActivity field.
func (r Mutation) RecordActivity(ctx context.Context, input model.RecordActivityInput) (*game.ActivityResult, error) {
	id, err := relay.DecodeID("Member", "memberId", input.MemberID)
	if err != nil {
		return nil, err
	}
	in := game.ActivityInput{
		MemberID: id, Kind: input.Kind, ExternalID: input.ExternalID,
		AmountMinor: int64(model.Deref(input.AmountMinor)), Currency: model.Deref(input.Currency),
		OccurredAt: input.OccurredAt, RefundOf: model.Deref(input.RefundOf),
		// What the engagement step answers (streak, badges) is only
		// waited for when asked: the rest of the effects follow the answer.
		AnswerFirst: !selected(ctx, "streak", "badges"),
	}
	for _, it := range input.Items {
		in.Items = append(in.Items, activity.LineItem{SKU: it.Sku, Category: model.Deref(it.Category), Quantity: int64(it.Quantity), PriceMinor: int64(it.PriceMinor)})
	}
	return r.Game.RecordActivity(ctx, in)
}

// selected reports whether the field being resolved selects any of names
// (through fragments too).
func selected(ctx context.Context, names ...string) bool {
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		if slices.Contains(names, f.Name) {
			return true
		}
	}
	return false
}

// CheckIn is the resolver for the checkIn field.
func (r Mutation) CheckIn(ctx context.Context) (*game.ActivityResult, error) {
	id, err := member.PrincipalFrom(ctx).Self()
	if err != nil {
		return nil, err
	}
	return r.Game.CheckIn(ctx, id, !selected(ctx, "streak", "badges"))
}

// UpdateProgram is the resolver for the updateProgram field.
func (r Mutation) UpdateProgram(ctx context.Context, input program.Patch, expectedVersion *int) (*program.Program, error) {
	var expected *int64
	if expectedVersion != nil {
		v := int64(*expectedVersion)
		expected = &v
	}
	p, err := r.Game.UpdateProgram(ctx, expected, input.Apply)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// AdjustPoints is the resolver for the adjustPoints field.
func (r Mutation) AdjustPoints(ctx context.Context, memberID string, amount int, reason string, idempotencyKey string) (*ledger.Entry, error) {
	id, err := relay.DecodeID("Member", "memberId", memberID)
	if err != nil {
		return nil, err
	}
	return r.Game.Adjust(ctx, id, int64(amount), reason, idempotencyKey)
}

// CreateReward is the resolver for the createReward field.
func (r Mutation) CreateReward(ctx context.Context, input reward.RewardInput) (*reward.Reward, error) {
	return r.Game.Rewards().CreateReward(ctx, input)
}

// UpdateReward is the resolver for the updateReward field.
func (r Mutation) UpdateReward(ctx context.Context, id string, input reward.RewardInput) (*reward.Reward, error) {
	oid, err := relay.DecodeID("Reward", "id", id)
	if err != nil {
		return nil, err
	}
	return r.Game.Rewards().UpdateReward(ctx, oid, input)
}

// RedeemReward is the resolver for the redeemReward field.
func (r Mutation) RedeemReward(ctx context.Context, rewardID string, idempotencyKey string) (*reward.Redemption, error) {
	self, err := member.PrincipalFrom(ctx).Self()
	if err != nil {
		return nil, err
	}
	id, err := relay.DecodeID("Reward", "rewardId", rewardID)
	if err != nil {
		return nil, err
	}
	return r.Game.Redeem(ctx, self, id, idempotencyKey)
}

// CancelRedemption is the resolver for the cancelRedemption field.
func (r Mutation) CancelRedemption(ctx context.Context, id string, reason string) (*reward.Redemption, error) {
	oid, err := relay.DecodeID("Redemption", "id", id)
	if err != nil {
		return nil, err
	}
	return r.Game.Rewards().CancelRedemption(ctx, oid, reason)
}

// ExpiringSoon is the resolver for the expiringSoon field.
func (r Points) ExpiringSoon(ctx context.Context, obj *ledger.PointsSummary, withinDays *int) ([]*ledger.ExpiringPoints, error) {
	return obj.ExpiringWithin(model.Deref(withinDays))
}

// Ledger is the resolver for the ledger field.
func (r Points) Ledger(ctx context.Context, obj *ledger.PointsSummary, first *int, after *string) (*model.LedgerConnection, error) {
	limit, err := relay.PageSize(first)
	if err != nil {
		return nil, err
	}
	list := relay.LedgerList(obj.MemberID)
	before, err := relay.DecodeCursor(list, after)
	if err != nil {
		return nil, err
	}
	es, more, err := r.Rooms.Ledger.Entries(ctx, obj.MemberID, before, limit)
	if err != nil {
		return nil, err
	}
	conn := &model.LedgerConnection{}
	conn.Edges, conn.PageInfo = relay.Edges(es, more, after,
		func(e *ledger.Entry) string { return relay.EncodeCursor(list, e.Seq) },
		func(c string, e *ledger.Entry) *model.LedgerEdge { return &model.LedgerEdge{Cursor: c, Node: e} })
	return conn, nil
}

// UpdatedAt is the resolver for the updatedAt field.
func (r Program) UpdatedAt(ctx context.Context, obj *program.Program) (*time.Time, error) {
	if obj.UpdatedAt.IsZero() {
		return nil, nil
	}
	return &obj.UpdatedAt, nil
}

// Program is the resolver for the program field.
func (r Query) Program(ctx context.Context) (*program.Program, error) {
	p, err := r.Rooms.Program.Get(ctx)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// ProgramTimezone is the resolver for the programTimezone field.
func (r Query) ProgramTimezone(ctx context.Context) (string, error) {
	p, err := r.Rooms.Program.Get(ctx)
	if err != nil {
		return "", err
	}
	return p.Location().String(), nil
}

// ProgramHistory is the resolver for the programHistory field.
func (r Query) ProgramHistory(ctx context.Context, first *int, after *string) (*model.ProgramConnection, error) {
	limit, err := relay.PageSize(first)
	if err != nil {
		return nil, err
	}
	before, err := relay.DecodeCursor("programHistory", after)
	if err != nil {
		return nil, err
	}
	ps, more, err := r.Rooms.Program.Versions(ctx, before, limit)
	if err != nil {
		return nil, err
	}
	conn := &model.ProgramConnection{}
	conn.Edges, conn.PageInfo = relay.Edges(ps, more, after,
		func(p program.Program) string { return relay.EncodeCursor("programHistory", p.Version) },
		func(c string, p program.Program) *model.ProgramEdge { return &model.ProgramEdge{Cursor: c, Node: &p} })
	return conn, nil
}

// Rewards is the resolver for the rewards field.
func (r Query) Rewards(ctx context.Context, first *int, after *string) (*model.RewardConnection, error) {
	limit, err := relay.PageSize(first)
	if err != nil {
		return nil, err
	}
	from, err := relay.DecodeIDCursor("rewards", after)
	if err != nil {
		return nil, err
	}
	rs, more, err := r.Game.Rewards().Catalog(ctx, member.PrincipalFrom(ctx), from, limit)
	if err != nil {
		return nil, err
	}
	conn := &model.RewardConnection{}
	conn.Edges, conn.PageInfo = relay.Edges(rs, more, after,
		func(rw *reward.Reward) string { return relay.EncodeIDCursor("rewards", rw.ID) },
		func(c string, rw *reward.Reward) *model.RewardEdge { return &model.RewardEdge{Cursor: c, Node: rw} })
	return conn, nil
}

// Reward is the resolver for the reward field.
func (r Query) Reward(ctx context.Context, id string) (*reward.Reward, error) {
	oid, err := relay.DecodeID("Reward", "id", id)
	if err != nil {
		return nil, err
	}
	rw, err := request.LoadReward(ctx, oid)
	if err != nil {
		return nil, err
	}
	return reward.For(member.PrincipalFrom(ctx), rw)
}

// MyRedemptions is the resolver for the myRedemptions field.
func (r Query) MyRedemptions(ctx context.Context, first *int, after *string) (*model.RedemptionConnection, error) {
	self, err := member.PrincipalFrom(ctx).Self()
	if err != nil {
		return nil, err
	}
	return redemptionPage("redemptions", first, after, func(from bson.ObjectID, n int) ([]*reward.Redemption, bool, error) {
		return r.Game.Rewards().Redemptions(ctx, self, from, n)
	})
}

// Redemptions is the resolver for the redemptions field.
func (r Member) Redemptions(ctx context.Context, obj *member.Member, first *int, after *string) (*model.RedemptionConnection, error) {
	return redemptionPage("member-redemptions."+obj.ID.Hex(), first, after, func(from bson.ObjectID, n int) ([]*reward.Redemption, bool, error) {
		return r.Game.Rewards().RedemptionsOf(ctx, member.PrincipalFrom(ctx), obj.ID, from, n)
	})
}

// redemptionPage is a page of redemptions of list, newest first, read by fetch.
func redemptionPage(list string, first *int, after *string, fetch func(from bson.ObjectID, n int) ([]*reward.Redemption, bool, error)) (*model.RedemptionConnection, error) {
	es, info, err := relay.PageByID(list, first, after, fetch, func(rd *reward.Redemption) bson.ObjectID { return rd.ID },
		func(c string, rd *reward.Redemption) *model.RedemptionEdge {
			return &model.RedemptionEdge{Cursor: c, Node: rd}
		})
	if err != nil {
		return nil, err
	}
	return &model.RedemptionConnection{Edges: es, PageInfo: info}, nil
}

// ID is the resolver for the id field.
func (r Redemption) ID(ctx context.Context, obj *reward.Redemption) (string, error) {
	return relay.EncodeID("Redemption", obj.ID), nil
}

// Reward is the resolver for the reward field.
func (r Redemption) Reward(ctx context.Context, obj *reward.Redemption) (*reward.Reward, error) {
	return request.LoadReward(ctx, obj.RewardID)
}

// CancelReason is the resolver for the cancelReason field.
func (r Redemption) CancelReason(ctx context.Context, obj *reward.Redemption) (*string, error) {
	return model.Optional(obj.CancelReason), nil
}

// ID is the resolver for the id field.
func (r Reward) ID(ctx context.Context, obj *reward.Reward) (string, error) {
	return relay.EncodeID("Reward", obj.ID), nil
}

// MinTier is the resolver for the minTier field.
func (r Reward) MinTier(ctx context.Context, obj *reward.Reward) (*string, error) {
	return model.Optional(obj.MinTier), nil
}

// Progress is the resolver for the progress field.
func (r TierStatus) Progress(ctx context.Context, obj *ledger.TierStatus) (*model.TierProgress, error) {
	p := &model.TierProgress{Basis: obj.Basis, Value: int(obj.Metric), ToNext: int(obj.ToNext)}
	if !obj.QualifiedUntil.IsZero() {
		p.QualifiedUntil = &obj.QualifiedUntil
	}
	return p, nil
}
