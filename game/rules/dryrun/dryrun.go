// Package dryrun replays a range of recorded activities through today's
// earning rules and a proposed change of them (Propose, Replay), counting
// the rules' limits in memory, and keeps the dry runs queued for the
// background job and their results (collection rule_simulations). It
// writes no ledger entry and notifies no one but who asked.
package dryrun

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/game/rules"
	"github.com/regulars/regulars/input"
)

// Change is one proposed change of the rule set for a dry run: a new rule
// (RuleID zero, Rule set), an edited one (both set) or one taken out
// (RuleID set, Remove).
type Change struct {
	RuleID bson.ObjectID `bson:"ruleId,omitempty"`
	Rule   *rules.Input  `bson:"rule,omitempty"`
	Remove bool          `bson:"remove,omitempty"`
}

// Bounds of a dry run.
const (
	MaxChanges     = 50
	MaxRangeDays   = 366
	DefaultRange   = 90 * 24 * time.Hour
	SampleSize     = 20
	TopMembers     = 10
	MaxSimulations = 1_000_000
)

// Propose is the rule set that the changes make of current (its rules),
// each change validated (fields named "changes[i].rule.…"). Rules made by
// the changes are active and numbered one version above what they change.
func Propose(current []*rules.Rule, changes []Change, cat rules.Catalog) ([]*rules.Rule, error) {
	if len(changes) == 0 || len(changes) > MaxChanges {
		return nil, input.Errorf("changes", "give 1 to %d changes", MaxChanges)
	}
	out := slices.Clone(current)
	for i, ch := range changes {
		field := fmt.Sprintf("changes[%d]", i)
		at := -1
		if !ch.RuleID.IsZero() {
			at = slices.IndexFunc(out, func(r *rules.Rule) bool { return r.ID == ch.RuleID })
			if at < 0 {
				return nil, input.Errorf(field+".ruleId", "no active rule with this id")
			}
		}
		switch {
		case ch.Remove && ch.Rule != nil, !ch.Remove && ch.Rule == nil:
			return nil, input.Errorf(field, "give a rule, or remove: true with a ruleId")
		case ch.Remove && at < 0:
			return nil, input.Errorf(field+".ruleId", "name the rule to remove")
		case ch.Remove:
			out = slices.Delete(out, at, at+1)
			continue
		}
		in := *ch.Rule
		if err := in.Validate(cat); err != nil {
			if e, ok := input.As(err); ok {
				return nil, input.Wrap(field+".rule."+e.Field, errors.New(e.Message))
			}
			return nil, err
		}
		r := &rules.Rule{ID: bson.NewObjectID(), Version: 1, Status: rules.StatusActive}
		if at >= 0 {
			old := *out[at]
			r.ID, r.Version = old.ID, old.Version+1
		}
		r.Apply(in)
		if at >= 0 {
			out[at] = r
		} else {
			out = append(out, r)
		}
	}
	// Two exclusive rules at one priority would be refused when written.
	seen := map[int]bool{}
	for _, r := range out {
		if r.Exclusive && r.Status == rules.StatusActive {
			if seen[r.Priority] {
				return nil, input.Errorf("changes", "two exclusive rules would share priority %d", r.Priority)
			}
			seen[r.Priority] = true
		}
	}
	return out, nil
}

// Totals are points before (today's set) and after (the proposed one).
type Totals struct {
	Key    string `bson:"key"` // a rule's name, a tier, a member id
	Before int64  `bson:"before"`
	After  int64  `bson:"after"`
}

// Diff is one activity whose points the change moves, with both
// explanations.
type Diff struct {
	ActivityID string `bson:"activityId"`
	MemberID   string `bson:"memberId"`
	Before     int64  `bson:"before"`
	After      int64  `bson:"after"`
	// BeforeLines and AfterLines are the rule lines, "rule vN: points: reason".
	BeforeLines []string `bson:"beforeLines"`
	AfterLines  []string `bson:"afterLines"`
}

// Result is what a dry run found.
type Result struct {
	Activities      int64    `bson:"activities"`
	MembersAffected int64    `bson:"membersAffected"`
	Before          int64    `bson:"before"`
	After           int64    `bson:"after"`
	PerRule         []Totals `bson:"perRule"`
	PerTier         []Totals `bson:"perTier"`
	// TopMembers are the ten members whose points change most (by size).
	TopMembers []Totals `bson:"topMembers"`
	Sample     []Diff   `bson:"sample"`
	// LiabilityChangeMinor is After − Before at the program's point value,
	// in minor units of Currency.
	LiabilityChangeMinor int64  `bson:"liabilityChangeMinor"`
	Currency             string `bson:"currency"`
}

