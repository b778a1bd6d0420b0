package rules

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/program"
)

// Item is a line item of an activity: Quantity units at PriceMinor each.
type Item struct {
	SKU        string
	Category   string
	Quantity   int64
	PriceMinor int64
}

// Activity is what a rule sees of an activity.
type Activity struct {
	ID          bson.ObjectID
	ExternalID  string
	Kind        program.ActivityKind
	AmountMinor int64
	OccurredAt  time.Time
	Items       []Item
}

// Snapshot is the member as the rules see them when the activity is
// awarded. The game records it on the activity, so an explanation or a dry
// run later sees exactly what the evaluation saw.
type Snapshot struct {
	Tier string `bson:"tier"`
	// Badges are the ids (hex) of the badges the member holds a level of.
	Badges []string `bson:"badges,omitempty"`
	// Purchase is the purchase's position by date (1: the first); 0 when
	// it has none (not a purchase, or dated before the member joined).
	Purchase int64 `bson:"purchase,omitempty"`
	// LastPurchaseAt is the member's previous purchase by date; nil: none.
	LastPurchaseAt *time.Time `bson:"lastPurchaseAt,omitempty"`
	// First: this purchase is the first the member is awarded (the
	// first-purchase bonus's test, whatever its date).
	First bool `bson:"first,omitempty"`
	// BirthdayYear is the year of the member's birthday month the
	// activity was recorded in (their timezone); 0: not their birthday month.
	BirthdayYear int `bson:"birthdayYear,omitempty"`
}

// Basis is what of the program the evaluation uses: base points per
// currency unit (for multipliers), the currency's minor units per major
// unit and the program's timezone (rules without their own).
type Basis struct {
	PointsPerUnit int64
	MinorPerUnit  int64
	Location      *time.Location
}

// Same compares bases by their zone's name: the program loads its
// location afresh on every read, a new pointer each time.
func (b Basis) Same(o Basis) bool {
	return b.PointsPerUnit == o.PointsPerUnit && b.MinorPerUnit == o.MinorPerUnit && b.Location.String() == o.Location.String()
}

// BasisOf is the basis of program p.
func BasisOf(p *program.Program) Basis {
	return Basis{PointsPerUnit: p.PointsPerUnit, MinorPerUnit: program.MinorPerUnit(p.Currency), Location: p.Location()}
}

// Set is the active rules at one version of the rule set, sorted as they
// are evaluated: priority, highest first, then name.
type Set struct {
	Version int64
	Basis   Basis
	rules   []compiled
}

type compiled struct {
	*Rule
	loc *time.Location
	// why is the conditions in words, made once for the reasons.
	why string
}

// NewSet makes the set of the active rules among rs.
func NewSet(version int64, basis Basis, rs []*Rule) *Set {
	s := &Set{Version: version, Basis: basis}
	if s.Basis.MinorPerUnit == 0 {
		s.Basis.MinorPerUnit = 100
	}
	if s.Basis.Location == nil {
		s.Basis.Location = time.UTC
	}
	for _, r := range rs {
		if r.Status != StatusActive {
			continue
		}
		c := compiled{Rule: r, loc: s.Basis.Location, why: conditionsInWords(r)}
		if r.Timezone != "" {
			if loc, err := time.LoadLocation(r.Timezone); err == nil {
				c.loc = loc
			}
		}
		s.rules = append(s.rules, c)
	}
	slices.SortStableFunc(s.rules, func(a, b compiled) int {
		if c := cmp.Compare(b.Priority, a.Priority); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return cmp.Compare(a.ID.Hex(), b.ID.Hex())
	})
	return s
}

// Empty reports whether no rule of the set is triggered by kind.
func (s *Set) Empty(kind program.ActivityKind) bool {
	for i := range s.rules {
		if s.rules[i].Trigger == kind {
			return false
		}
	}
	return true
}

// Rules are the set's rules in evaluation order.
func (s *Set) Rules() []*Rule {
	out := make([]*Rule, len(s.rules))
	for i, c := range s.rules {
		out[i] = c.Rule
	}
	return out
}

