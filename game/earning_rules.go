package game

import (
	"context"
	"errors"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/game/rules"
	"github.com/regulars/regulars/member"
)

// ruleActivity is what the rules see of a.
func ruleActivity(a *Activity) rules.Activity {
	ra := rules.Activity{ID: a.ID, ExternalID: a.ExternalID, Kind: a.Kind, AmountMinor: a.AmountMinor, OccurredAt: a.OccurredAt}
	if len(a.Items) > 0 {
		ra.Items = make([]rules.Item, len(a.Items))
		for i, it := range a.Items {
			ra.Items[i] = rules.Item{SKU: it.SKU, Category: it.Category, Quantity: it.Quantity, PriceMinor: it.PriceMinor}
		}
	}
	return ra
}

// snapshot is the member as the rules see them for a, recorded on the
// activity the first time (so a replay, an explanation and a dry run see
// what the first evaluation saw): their tier before a's own entries, the
// badges they hold, a purchase's position by date and their previous
// purchase.
func (s *Service) snapshot(ctx context.Context, p *program.Program, m *member.Member, a *Activity) (*rules.Snapshot, error) {
	if a.RuleSnapshot != nil {
		return a.RuleSnapshot, nil
	}
	st, _, err := s.ledger.Head(ctx, a.MemberID)
	if err != nil {
		return nil, err
	}
	snap := &rules.Snapshot{Tier: st.Tier.Name}
	if snap.Tier == "" && len(p.Tiers) > 0 {
		snap.Tier = p.Tiers[0].Name
	}
	if snap.Badges, err = s.engagement.HeldBadges(ctx, a.MemberID); err != nil {
		return nil, err
	}
	if a.Kind == program.ActivityPurchase && !a.OccurredAt.Before(joinedFrom(m)) {
		n, err := s.acts.purchasesBefore(ctx, a, joinedFrom(m))
		if err != nil {
			return nil, err
		}
		snap.Purchase, snap.First = n+1, st.Purchases == 0
	}
	if m.Birthday != nil {
		snap.BirthdayYear = rules.BirthdayYear(s.now(), m.Location(), m.Birthday.Month)
	}
	prev, err := s.acts.previousPurchase(ctx, a)
	if err != nil {
		return nil, err
	}
	if prev != nil {
		snap.LastPurchaseAt = &prev.OccurredAt
	}
	// The first to record it wins; a racing attempt reads that one.
	res, err := s.acts.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: a.ID}, {Key: "ruleSnapshot", Value: bson.D{{Key: "$exists", Value: false}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "ruleSnapshot", Value: snap}}}})
	if err != nil {
		return nil, err
	}
	if res.ModifiedCount == 0 {
		stored, err := s.acts.byID(ctx, a.ID)
		if err != nil {
			return nil, err
		}
		if stored.RuleSnapshot != nil {
			snap = stored.RuleSnapshot
		}
	}
	a.RuleSnapshot = snap
	return snap, nil
}

// ruleInputs is the rule set for a and the member's snapshot, read before
// a's own entries are appended (so the tier is the one a was made in);
// a nil set when no active rule is triggered by a's kind.
func (s *Service) ruleInputs(ctx context.Context, p *program.Program, m *member.Member, a *Activity) (*rules.Set, *rules.Snapshot, error) {
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
// why. Refunds earn nothing here: refundPurchase takes back rule points
// in proportion with the rest.
func (s *Service) applyRules(ctx context.Context, fx *effects, p *program.Program, a *Activity, set *rules.Set, snap *rules.Snapshot, record func(*ledger.Entry, bool, error) error) error {
	if set == nil {
		return nil
	}
	ra := ruleActivity(a)
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
		line := ledger.Line{Rule: l.Rule, RuleVersion: l.Version, Points: granted, Reason: l.Reason}
		if granted < l.Points {
			line.Reason += " (" + strconv.FormatInt(granted, 10) + " of " + strconv.FormatInt(l.Points, 10) + ": the rule's budget ran out)"
		}
		eff := *l.Effect
		if err := record(s.appendEntry(ctx, fx, p, a.MemberID, key, ledger.EntryEarn, ledger.Source{Kind: ledger.SourceActivity, ID: a.ID.Hex()},
			func(st *ledger.State, e *ledger.Entry, now time.Time) (bool, error) {
				// A rule never takes a balance past its bound: it gives
				// what room is left (the activity's own bound does not
				// count the rules).
				pts := min(granted, program.MaxBalance-st.Balance)
				if pts <= 0 {
					return false, nil
				}
				line := line
				line.Points = pts
				e.Reason = l.Rule
				e.Lines = []ledger.Line{line}
				availableAt := now
				if a.Kind == program.ActivityPurchase {
					availableAt = a.OccurredAt.AddDate(0, 0, p.ReturnWindowDays)
				}
				if eff.PendingDays != nil {
					availableAt = a.OccurredAt.AddDate(0, 0, int(*eff.PendingDays))
				}
				expireDays := p.PointsExpireDays
				if eff.ExpiresAfterDays != nil {
					expireDays = int(*eff.ExpiresAfterDays)
				}
				st.Credit(e, pts, availableAt, ledger.ExpiresAfter(now, expireDays))
				st.Earn(p, e, pts, a.OccurredAt)
				return true, nil
			})); err != nil {
			return err
		}
	}
	return nil
}

// previousPurchase is the member's latest purchase dated before a (at the
// same instant: recorded earlier), nil if none. Backed by indexActivityMember.
func (s activityStore) previousPurchase(ctx context.Context, a *Activity) (*Activity, error) {
	var prev Activity
	err := s.c.FindOne(ctx, bson.D{
		{Key: "memberId", Value: a.MemberID},
		{Key: "kind", Value: program.ActivityPurchase},
		{Key: "occurredAt", Value: bson.D{{Key: "$lte", Value: a.OccurredAt}}},
		{Key: "_id", Value: bson.D{{Key: "$ne", Value: a.ID}}},
		{Key: "$or", Value: bson.A{
			bson.D{{Key: "occurredAt", Value: bson.D{{Key: "$lt", Value: a.OccurredAt}}}},
			bson.D{{Key: "_id", Value: bson.D{{Key: "$lt", Value: a.ID}}}},
		}},
	}, options.FindOne().SetSort(bson.D{{Key: "memberId", Value: 1}, {Key: "kind", Value: 1}, {Key: "occurredAt", Value: -1}})).Decode(&prev)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &prev, nil
}