// Replay runs both rule sets over activities in the order given (by date),
// each with its recorded snapshot or, without one, a purchase's position
// and first purchase counted from the member's purchases of the range
// dated from their joining (Recorded.JoinedFrom, rules.Counted: the live
// path's rule), each rule's limits counted in memory from the start of
// the range as the live path counts them (times per member ever, per
// local day, per period; the budget), and the program's built-in rules
// (Program) on both sides alike. It writes nothing, and once its maps
// have seen the members, rules and tiers it allocates nothing per
// activity but the sample's words.
type Replay struct {
	before, after *rules.Set
	prog          *rules.Set
	lb, la        limitCount
	res           Result
	members       map[bson.ObjectID]*Totals
	rules         map[string]*Totals
	tiers         map[string]*Totals
	seen          map[bson.ObjectID]*seen
	birthdays     map[birthdayKey]struct{}
	buf0, buf1    []rules.Line
	buf2          []rules.Line
}

// seen is a member as the replay has seen them so far.
type seen struct {
	purchases int64
	last      time.Time
	seeded    bool // with the purchases before the range (Recorded.CountedBefore)
}

type birthdayKey struct {
	member bson.ObjectID
	year   int
}

// NewReplay compares before (today's set) with after (the proposed one).
func NewReplay(before, after *rules.Set) *Replay {
	return &Replay{before: before, after: after, lb: newLimitCount(), la: newLimitCount(),
		members: map[bson.ObjectID]*Totals{}, rules: map[string]*Totals{}, tiers: map[string]*Totals{},
		seen: map[bson.ObjectID]*seen{}, birthdays: map[birthdayKey]struct{}{}}
}

// Program adds the program's built-in rules (ProgramSet) to both sides.
func (r *Replay) Program(prog *rules.Set) { r.prog = prog }

// slotKey is a per-member limit's scope: the rule, the member, the kind of
// scope (ever, day, period) and its number.
type slotKey struct {
	rule, member bson.ObjectID
	kind         uint8
	n            int64
}

// limitCount is the limits' state in a dry run.
type limitCount struct {
	times map[slotKey]int64
	spent map[bson.ObjectID]int64
}

func newLimitCount() limitCount {
	return limitCount{times: map[slotKey]int64{}, spent: map[bson.ObjectID]int64{}}
}

// grant is Store.Grant without the database.
func (c limitCount) grant(l *rules.Line, member bson.ObjectID, at time.Time, loc *time.Location) int64 {
	if l.Limits == nil || (*l.Limits == rules.Limits{}) {
		return l.Points
	}
	var keys [3]slotKey
	var limits [3]int64
	n := 0
	if l.Limits.PerMember > 0 {
		keys[n], limits[n] = slotKey{rule: l.RuleID, member: member}, l.Limits.PerMember
		n++
	}
	if l.Limits.PerMemberPerDay > 0 || (l.Limits.PerMemberPerPeriod > 0 && l.Limits.PeriodDays > 0) {
		local := at.In(loc)
		day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC).Unix() / 86400
		if l.Limits.PerMemberPerDay > 0 {
			keys[n], limits[n] = slotKey{rule: l.RuleID, member: member, kind: 1, n: day}, l.Limits.PerMemberPerDay
			n++
		}
		if l.Limits.PerMemberPerPeriod > 0 && l.Limits.PeriodDays > 0 {
			keys[n], limits[n] = slotKey{rule: l.RuleID, member: member, kind: 2, n: day / l.Limits.PeriodDays}, l.Limits.PerMemberPerPeriod
			n++
		}
	}
	for i := range n {
		if c.times[keys[i]] >= limits[i] {
			return 0
		}
	}
	g := l.Points
	if b := l.Limits.BudgetPoints; b > 0 {
		g = min(g, b-c.spent[l.RuleID])
		if g <= 0 {
			return 0
		}
		c.spent[l.RuleID] += g
	}
	for i := range n {
		c.times[keys[i]]++
	}
	return g
}