// Line is what one rule earned on an activity: a ledger line naming the
// rule and its version, and why in words.
type Line struct {
	RuleID  bson.ObjectID
	Rule    string
	Version int64
	Points  int64
	Reason  string
	// Effect carries the rule's own expiry and pending period.
	Effect *Effect
	// Limits are the rule's, which the game enforces after evaluation.
	Limits *Limits
	// Priority and Exclusive as evaluated.
	Priority int
	// BuiltIn: a rule of the program's own fields (ProgramRules).
	BuiltIn bool

	// rule and sc let the dry run put a line into words only when it
	// shows it (Set.Tally, then Line.Words).
	rule *compiled
	sc   scope
}

// Evaluate appends to out the lines the set's rules earn on a for a member
// in snap, in evaluation order, and returns it. It is a pure function of
// (set, a, snap): limits and budgets are applied afterwards by the caller
// (Limiter, or the dry run's own count). A rule's points are capped at
// program.MaxPoints (built-in rules are bounded by the program's own
// validation instead). Allocation: only the matched rules' reasons.
func (s *Set) Evaluate(a *Activity, snap *Snapshot, out []Line) []Line {
	return s.evaluate(a, snap, out, true)
}

// Tally is Evaluate without the lines' reasons: it allocates nothing once
// out has room (the dry run's hot path); Line.Words puts a line into
// words when it is shown.
func (s *Set) Tally(a *Activity, snap *Snapshot, out []Line) []Line {
	return s.evaluate(a, snap, out, false)
}

// Words is l as "rule vN: points: reason", its reason worded now when
// Tally left it out.
func (l Line) Words(a *Activity, snap *Snapshot) string {
	reason := l.Reason
	if reason == "" && l.rule != nil {
		reason = (*Set)(nil).reason(l.rule, a, snap, l.sc, l.Points)
	}
	return l.Rule + " v" + strconv.FormatInt(l.Version, 10) + ": " + strconv.FormatInt(l.Points, 10) + ": " + reason
}

// evaluate is Evaluate; without reasons it allocates nothing once out
// has room (the dry run's hot path).
func (s *Set) evaluate(a *Activity, snap *Snapshot, out []Line, reasons bool) []Line {
	applied := false
	for i := range s.rules {
		r := &s.rules[i]
		if r.Trigger != a.Kind {
			continue
		}
		ok, _, scope := s.check(r, a, snap)
		if !ok {
			continue
		}
		if r.Exclusive && applied {
			continue
		}
		pts := s.points(r, a, scope)
		if pts <= 0 {
			continue
		}
		l := Line{RuleID: r.ID, Rule: r.Name, Version: r.Version, Points: pts,
			Effect: &r.Effect, Limits: &r.Limits, Priority: r.Priority, BuiltIn: r.BuiltIn, rule: r, sc: scope}
		if reasons {
			l.Reason = s.reason(r, a, snap, scope, pts)
		}
		out = append(out, l)
		applied = true
		if r.Exclusive {
			break
		}
	}
	return out
}

// Verdict is one active rule's answer for an activity (explainEarning).
type Verdict struct {
	Rule *Rule
	// Matched: every condition held (any, for ANY).
	Matched bool
	// Applied: it matched and earned points (before limits).
	Applied bool
	// Failed is the first condition that did not hold, in words; for a
	// matched rule that did not apply, why not.
	Failed string
	Points int64
	Reason string
}

// Explain answers, for every rule of the set in evaluation order, whether
// it matched a and the first condition that failed.
func (s *Set) Explain(a *Activity, snap *Snapshot) []Verdict {
	var out []Verdict
	applied, stopped := false, false
	for i := range s.rules {
		r := &s.rules[i]
		v := Verdict{Rule: r.Rule}
		if r.Trigger != a.Kind {
			v.Failed = fmt.Sprintf("triggered by %s, not %s", r.Trigger, a.Kind)
			out = append(out, v)
			continue
		}
		ok, failed, scope := s.check(r, a, snap)
		v.Matched = ok
		switch {
		case !ok:
			v.Failed = failure(r.Rule, failed)
		case stopped:
			v.Failed = "an exclusive rule of higher priority applied"
		case r.Exclusive && applied:
			v.Failed = "exclusive, and a rule of higher priority applied"
		default:
			if v.Points = s.points(r, a, scope); v.Points > 0 {
				v.Applied, v.Reason = true, s.reason(r, a, snap, scope, v.Points)
				applied = true
				stopped = r.Exclusive
			} else {
				v.Failed = "matched, but earns nothing on this activity"
			}
		}
		out = append(out, v)
	}
	return out
}

