package rules

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/input"
)

// Programs is what the rules need of the program: its current version.
type Programs interface {
	Get(ctx context.Context) (program.Program, error)
}

// History is the recorded activities, which package game owns, as the
// explanations and the dry run read them.
type History interface {
	// Explained is one recorded activity with the member snapshot its
	// evaluation saw (or, recorded before any rule of its kind was
	// active, the member as they are now); an error the caller can show
	// (not found) when there is none.
	Explained(ctx context.Context, id bson.ObjectID) (*Recorded, error)
	// Scan calls fn with every activity of [from, to) but refunds, by
	// (occurredAt, id), each with its recorded snapshot when it has one
	// (Recorded.Snapshotted). x is reused between calls.
	Scan(ctx context.Context, from, to time.Time, fn func(x *Recorded) error) error
}

// Deps is what the rules service works with.
type Deps struct {
	Program Programs
	// Badges are the program's badges' ids (hex), for validation.
	Badges  func(ctx context.Context) (map[string]bool, error)
	History History
	// Notify tells the member who asked for a dry run that it is done; nil: no one.
	Notify interface {
		Send(ctx context.Context, m inbox.Message) (*inbox.Notification, error)
	}
	// Kick wakes the background jobs (a dry run was queued).
	Kick func()
	Now  func() time.Time
}

// Service is the earning rules: the brand's (stored, versioned) and the
// program's built-in ones (ProgramRules), one evaluation for both, the
// explanations and the dry runs. Package game calls it on its effects path.
type Service struct {
	store *Store
	deps  Deps
	cache ruleCache
}

// New returns the rules kept in db.
func New(db *mongo.Database, deps Deps) *Service {
	if deps.Kick == nil {
		deps.Kick = func() {}
	}
	return &Service{store: NewStore(db, deps.Now), deps: deps}
}

// Store is the rules' storage: listing, history, budgets spent, dry runs.
func (s *Service) Store() *Store { return s.store }

// EnsureIndexes creates the indexes the rules' queries rely on.
func (s *Service) EnsureIndexes(ctx context.Context) error { return s.store.EnsureIndexes(ctx) }

// setTTL is how long an instance evaluates a rule set it read before
// reading it again: a change made through this instance applies at once,
// one made through another within this time.
const setTTL = 2 * time.Second

// ruleCache holds the active brand set an instance read last, and the
// program's built-in set by program version.
type ruleCache struct {
	mu    sync.Mutex
	set   *Set
	read  time.Time
	basis Basis
	prog  *Set
}

// catalog is what rule validation knows of the program: tiers and badges.
type catalog struct {
	p      *program.Program
	badges map[string]bool
}

func (c catalog) TierExists(name string) bool { _, ok := c.p.TierNamed(name); return ok }
func (c catalog) BadgeExists(id string) bool  { return c.badges[id] }

func (s *Service) catalog(ctx context.Context) (catalog, error) {
	p, err := s.deps.Program.Get(ctx)
	if err != nil {
		return catalog{}, err
	}
	c := catalog{p: &p, badges: map[string]bool{}}
	if s.deps.Badges != nil {
		if c.badges, err = s.deps.Badges(ctx); err != nil {
			return catalog{}, err
		}
	}
	return c, nil
}

// Create saves a new active rule made by `by` (who, for the history: a
// member id or "api-key"). Errors: input errors naming the field.
func (s *Service) Create(ctx context.Context, by string, in Input) (*Rule, error) {
	cat, err := s.catalog(ctx)
	if err != nil {
		return nil, err
	}
	defer s.forget()
	return s.store.Create(ctx, by, in, cat)
}

// Update replaces rule id with in as its next version (Store.Update).
// Built-in rules are changed with updateProgram, not here (ErrRuleNotFound).
func (s *Service) Update(ctx context.Context, by string, id bson.ObjectID, expectedVersion *int64, in Input) (*Rule, error) {
	cat, err := s.catalog(ctx)
	if err != nil {
		return nil, err
	}
	defer s.forget()
	return s.store.Update(ctx, by, id, expectedVersion, in, cat)
}

// SetStatus pauses, resumes or archives rule id.
func (s *Service) SetStatus(ctx context.Context, by string, id bson.ObjectID, st Status) (*Rule, error) {
	defer s.forget()
	return s.store.SetStatus(ctx, by, id, st)
}

