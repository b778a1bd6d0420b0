package game

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/game/reward"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/texts"
)

// ExpiringPoints is one lot's points and when they expire.
type ExpiringPoints struct {
	Amount int64
	At     time.Time
}

// PointsSummary is a member's points as they see them.
type PointsSummary struct {
	MemberID bson.ObjectID
	// Balance is the sum of every ledger entry: Available + Pending.
	Balance   int64
	Available int64
	Pending   int64
	// Expiring lists every lot with an expiry, soonest first.
	Expiring []ExpiringPoints
	// AsOf is when the summary was read, by the game's clock.
	AsOf time.Time
}

// ExpiringWithin returns the points expiring within days of the summary's
// time, soonest first; days is 1 to 3650 (field withinDays).
func (sum *PointsSummary) ExpiringWithin(days int) ([]*ExpiringPoints, error) {
	if days < 1 || days > 3650 {
		return nil, input.Errorf("withinDays", "must be between 1 and 3650")
	}
	until := sum.AsOf.AddDate(0, 0, days)
	var out []*ExpiringPoints
	for _, e := range sum.Expiring {
		if e.At.Before(until) {
			out = append(out, &e)
		}
	}
	return out, nil
}

// Points returns the member's points now, expiring what is due first.
func (s *Service) Points(ctx context.Context, memberID bson.ObjectID) (*PointsSummary, error) {
	p, err := s.program.Get(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.expireDue(ctx, &p, memberID); err != nil {
		return nil, err
	}
	st, _, err := s.ledger.Head(ctx, memberID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	sum := &PointsSummary{MemberID: memberID, Balance: st.Balance, Available: st.Available(now), Pending: st.Pending(now), AsOf: now}
	for _, l := range st.Lots {
		if l.ExpiresAt != nil {
			sum.Expiring = append(sum.Expiring, ExpiringPoints{Amount: l.Points, At: *l.ExpiresAt})
		}
	}
	slices.SortFunc(sum.Expiring, func(a, b ExpiringPoints) int { return a.At.Compare(b.At) })
	return sum, nil
}

// Tier returns the member's tier status now.
func (s *Service) Tier(ctx context.Context, memberID bson.ObjectID) (*ledger.TierStatus, error) {
	p, err := s.program.Get(ctx)
	if err != nil {
		return nil, err
	}
	st, _, err := s.ledger.Head(ctx, memberID)
	if err != nil {
		return nil, err
	}
	ts := ledger.StatusOf(st, &p, s.now())
	return &ts, nil
}

// Adjust changes a member's points by hand (the brand's goodwill or a
// correction), once per idempotency key. A debit never takes the balance
// below zero.
func (s *Service) Adjust(ctx context.Context, memberID bson.ObjectID, amount int64, reason, idempotencyKey string) (*ledger.Entry, error) {
	if amount == 0 || amount > program.MaxPoints || amount < -program.MaxPoints {
		return nil, input.Errorf("amount", "must be non-zero and within ±%d", program.MaxPoints)
	}
	reason, err := input.Line("reason", reason, reward.MaxReason)
	if err != nil {
		return nil, err
	}
	if idempotencyKey, err = input.Identifier("idempotencyKey", idempotencyKey, reward.MaxKey); err != nil {
		return nil, err
	}
	if _, err := s.members.Get(ctx, memberID); err != nil {
		return nil, input.Wrap("memberId", err)
	}
	if err := s.roomFor(ctx, memberID, "amount", amount); err != nil {
		return nil, err
	}
	p, err := s.program.Get(ctx)
	if err != nil {
		return nil, err
	}
	fx := &effects{}
	e, created, err := s.appendEntry(ctx, fx, &p, memberID, "adjust:"+idempotencyKey, ledger.EntryAdjust, ledger.Source{Kind: ledger.SourceAdjustment, ID: idempotencyKey},
		func(st *ledger.State, e *ledger.Entry, now time.Time) (bool, error) {
			e.Reason = reason
			e.Lines = []ledger.Line{{Rule: "adjustment", Points: amount, Reason: reason}}
			if amount > 0 {
				st.Credit(e, amount, now, ledger.ExpiresAfter(now, p.PointsExpireDays))
				st.Earn(&p, e, amount, now)
				return true, nil
			}
			if st.Available(now) < -amount {
				return false, input.Wrap("amount", fmt.Errorf("%w: the member has %d spendable", ledger.ErrInsufficientPoints, st.Available(now)))
			}
			st.Debit(e, -amount, now, true, nil)
			return true, nil
		})
	if err != nil {
		return nil, err
	}
	if !created && (e.Reason != reason || len(e.Lines) != 1 || e.Lines[0].Points != amount) {
		// The key's adjustment stands; this is another one under its key.
		return nil, input.Wrap("idempotencyKey", fmt.Errorf("adjustment %q was made with another amount or reason: %w", idempotencyKey, ledger.ErrIdempotencyReuse))
	}
	if e.Amount > 0 {
		fx.notify(inbox.Message{MemberID: memberID, Kind: inbox.KindRewardEarned, Key: e.Key, Related: entryRelated(e),
			Template: texts.PointsReceived, Data: map[string]any{"points": e.Amount, "reason": reason}})
	}
	return e, s.carryOut(ctx, &p, fx)
}

// jobState remembers how far a periodic job got, so a restart resumes.
type jobState struct {
	ID      string    `bson:"_id"`
	Through time.Time `bson:"through"`
}

// jobOverlap widens each expiry run back over the last one's end, for an
// entry written by another instance whose clock runs a little behind.
const jobOverlap = time.Minute

// ExpirePoints writes EXPIRE entries for every lot that came due since the
// last run, and announces the tier moves they made (TIER_CHANGED, the
// tier.changed webhook event). Safe on any number of instances at once: each lot's entry has
// its own key, and the watermark only moves forward past work done.
func (s *Service) ExpirePoints(ctx context.Context, jobs *mongo.Collection) (int, error) {
	var js jobState
	err := jobs.FindOne(ctx, bson.D{{Key: "_id", Value: "expire-points"}}).Decode(&js)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return 0, err
	}
	now := s.now().UTC()
	ids, err := s.ledger.Expiring(ctx, js.Through, now)
	if err != nil {
		return 0, err
	}
	p, err := s.program.Get(ctx)
	if err != nil {
		return 0, err
	}
	expired := 0
	for _, id := range ids {
		es, err := s.ledger.ExpireDue(ctx, &p, id)
		if err != nil {
			return expired, err
		}
		expired += len(es)
	}
	// Every tier move an expiry made since the last run is announced here,
	// including those of a read or redemption whose announcement failed:
	// both are keyed by the entry, so announcing again repeats nothing.
	moved, err := s.ledger.ExpiryTierMoves(ctx, js.Through.Add(-jobOverlap), now)
	if err != nil {
		return expired, err
	}
	if err := s.announceTierMoves(ctx, &p, moved); err != nil {
		return expired, err
	}
	advance := bson.D{{Key: "$max", Value: bson.D{{Key: "through", Value: now}}}}
	_, err = jobs.UpdateOne(ctx, bson.D{{Key: "_id", Value: "expire-points"}}, advance, options.UpdateOne().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) {
		// Two first runs upserted at once; the document exists now.
		_, err = jobs.UpdateOne(ctx, bson.D{{Key: "_id", Value: "expire-points"}}, advance)
	}
	return expired, err
}