// Add replays one activity through both sets.
func (r *Replay) Add(x *rules.Recorded) {
	r.res.Activities++
	m := r.seen[x.MemberID]
	if m == nil {
		m = &seen{}
		r.seen[x.MemberID] = m
	}
	if !m.seeded && !x.Snapshotted {
		// The member's purchases before the range, as the history read
		// them, unless a snapshotted purchase of the range counted them.
		if m.purchases == 0 {
			m.purchases = x.CountedBefore
		}
		if m.last.IsZero() {
			m.last = x.LastBefore
		}
		m.seeded = true
	}
	purchase := x.Activity.Kind == program.ActivityPurchase
	if !x.Snapshotted {
		x.Snapshot = rules.Snapshot{Tier: x.Tier, BirthdayYear: x.PaidBirthday}
		// As the live path counts them (accrual.Purchase): a purchase
		// dated before the member joined has no position and is not
		// their first.
		if purchase && rules.Counted(x.Activity.OccurredAt, x.JoinedFrom) {
			x.Snapshot.Purchase = m.purchases + 1
			x.Snapshot.First = m.purchases == 0
		}
		if !m.last.IsZero() {
			x.Snapshot.LastPurchaseAt = &m.last
		}
	}
	var common int64
	r.buf0 = r.buf0[:0]
	if r.prog != nil {
		r.buf0 = r.prog.Tally(&x.Activity, &x.Snapshot, r.buf0)
		kept := r.buf0[:0]
		for _, l := range r.buf0 {
			if l.Rule == rules.RuleBirthday {
				if x.BirthdayPaidElsewhere {
					continue // paid outside the range, or by the campaign
				}
				// Once a year, as the game keys it.
				k := birthdayKey{x.MemberID, x.Snapshot.BirthdayYear}
				if _, done := r.birthdays[k]; done {
					continue
				}
				r.birthdays[k] = struct{}{}
			}
			common += l.Points
			t := r.total(r.rules, l.Rule)
			t.Before += l.Points
			t.After += l.Points
			kept = append(kept, l)
		}
		r.buf0 = kept
	}
	before, bl := r.run(r.before, r.lb, x, r.buf1[:0], false)
	after, al := r.run(r.after, r.la, x, r.buf2[:0], true)
	r.buf1, r.buf2 = bl, al
	if purchase {
		if x.Snapshot.Purchase > 0 { // counted among the member's purchases
			m.purchases = max(m.purchases+1, x.Snapshot.Purchase)
		}
		m.last = x.Activity.OccurredAt
	}
	r.res.Before += common + before
	r.res.After += common + after
	tier := x.Snapshot.Tier
	if tier == "" {
		tier = "(unknown)"
	}
	t := r.total(r.tiers, tier)
	t.Before += common + before
	t.After += common + after
	if before == after {
		return
	}
	mt := r.members[x.MemberID]
	if mt == nil {
		mt = &Totals{Key: x.MemberID.Hex()}
		r.members[x.MemberID] = mt
	}
	mt.Before += before
	mt.After += after
	if len(r.res.Sample) < SampleSize {
		d := Diff{ActivityID: x.Activity.ID.Hex(), MemberID: x.MemberID.Hex(), Before: common + before, After: common + after}
		for _, l := range r.buf0 {
			d.BeforeLines = append(d.BeforeLines, lineWords(x, l))
			d.AfterLines = append(d.AfterLines, lineWords(x, l))
		}
		for _, l := range bl {
			d.BeforeLines = append(d.BeforeLines, lineWords(x, l))
		}
		for _, l := range al {
			d.AfterLines = append(d.AfterLines, lineWords(x, l))
		}
		r.res.Sample = append(r.res.Sample, d)
	}
}

func lineWords(x *rules.Recorded, l rules.Line) string { return l.Words(&x.Activity, &x.Snapshot) }

func (r *Replay) total(m map[string]*Totals, key string) *Totals {
	t, ok := m[key]
	if !ok {
		t = &Totals{Key: key}
		m[key] = t
	}
	return t
}

// run evaluates x with set and applies the limits; it returns the points
// granted and the lines (points as granted).
func (r *Replay) run(set *rules.Set, c limitCount, x *rules.Recorded, buf []rules.Line, after bool) (int64, []rules.Line) {
	buf = set.Tally(&x.Activity, &x.Snapshot, buf)
	var sum int64
	kept := buf[:0]
	for _, l := range buf {
		g := c.grant(&l, x.MemberID, x.Activity.OccurredAt, set.Basis.Location)
		if g <= 0 {
			continue
		}
		l.Points = g
		sum += g
		t := r.total(r.rules, l.Rule)
		if after {
			t.After += g
		} else {
			t.Before += g
		}
		kept = append(kept, l)
	}
	return sum, kept
}

// Result is the dry run's findings; pointValue is the minor units 1,000
// points are worth.
func (r *Replay) Result(pointValuePerThousand int64, currency string) Result {
	res := r.res
	res.MembersAffected = int64(len(r.members))
	res.PerRule = sorted(r.rules, func(a, b *Totals) int { return cmp.Compare(a.Key, b.Key) })
	res.PerTier = sorted(r.tiers, func(a, b *Totals) int { return cmp.Compare(a.Key, b.Key) })
	byMember := make(map[string]*Totals, len(r.members))
	for _, t := range r.members {
		byMember[t.Key] = t
	}
	top := sorted(byMember, func(a, b *Totals) int {
		if c := cmp.Compare(abs(b.After-b.Before), abs(a.After-a.Before)); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
	res.TopMembers = top[:min(len(top), TopMembers)]
	res.LiabilityChangeMinor = (res.After - res.Before) * pointValuePerThousand / 1000
	res.Currency = currency
	return res
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func sorted(m map[string]*Totals, by func(a, b *Totals) int) []Totals {
	ps := make([]*Totals, 0, len(m))
	for _, t := range m {
		ps = append(ps, t)
	}
	slices.SortFunc(ps, by)
	out := make([]Totals, len(ps))
	for i, p := range ps {
		out[i] = *p
	}
	return out
}
