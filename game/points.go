package game

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/effects"
	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/game/reward"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/texts"
)

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
	if _, err := s.roomFor(ctx, memberID, "amount", amount); err != nil {
		return nil, err
	}
	p, err := s.program.Get(ctx)
	if err != nil {
		return nil, err
	}
	fx := &effects.Cause{}
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
		fx.Notify(inbox.Message{MemberID: memberID, Kind: inbox.KindRewardEarned, Key: e.Key, Related: entryRelated(e),
			Template: texts.PointsReceived, Data: map[string]any{"points": e.Amount, "reason": reason}})
	}
	return e, s.path.Run(ctx, &p, fx)
}
