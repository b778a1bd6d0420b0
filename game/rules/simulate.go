package rules

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/input"
)

// Change is one proposed change of the rule set for a dry run: a new rule
// (RuleID zero, Rule set), an edited one (both set) or one taken out
// (RuleID set, Remove).
type Change struct {
	RuleID bson.ObjectID `bson:"ruleId,omitempty"`
	Rule   *Input        `bson:"rule,omitempty"`
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
func Propose(current []*Rule, changes []Change, cat Catalog) ([]*Rule, error) {
	if len(changes) == 0 || len(changes) > MaxChanges {
		return nil, input.Errorf("changes", "give 1 to %d changes", MaxChanges)
	}
	out := slices.Clone(current)
	for i, ch := range changes {
		field := fmt.Sprintf("changes[%d]", i)
		at := -1
		if !ch.RuleID.IsZero() {
			at = slices.IndexFunc(out, func(r *Rule) bool { return r.ID == ch.RuleID })
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
		r := &Rule{ID: bson.NewObjectID(), Version: 1, Status: StatusActive}
		if at >= 0 {
			old := *out[at]
			r.ID, r.Version = old.ID, old.Version+1
		}
		r.apply(in)
		if at >= 0 {
			out[at] = r
		} else {
			out = append(out, r)
		}
	}
	// Two exclusive rules at one priority would be refused when written.
	seen := map[int]bool{}
	for _, r := range out {
		if r.Exclusive && r.Status == StatusActive {
			if seen[r.Priority] {
				return nil, input.Errorf("changes", "two exclusive rules would share priority %d", r.Priority)
			}
			seen[r.Priority] = true
		}
	}
	return out, nil
}

// Recorded is one recorded activity as the dry run replays it.
type Recorded struct {
	Activity Activity
	MemberID bson.ObjectID
	Snapshot Snapshot
	// Snapshotted: Snapshot is the one recorded when the activity was
	// awarded. Without it the replay fills the position, first purchase
	// and previous purchase from the range itself (no tier, no badges,
	// no birthday).
	Snapshotted bool
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
// each rule's limits counted in memory from the start of the range as
// the live path counts them (times per member ever, per local day, per
// period; the budget), and the program's built-in rules (Program) on both
// sides alike. It writes nothing, and once its maps have seen the
// members, rules and tiers it allocates nothing per activity but the
// sample's words.
type Replay struct {
	before, after *Set
	prog          *Set
	lb, la        limitCount
	res           Result
	members       map[bson.ObjectID]*Totals
	rules         map[string]*Totals
	tiers         map[string]*Totals
	seen          map[bson.ObjectID]*seen
	birthdays     map[birthdayKey]struct{}
	buf0, buf1    []Line
	buf2          []Line
}

// seen is a member as the replay has seen them so far.
type seen struct {
	purchases int64
	last      time.Time
}

type birthdayKey struct {
	member bson.ObjectID
	year   int
}

// NewReplay compares before (today's set) with after (the proposed one).
func NewReplay(before, after *Set) *Replay {
	return &Replay{before: before, after: after, lb: newLimitCount(), la: newLimitCount(),
		members: map[bson.ObjectID]*Totals{}, rules: map[string]*Totals{}, tiers: map[string]*Totals{},
		seen: map[bson.ObjectID]*seen{}, birthdays: map[birthdayKey]struct{}{}}
}

// Program adds the program's built-in rules (ProgramSet) to both sides.
func (r *Replay) Program(prog *Set) { r.prog = prog }

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
func (c limitCount) grant(l *Line, member bson.ObjectID, at time.Time, loc *time.Location) int64 {
	if l.Limits == nil || (*l.Limits == Limits{}) {
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
func (r *Replay) Add(x *Recorded) {
	r.res.Activities++
	m := r.seen[x.MemberID]
	if m == nil {
		m = &seen{}
		r.seen[x.MemberID] = m
	}
	purchase := x.Activity.Kind == program.ActivityPurchase
	if !x.Snapshotted {
		x.Snapshot = Snapshot{}
		if purchase {
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
		r.buf0 = r.prog.evaluate(&x.Activity, &x.Snapshot, r.buf0, false)
		kept := r.buf0[:0]
		for _, l := range r.buf0 {
			if l.Rule == RuleBirthday {
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
		m.purchases++
		if x.Snapshot.Purchase > m.purchases {
			m.purchases = x.Snapshot.Purchase
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

func lineWords(x *Recorded, l Line) string {
	reason := l.Reason
	if reason == "" && l.rule != nil {
		reason = (*Set)(nil).reason(l.rule, &x.Activity, &x.Snapshot, l.sc, l.Points)
	}
	return l.Rule + " v" + strconv.FormatInt(l.Version, 10) + ": " + strconv.FormatInt(l.Points, 10) + ": " + reason
}

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
func (r *Replay) run(set *Set, c limitCount, x *Recorded, buf []Line, after bool) (int64, []Line) {
	buf = set.evaluate(&x.Activity, &x.Snapshot, buf, false)
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

// SimStatus is where a dry run is.
type SimStatus string

const (
	SimQueued  SimStatus = "QUEUED"
	SimRunning SimStatus = "RUNNING"
	SimDone    SimStatus = "DONE"
	SimFailed  SimStatus = "FAILED"
)

// Simulation is one dry run, kept with its result.
type Simulation struct {
	ID          bson.ObjectID `bson:"_id"`
	Status      SimStatus     `bson:"status"`
	RequestedBy string        `bson:"requestedBy"`
	Changes     []Change      `bson:"changes"`
	From        time.Time     `bson:"from"`
	To          time.Time     `bson:"to"`
	// BaseSetVersion is today's rule set version it compared with; the
	// proposed set is today's with Changes.
	BaseSetVersion int64      `bson:"baseSetVersion"`
	Processed      int64      `bson:"processed"`
	Total          int64      `bson:"total"`
	Result         *Result    `bson:"result,omitempty"`
	Error          string     `bson:"error,omitempty"`
	CreatedAt      time.Time  `bson:"createdAt"`
	FinishedAt     *time.Time `bson:"finishedAt,omitempty"`
	// Epoch fences the job instance that runs it.
	Runner string `bson:"runner,omitempty"`
}

var ErrSimulationNotFound = fault.New(fault.NotFound, "simulation not found")

// Queue stores a dry run for the background job.
func (s *Store) Queue(ctx context.Context, sim *Simulation) error {
	sim.ID, sim.Status, sim.CreatedAt = bson.NewObjectID(), SimQueued, s.now()
	_, err := s.sims.InsertOne(ctx, sim)
	return err
}

// Simulation returns dry run id.
func (s *Store) Simulation(ctx context.Context, id bson.ObjectID) (*Simulation, error) {
	var sim Simulation
	err := s.sims.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&sim)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrSimulationNotFound
	}
	return &sim, err
}

// Simulations pages the dry runs newest first, before the id before (zero:
// from the newest).
func (s *Store) Simulations(ctx context.Context, before bson.ObjectID, limit int) ([]*Simulation, bool, error) {
	filter := bson.D{}
	if !before.IsZero() {
		filter = bson.D{{Key: "_id", Value: bson.D{{Key: "$lt", Value: before}}}}
	}
	cur, err := s.sims.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}).SetLimit(int64(limit+1)))
	if err != nil {
		return nil, false, err
	}
	var out []*Simulation
	if err := cur.All(ctx, &out); err != nil {
		return nil, false, err
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// NextQueued claims the oldest queued dry run for runner (one
// conditional update: of two instances one gets it), or one left running
// by another runner: the jobs run under one lease, so its runner lost the
// lease (a dry run is a pure computation: running it again is harmless).
// Nil when there is none.
func (s *Store) NextQueued(ctx context.Context, runner string) (*Simulation, error) {
	var sim Simulation
	err := s.sims.FindOneAndUpdate(ctx, bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "status", Value: SimQueued}},
		bson.D{{Key: "status", Value: SimRunning}, {Key: "runner", Value: bson.D{{Key: "$ne", Value: runner}}}},
	}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: SimRunning}, {Key: "runner", Value: runner}}}},
		options.FindOneAndUpdate().SetSort(bson.D{{Key: "_id", Value: 1}}).SetReturnDocument(options.After)).Decode(&sim)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	return &sim, err
}

// Progress records how far a running dry run is.
func (s *Store) Progress(ctx context.Context, id bson.ObjectID, processed, total int64) error {
	_, err := s.sims.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "status", Value: SimRunning}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "processed", Value: processed}, {Key: "total", Value: total}}}})
	return err
}

// Finish records a dry run's result, or its failure.
func (s *Store) Finish(ctx context.Context, id bson.ObjectID, res *Result, baseVersion int64, failure error) error {
	now := s.now()
	set := bson.D{{Key: "status", Value: SimDone}, {Key: "finishedAt", Value: now}, {Key: "baseSetVersion", Value: baseVersion}}
	if res != nil {
		set = append(set, bson.E{Key: "result", Value: res}, bson.E{Key: "processed", Value: res.Activities}, bson.E{Key: "total", Value: res.Activities})
	}
	if failure != nil {
		set[0].Value = SimFailed
		set = append(set, bson.E{Key: "error", Value: failure.Error()})
	}
	_, err := s.sims.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: set}})
	return err
}

// ActiveRules lists the active rules (a dry run's starting point).
func (s *Store) ActiveRules(ctx context.Context) ([]*Rule, int64, error) {
	v, err := s.SetVersion(ctx)
	if err != nil {
		return nil, 0, err
	}
	cur, err := s.rules.Find(ctx, bson.D{{Key: "status", Value: StatusActive}})
	if err != nil {
		return nil, 0, err
	}
	var rs []*Rule
	return rs, v, cur.All(ctx, &rs)
}
