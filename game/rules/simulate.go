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
	MemberID string
	Snapshot Snapshot
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
// period; the budget). It writes nothing.
type Replay struct {
	before, after *Set
	lb, la        limitCount
	res           Result
	members       map[string]*Totals
	rules         map[string]*Totals
	tiers         map[string]*Totals
	buf1, buf2    []Line
}

// NewReplay compares before (today's set) with after (the proposed one).
func NewReplay(before, after *Set) *Replay {
	return &Replay{before: before, after: after, lb: newLimitCount(), la: newLimitCount(),
		members: map[string]*Totals{}, rules: map[string]*Totals{}, tiers: map[string]*Totals{}}
}

// limitCount is the limits' state in a dry run.
type limitCount struct {
	times map[string]int64
	spent map[bson.ObjectID]int64
}

func newLimitCount() limitCount {
	return limitCount{times: map[string]int64{}, spent: map[bson.ObjectID]int64{}}
}

// grant is Store.Grant without the database.
func (c limitCount) grant(l *Line, member string, at time.Time, loc *time.Location) int64 {
	if l.Limits == nil || (*l.Limits == Limits{}) {
		return l.Points
	}
	sc := scopes(l.Limits, l.RuleID.Hex(), member, at, loc)
	for _, s := range sc {
		if c.times[s.key] >= s.limit {
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
	for _, s := range sc {
		c.times[s.key]++
	}
	return g
}

// Add replays one activity through both sets.
func (r *Replay) Add(x *Recorded) {
	r.res.Activities++
	before, bl := r.run(r.before, r.lb, x, r.buf1[:0], func(t *Totals, p int64) { t.Before += p })
	after, al := r.run(r.after, r.la, x, r.buf2[:0], func(t *Totals, p int64) { t.After += p })
	r.buf1, r.buf2 = bl, al
	r.res.Before += before
	r.res.After += after
	tier := x.Snapshot.Tier
	if tier == "" {
		tier = "(unknown)"
	}
	t := r.total(r.tiers, tier)
	t.Before += before
	t.After += after
	if before == after {
		return
	}
	m := r.total(r.members, x.MemberID)
	m.Before += before
	m.After += after
	if len(r.res.Sample) < SampleSize {
		d := Diff{ActivityID: x.Activity.ID, MemberID: x.MemberID, Before: before, After: after}
		for _, l := range bl {
			d.BeforeLines = append(d.BeforeLines, lineWords(l))
		}
		for _, l := range al {
			d.AfterLines = append(d.AfterLines, lineWords(l))
		}
		r.res.Sample = append(r.res.Sample, d)
	}
}

func lineWords(l Line) string {
	return l.Rule + " v" + strconv.FormatInt(l.Version, 10) + ": " + strconv.FormatInt(l.Points, 10) + ": " + l.Reason
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
func (r *Replay) run(set *Set, c limitCount, x *Recorded, buf []Line, add func(*Totals, int64)) (int64, []Line) {
	buf = set.Evaluate(&x.Activity, &x.Snapshot, buf)
	var sum int64
	kept := buf[:0]
	for _, l := range buf {
		g := c.grant(&l, x.MemberID, x.Activity.OccurredAt, set.Basis.Location)
		if g <= 0 {
			continue
		}
		l.Points = g
		sum += g
		add(r.total(r.rules, l.Rule), g)
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
	top := sorted(r.members, func(a, b *Totals) int {
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