// Get is rule id: a brand's rule, or a built-in one of the current program.
// Errors: ErrRuleNotFound.
func (s *Service) Get(ctx context.Context, id bson.ObjectID) (*Rule, error) {
	r, err := s.store.Get(ctx, id)
	if !errors.Is(err, ErrRuleNotFound) {
		return r, err
	}
	p, perr := s.deps.Program.Get(ctx)
	if perr != nil {
		return nil, perr
	}
	for _, b := range ProgramRules(&p) {
		if b.ID == id {
			return b, nil
		}
	}
	return nil, err
}

func (s *Service) forget() {
	s.cache.mu.Lock()
	s.cache.set = nil
	s.cache.mu.Unlock()
}

// Active is the brand's active rule set over p's basis, read at most
// every setTTL per instance.
func (s *Service) Active(ctx context.Context, p *program.Program) (*Set, error) {
	basis := BasisOf(p)
	c := &s.cache
	c.mu.Lock()
	if c.set != nil && c.basis.same(basis) && time.Since(c.read) < setTTL {
		set := c.set
		c.mu.Unlock()
		return set, nil
	}
	c.mu.Unlock()
	set, err := s.store.Active(ctx, basis)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.set, c.read, c.basis = set, time.Now(), basis
	c.mu.Unlock()
	return set, nil
}

// Program is the built-in rule set of p (ProgramSet), made once per
// program version.
func (s *Service) Program(p *program.Program) *Set {
	c := &s.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.prog == nil || c.prog.Version != p.Version || !c.prog.Basis.same(BasisOf(p)) || p.Version == 0 {
		c.prog = ProgramSet(p)
	}
	return c.prog
}

// Explanation is every rule's answer for one activity (Explain).
type Explanation struct {
	ActivityID bson.ObjectID
	// SetVersion is the brand's rule set's version, ProgramVersion the
	// program's (its built-in rules).
	SetVersion     int64
	ProgramVersion int64
	Snapshot       Snapshot
	// Verdicts are the built-in rules triggered by the activity's kind,
	// then every active brand rule, each in evaluation order.
	Verdicts []Verdict
}

// Explain evaluates today's rules, built-in and the brand's, on a recorded
// activity with the member snapshot recorded for it, writing nothing.
// Errors: the history's not-found error.
func (s *Service) Explain(ctx context.Context, activityID bson.ObjectID) (*Explanation, error) {
	x, err := s.deps.History.Explained(ctx, activityID)
	if err != nil {
		return nil, err
	}
	p, err := s.deps.Program.Get(ctx)
	if err != nil {
		return nil, err
	}
	set, err := s.store.Active(ctx, BasisOf(&p))
	if err != nil {
		return nil, err
	}
	ex := &Explanation{ActivityID: activityID, SetVersion: set.Version, ProgramVersion: p.Version, Snapshot: x.Snapshot}
	for _, v := range s.Program(&p).Explain(&x.Activity, &x.Snapshot) {
		if v.Rule.Trigger == x.Activity.Kind {
			ex.Verdicts = append(ex.Verdicts, v)
		}
	}
	ex.Verdicts = append(ex.Verdicts, set.Explain(&x.Activity, &x.Snapshot)...)
	return ex, nil
}

