package game

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/game/rules"
	"github.com/regulars/regulars/member"
)

// ruleSetTTL is how long an instance evaluates a rule set it read before
// reading it again: a change made through this instance applies at once,
// one made through another within this time.
const ruleSetTTL = 2 * time.Second

// ruleCache holds the active rule set an instance read last.
type ruleCache struct {
	mu   sync.Mutex
	set  *rules.Set
	read time.Time
	// basis is the program's part the set was made with.
	basis rules.Basis
}

// EarningRules returns the brand's earning rules: their store, history
// and limits.
func (s *Service) EarningRules() *rules.Store { return s.rules }

// ruleCatalog is what rule validation knows of the program: its tiers and badges.
type ruleCatalog struct {
	p      *program.Program
	badges map[string]bool
}

func (c ruleCatalog) TierExists(name string) bool { _, ok := c.p.TierNamed(name); return ok }
func (c ruleCatalog) BadgeExists(id string) bool  { return c.badges[id] }

func (s *Service) ruleCatalog(ctx context.Context) (ruleCatalog, error) {
	p, err := s.program.Get(ctx)
	if err != nil {
		return ruleCatalog{}, err
	}
	bs, err := s.engagement.Badges(ctx)
	if err != nil {
		return ruleCatalog{}, err
	}
	c := ruleCatalog{p: &p, badges: map[string]bool{}}
	for _, b := range bs {
		c.badges[b.ID.Hex()] = true
	}
	return c, nil
}

// CreateEarningRule saves a new active rule made by `by` (who, for the
// history: a member id or "api-key"). Errors: input errors naming the field.
func (s *Service) CreateEarningRule(ctx context.Context, by string, in rules.Input) (*rules.Rule, error) {
	cat, err := s.ruleCatalog(ctx)
	if err != nil {
		return nil, err
	}
	defer s.forgetRules()
	return s.rules.Create(ctx, by, in, cat)
}

// UpdateEarningRule replaces rule id with in as its next version (see rules.Store.Update).
func (s *Service) UpdateEarningRule(ctx context.Context, by string, id bson.ObjectID, expectedVersion *int64, in rules.Input) (*rules.Rule, error) {
	cat, err := s.ruleCatalog(ctx)
	if err != nil {
		return nil, err
	}
	defer s.forgetRules()
	return s.rules.Update(ctx, by, id, expectedVersion, in, cat)
}

// SetEarningRuleStatus pauses, resumes or archives rule id.
func (s *Service) SetEarningRuleStatus(ctx context.Context, by string, id bson.ObjectID, st rules.Status) (*rules.Rule, error) {
	defer s.forgetRules()
	return s.rules.SetStatus(ctx, by, id, st)
}

func (s *Service) forgetRules() {
	s.ruleSet.mu.Lock()
	s.ruleSet.set = nil
	s.ruleSet.mu.Unlock()
}

// activeRules is the active rule set over p's basis, read at most every ruleSetTTL.
func (s *Service) activeRules(ctx context.Context, p *program.Program) (*rules.Set, error) {
	basis := rules.BasisOf(p)
	c := &s.ruleSet
	c.mu.Lock()
	if c.set != nil && c.basis == basis && time.Since(c.read) < ruleSetTTL {
		set := c.set
		c.mu.Unlock()
		return set, nil
	}
	c.mu.Unlock()
	set, err := s.rules.Active(ctx, basis)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.set, c.read, c.basis = set, time.Now(), basis
	c.mu.Unlock()
	return set, nil
}

// ruleActivity is what the rules see of a.
func ruleActivity(a *Activity) rules.Activity {
	ra := rules.Activity{ID: a.ID.Hex(), Kind: a.Kind, AmountMinor: a.AmountMinor, OccurredAt: a.OccurredAt}
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
		snap.Purchase = n + 1
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
	set, err := s.activeRules(ctx, p)
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
		granted, err := s.rules.Grant(ctx, &l, a.MemberID.Hex(), a.ID.Hex(), a.OccurredAt, set.Basis.Location)
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

// Explanation is every active rule's answer for one activity
// (ExplainEarning).
type Explanation struct {
	Activity   *Activity
	SetVersion int64
	Snapshot   *rules.Snapshot
	Verdicts   []rules.Verdict
}

// ExplainEarning evaluates today's active rules on a recorded activity
// with the member snapshot recorded for it (or, for an activity recorded
// before any rule existed, the member as they are now), writing nothing.
// Errors: ErrActivityNotFound.
func (s *Service) ExplainEarning(ctx context.Context, activityID bson.ObjectID) (*Explanation, error) {
	a, err := s.acts.byID(ctx, activityID)
	if err != nil {
		return nil, err
	}
	p, err := s.program.Get(ctx)
	if err != nil {
		return nil, err
	}
	set, err := s.rules.Active(ctx, rules.BasisOf(&p))
	if err != nil {
		return nil, err
	}
	snap := a.RuleSnapshot
	if snap == nil {
		st, _, err := s.ledger.Head(ctx, a.MemberID)
		if err != nil {
			return nil, err
		}
		snap = &rules.Snapshot{Tier: st.Tier.Name}
		if snap.Badges, err = s.engagement.HeldBadges(ctx, a.MemberID); err != nil {
			return nil, err
		}
	}
	ra := ruleActivity(a)
	return &Explanation{Activity: a, SetVersion: set.Version, Snapshot: snap, Verdicts: set.Explain(&ra, snap)}, nil
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

// byWho names who made a change, for the rules' history.
func byWho(memberID string) string {
	if strings.TrimSpace(memberID) == "" {
		return "api-key"
	}
	return memberID
}