// scope is what of the activity a rule's effect counts: the basket, or the
// items its item condition matched.
type scope struct {
	amountMinor int64
	quantity    int64
	items       bool
}

// Reasons check gives for a rule that does not match (else the index of
// the first failing condition).
const (
	failBefore = -1 - iota
	failAfter
	failNone // ANY: none held
)

// check tests r's window and conditions; failed is the first that did not
// hold (a condition's index, or one of failBefore…), described by failure.
// It allocates nothing.
func (s *Set) check(r *compiled, a *Activity, snap *Snapshot) (bool, int, scope) {
	sc := scope{amountMinor: a.AmountMinor}
	for _, it := range a.Items {
		sc.quantity += it.Quantity
	}
	if r.StartsAt != nil && a.OccurredAt.Before(*r.StartsAt) {
		return false, failBefore, sc
	}
	if r.EndsAt != nil && !a.OccurredAt.Before(*r.EndsAt) {
		return false, failAfter, sc
	}
	any := r.Match == MatchAny
	for i := range r.Conditions {
		ok := s.holds(r, &r.Conditions[i], a, snap, &sc)
		switch {
		case ok && any:
			return true, 0, sc
		case !ok && !any:
			return false, i, sc
		}
	}
	if any && len(r.Conditions) > 0 {
		return false, failNone, sc
	}
	return true, 0, sc
}

// failure says in words why check refused r.
func failure(r *Rule, failed int) string {
	switch failed {
	case failBefore:
		return "before the rule starts (" + r.StartsAt.UTC().Format(time.RFC3339) + ")"
	case failAfter:
		return "after the rule ends (" + r.EndsAt.UTC().Format(time.RFC3339) + ")"
	case failNone:
		return "none of the conditions held (the first: " + r.Conditions[0].describe() + ")"
	}
	return "not " + r.Conditions[failed].describe()
}

func (s *Set) holds(r *compiled, c *Condition, a *Activity, snap *Snapshot, sc *scope) bool {
	switch {
	case c.BasketTotalAtLeast != nil:
		return a.AmountMinor >= *c.BasketTotalAtLeast
	case c.Items != nil:
		var amount, qty int64
		for i := range a.Items {
			it := &a.Items[i]
			if slices.Contains(c.Items.SKUs, it.SKU) || (it.Category != "" && slices.Contains(c.Items.Categories, it.Category)) {
				amount += it.PriceMinor * it.Quantity
				qty += it.Quantity
			}
		}
		if qty < c.Items.MinQuantity {
			return false
		}
		*sc = scope{amountMinor: amount, quantity: qty, items: true}
		return true
	case c.NthPurchase != nil:
		return snap.Purchase == *c.NthPurchase
	case c.Tiers != nil:
		for _, t := range c.Tiers {
			if strings.EqualFold(t, snap.Tier) {
				return true
			}
		}
		return false
	case c.BadgeHeld != "":
		return slices.Contains(snap.Badges, c.BadgeHeld)
	case c.DaysSinceLastPurchaseAtLeast != nil:
		return snap.LastPurchaseAt == nil || a.OccurredAt.Sub(*snap.LastPurchaseAt) >= time.Duration(*c.DaysSinceLastPurchaseAtLeast)*24*time.Hour
	case c.DaysOfWeek != nil:
		d := a.OccurredAt.In(r.loc).Weekday()
		for _, w := range c.DaysOfWeek {
			if weekdays[w] == d {
				return true
			}
		}
		return false
	case c.Hours != nil:
		h := int64(a.OccurredAt.In(r.loc).Hour())
		if c.Hours.From < c.Hours.To {
			return h >= c.Hours.From && h < c.Hours.To
		}
		return h >= c.Hours.From || h < c.Hours.To
	case c.FirstPurchase:
		return snap.First
	case c.Birthday:
		return snap.BirthdayYear != 0
	}
	return false
}

// points is what r's effect earns on the scope, at most program.MaxPoints.
func (s *Set) points(r *compiled, a *Activity, sc scope) int64 {
	e := &r.Effect
	unit := s.Basis.MinorPerUnit
	pts := sc.amountMinor*e.PointsPerUnit/unit + e.FixedPoints + sc.quantity*e.PointsPerItem
	if e.MultiplierPercent > 100 {
		base := sc.amountMinor * s.Basis.PointsPerUnit / unit
		pts += base * (e.MultiplierPercent - 100) / 100
	}
	if r.BuiltIn {
		return pts
	}
	return min(pts, program.MaxPoints)
}