// Simulate queues a dry run of changes to the brand's rules over the
// activities recorded in [from, to) (zero from: to less 90 days; zero to:
// now), for the background job (RunSimulations). The changes are
// validated now (fields "changes[i].rule.…"); nothing else is written.
// `by` is who asked: a member id (told by an inbox notification when it is
// done) or "api-key".
func (s *Service) Simulate(ctx context.Context, by string, changes []Change, from, to time.Time) (*Simulation, error) {
	now := s.deps.Now().UTC()
	if to.IsZero() {
		to = now
	}
	if from.IsZero() {
		from = to.Add(-DefaultRange)
	}
	switch {
	case !to.After(from):
		return nil, input.Errorf("range.to", "must be after range.from")
	case to.Sub(from) > MaxRangeDays*24*time.Hour:
		return nil, input.Errorf("range.from", "a dry run covers at most %d days", MaxRangeDays)
	}
	cat, err := s.catalog(ctx)
	if err != nil {
		return nil, err
	}
	current, v, err := s.store.ActiveRules(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := Propose(current, changes, cat); err != nil {
		return nil, err
	}
	sim := &Simulation{RequestedBy: by, Changes: changes, From: from.UTC(), To: to.UTC(), BaseSetVersion: v}
	if err := s.store.Queue(ctx, sim); err != nil {
		return nil, err
	}
	s.deps.Kick()
	return sim, nil
}

// simDeadline bounds one dry run's scan of its range.
const simDeadline = time.Hour

// simProgressEvery is how many activities a dry run replays between two
// progress records.
const simProgressEvery = 10_000

// RunSimulations runs the queued dry runs, one after another, as runner
// (the background jobs, under their lease). Each replays its range's
// activities, by date, through today's rules and the proposed ones
// (Replay), records progress as it goes and its result at the end, and
// tells the member who asked with an inbox notification (SYSTEM), which
// reaches their notifications subscription over the WebSocket. It writes
// nothing to any ledger and notifies no one else. It returns how many it
// finished.
func (s *Service) RunSimulations(ctx context.Context, runner string) (int, error) {
	done := 0
	for {
		sim, err := s.store.NextQueued(ctx, runner)
		if err != nil || sim == nil {
			return done, err
		}
		res, base, runErr := s.replay(ctx, sim)
		if runErr != nil && ctx.Err() != nil {
			return done, runErr
		}
		if err := s.store.Finish(ctx, sim.ID, res, base, runErr); err != nil {
			return done, err
		}
		done++
		if err := s.tellSimulated(ctx, sim, res, runErr); err != nil {
			return done, err
		}
	}
}

// RunNow runs a dry run at once, without the queue: the job's work, for
// tests and benchmarks.
func (s *Service) RunNow(ctx context.Context, sim *Simulation) (*Result, error) {
	res, _, err := s.replay(ctx, sim)
	return res, err
}

func (s *Service) replay(ctx context.Context, sim *Simulation) (*Result, int64, error) {
	p, err := s.deps.Program.Get(ctx)
	if err != nil {
		return nil, 0, err
	}
	cat, err := s.catalog(ctx)
	if err != nil {
		return nil, 0, err
	}
	current, v, err := s.store.ActiveRules(ctx)
	if err != nil {
		return nil, 0, err
	}
	proposed, err := Propose(current, sim.Changes, cat)
	if err != nil {
		return nil, 0, err
	}
	basis := BasisOf(&p)
	r := NewReplay(NewSet(v, basis, current), NewSet(v, basis, proposed))
	r.Program(s.Program(&p))
	// One scan of the range, sorted by date: on a database that sorts
	// without an index (the embedded one) the first batch waits for the
	// whole sort, longer than the usual per-operation deadline, so the
	// scan has a deadline of its own.
	ctx, cancel := context.WithTimeout(ctx, simDeadline)
	defer cancel()
	var n int64
	err = s.deps.History.Scan(ctx, sim.From, sim.To, func(x *Recorded) error {
		r.Add(x)
		if n++; n%simProgressEvery == 0 {
			return s.store.Progress(ctx, sim.ID, n, estimate(n, sim.From, sim.To, x.Activity.OccurredAt))
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	res := r.Result(p.PointValueMinor*1000, p.Currency) // the value of 1,000 points
	return &res, v, nil
}

// estimate is how many activities a dry run of [from, to) will replay,
// n of them replayed up to at: n scaled to the whole range. Counting the
// range instead would cost a second read of it where no index serves the
// count (the embedded database counts by reading every document).
func estimate(n int64, from, to, at time.Time) int64 {
	done := at.Sub(from)
	if done <= 0 {
		return n
	}
	return max(n, int64(float64(n)*float64(to.Sub(from))/float64(done)))
}

// tellSimulated sends the member who asked for a dry run an inbox
// notification that it is done (SYSTEM, keyed by the dry run).
func (s *Service) tellSimulated(ctx context.Context, sim *Simulation, res *Result, runErr error) error {
	to, err := bson.ObjectIDFromHex(sim.RequestedBy)
	if err != nil || s.deps.Notify == nil {
		return nil // the brand's backend asked: it reads the result
	}
	title, body := "Dry run finished", ""
	if runErr != nil || res == nil {
		title, body = "Dry run failed", "The dry run of your earning rule change could not finish; see its error."
	} else {
		body = fmt.Sprintf("%d activities replayed: %d points before, %d after, %d members affected.", res.Activities, res.Before, res.After, res.MembersAffected)
	}
	_, err = s.deps.Notify.Send(ctx, inbox.Message{MemberID: to, Kind: inbox.KindSystem, Title: title, Body: body, Key: "simulation:" + sim.ID.Hex()})
	if errors.Is(err, inbox.ErrMuted) {
		return nil
	}
	return err
}
