package game

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/regulars/regulars/game/accrual"
	"github.com/regulars/regulars/game/activity"
	"github.com/regulars/regulars/game/effects"
	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/game/rules"
	"github.com/regulars/regulars/member"
)

// snapshot is the member as the rules see them for a, recorded on the
// activity the first time (so a replay, an explanation and a dry run see
// what the first evaluation saw): their tier before a's own entries, the
// badges they hold, a purchase's position by date and their previous
// purchase.
func (s *Service) snapshot(ctx context.Context, p *program.Program, m *member.Member, a *activity.Activity) (*rules.Snapshot, error) {
	if a.RuleSnapshot != nil {
		return a.RuleSnapshot, nil
	}
	st, _, err := s.ledger.Head(ctx, a.MemberID)
	if err != nil {
		return nil, err
	}
	snap := &rules.Snapshot{Tier: p.TierOf(st.Tier.Name)}
	if snap.Badges, err = s.engagement.HeldBadges(ctx, a.MemberID); err != nil {
		return nil, err
	}
	if a.Kind == program.ActivityPurchase && rules.Counted(a.OccurredAt, joinedFrom(m)) {
		n, err := s.acts.PurchasesBefore(ctx, a, joinedFrom(m))
		if err != nil {
			return nil, err
		}
		snap.Purchase, snap.First = n+1, st.Purchases == 0
	}
	snap.BirthdayYear = birthdayYear(m, a)
	prev, err := s.acts.PreviousPurchase(ctx, a)
	if err != nil {
		return nil, err
	}
	if prev != nil {
		snap.LastPurchaseAt = &prev.OccurredAt
	}
	if snap, err = s.acts.KeepSnapshot(ctx, a, snap); err != nil {
		return nil, err
	}
	a.RuleSnapshot = snap
	return snap, nil
}

// ruleInputs is the rule set for a and the member's snapshot, read before
// a's own entries are appended (so the tier is the one a was made in);
// a nil set when no active rule is triggered by a's kind.
func (s *Service) ruleInputs(ctx context.Context, p *program.Program, m *member.Member, a *activity.Activity) (*rules.Set, *rules.Snapshot, error) {
	if a.Kind == program.ActivityRefund {
		return nil, nil, nil
	}
	set, err := s.rules.Active(ctx, p)
	if err != nil || set.Empty(a.Kind) {
		return nil, nil, err
	}
	snap, err := s.snapshot(ctx, p, m, a)
	if err != nil {
		return nil, nil, err
	}
	return set, snap, nil
}

// applyRules evaluates the active earning rules on a and appends what
// they earn after their limits, one keyed entry per rule
// ("act:<id>:rule:<rule id>") whose line names the rule, its version and
// why. Refunds earn nothing here: accrual.Refund takes back rule points
// in proportion with the rest.
func (s *Service) applyRules(ctx context.Context, fx *effects.Cause, p *program.Program, a *activity.Activity, set *rules.Set, snap *rules.Snapshot, record func(*ledger.Entry, bool, error) error) error {
	if set == nil {
		return nil
	}
	ra := a.ForRules()
	for _, l := range set.Evaluate(&ra, snap, nil) {
		key := "act:" + a.ID.Hex() + ":rule:" + l.RuleID.Hex()
		if e, err := s.ledger.ByKey(ctx, a.MemberID, key); err == nil {
			if err := record(e, false, nil); err != nil {
				return err
			}
			continue
		} else if !errors.Is(err, mongo.ErrNoDocuments) {
			return err
		}
		granted, err := s.rules.Store().Grant(ctx, &l, a.MemberID.Hex(), a.ID.Hex(), a.OccurredAt, set.Basis.Location)
		if err != nil {
			return err
		}
		if granted <= 0 {
			continue
		}
		if err := record(s.appendEntry(ctx, fx, p, a.MemberID, key, ledger.EntryEarn, ledger.Source{Kind: ledger.SourceActivity, ID: a.ID.Hex()}, accrual.Rule(p, a, l, granted))); err != nil {
			return err
		}
	}
	return nil
}