// reason says in words why r earned pts.
func (s *Set) reason(r *compiled, a *Activity, snap *Snapshot, sc scope, pts int64) string {
	if r.say != nil {
		return r.say(a, snap, sc, pts)
	}
	e := &r.Effect
	var parts []string
	on := "the basket"
	if sc.items {
		on = fmt.Sprintf("%d matching item(s)", sc.quantity)
	}
	if e.MultiplierPercent > 100 {
		parts = append(parts, fmt.Sprintf("%s× base points on %s", percentTimes(e.MultiplierPercent), on))
	}
	if e.PointsPerUnit > 0 {
		parts = append(parts, fmt.Sprintf("%d points per currency unit on %s", e.PointsPerUnit, on))
	}
	if e.PointsPerItem > 0 {
		parts = append(parts, fmt.Sprintf("%d points per item × %d", e.PointsPerItem, sc.quantity))
	}
	if e.FixedPoints > 0 {
		parts = append(parts, fmt.Sprintf("%d bonus points", e.FixedPoints))
	}
	return r.Name + ": " + strings.Join(parts, " + ") + r.why
}

// conditionsInWords is " (cond and cond…)", or "" for none.
func conditionsInWords(r *Rule) string {
	n := len(r.Conditions)
	if n == 0 {
		return ""
	}
	ds := make([]string, n)
	for i := range r.Conditions {
		ds[i] = r.Conditions[i].describe()
	}
	sep := " and "
	if r.Match == MatchAny {
		sep = " or "
	}
	return " (" + strings.Join(ds, sep) + ")"
}

func percentTimes(p int64) string {
	if p%100 == 0 {
		return fmt.Sprint(p / 100)
	}
	return fmt.Sprintf("%d.%02d", p/100, p%100)
}

// Recorded is one recorded activity as the dry run replays it.
type Recorded struct {
	Activity Activity
	MemberID bson.ObjectID
	Snapshot Snapshot
	// Snapshotted: Snapshot is the one recorded when the activity was
	// awarded. Without it the replay fills the position, first purchase
	// and previous purchase from the range itself, counting only the
	// purchases dated from JoinedFrom, takes the tier from Tier (no
	// badges, no birthday).
	Snapshotted bool
	// Tier is, without a snapshot, the tier recorded on the activity
	// (a purchase's: the one its own entry was evaluated in); empty for
	// activities recorded before purchases kept it, which the replay
	// sees in no tier.
	Tier string
	// CountedBefore and LastBefore are, without a snapshot, the member's
	// purchases dated before the range that count (from JoinedFrom) and
	// the date of their last purchase before it (zero: none): where the
	// replay's positions, first purchase and previous purchase start.
	CountedBefore int64
	LastBefore    time.Time
	// PaidBirthday is, without a snapshot, the year of the birthday reward
	// the ledger paid with this activity, 0 for none: the replay pays it
	// there (Snapshot.BirthdayYear).
	PaidBirthday int
	// BirthdayPaidElsewhere: the birthday reward of Snapshot.BirthdayYear
	// was paid with something else (another activity, or the birthday
	// campaign), so this activity earns none, though in the birthday month.
	BirthdayPaidElsewhere bool
	// JoinedFrom is when the member's purchases start to count
	// (JoinedFrom of their join date); zero: from any date. Read for
	// activities without a snapshot.
	JoinedFrom time.Time
}

// JoinSkew is how long before joining a purchase may be dated and still
// count as the member's: one at the till a moment before signing up.
const JoinSkew = 5 * time.Minute

// JoinedFrom is when the purchases of a member who joined at joined start
// to count toward their positions (escalation, nthPurchase) and their
// first purchase: joined less JoinSkew. Zero joined (not known): always.
func JoinedFrom(joined time.Time) time.Time {
	if joined.IsZero() {
		return joined
	}
	return joined.Add(-JoinSkew)
}

// Counted reports whether a purchase dated at counts among the member's
// purchases, which count from `from` (JoinedFrom). One that does not (a
// purchase imported with a date before the member joined) earns the base
// rate and the tier multiplier only: it has no position (Snapshot.Purchase
// 0), is not their first, and does not move the positions of the others.
func Counted(at, from time.Time) bool { return !at.Before(from) }
