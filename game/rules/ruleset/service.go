// Package ruleset keeps the brand's earning rules (the language is package
// rules): every version with who made it and when, the rule set's version
// counter and each instance's cache of the active set, the explanations of
// a recorded activity, and the rules' limits held under races by keyed
// inserts and single-document conditional updates. It owns the
// collections earning_rules, earning_rule_versions, earning_rule_set,
// earning_rule_claims, earning_rule_slots and earning_rule_budgets; dry
// runs go to package dryrun. Service is what package game calls; the
// activities are read through the History it declares.
package ruleset

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/game/rules"
	"github.com/regulars/regulars/game/rules/dryrun"
	"github.com/regulars/regulars/inbox"
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
	Explained(ctx context.Context, id bson.ObjectID) (*rules.Recorded, error)
	// The dry runs' scan of a range.
	dryrun.Activities
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
	dry   *dryrun.Runner
	deps  Deps
	cache ruleCache
}

// New returns the rules kept in db.
func New(db *mongo.Database, deps Deps) *Service {
	if deps.Kick == nil {
		deps.Kick = func() {}
	}
	s := &Service{store: NewStore(db, deps.Now), deps: deps}
	s.dry = dryrun.New(db, dryrun.Deps{Program: deps.Program, Rules: s, Activities: deps.History, Notify: deps.Notify, Kick: deps.Kick, Now: deps.Now})
	return s
}

// DryRuns queues and runs dry runs of changes to the brand's rules.
func (s *Service) DryRuns() *dryrun.Runner { return s.dry }

// RunSimulations runs the queued dry runs (dryrun.Runner.RunSimulations):
// the background jobs' work.
func (s *Service) RunSimulations(ctx context.Context, runner string) (int, error) {
	return s.dry.RunSimulations(ctx, runner)
}

// Store is the rules' storage: listing, history, budgets spent, dry runs.
func (s *Service) Store() *Store { return s.store }

// EnsureIndexes creates the indexes the rules' and the dry runs' queries
// rely on.
func (s *Service) EnsureIndexes(ctx context.Context) error {
	if err := s.store.EnsureIndexes(ctx); err != nil {
		return err
	}
	return s.dry.Store().EnsureIndexes(ctx)
}

// ActiveRules lists the active brand rules and the set's version (a dry
// run's starting point).
func (s *Service) ActiveRules(ctx context.Context) ([]*rules.Rule, int64, error) {
	return s.store.ActiveRules(ctx)
}

// setTTL is how long an instance evaluates a rule set it read before
// reading it again: a change made through this instance applies at once,
// one made through another within this time.
const setTTL = 2 * time.Second

// ruleCache holds the active brand set an instance read last, and the
// program's built-in set by program version.
type ruleCache struct {
	mu    sync.Mutex
	set   *rules.Set
	read  time.Time
	basis rules.Basis
	prog  *rules.Set
}

// catalog is what rule validation knows of the program: tiers and badges.
type catalog struct {
	p      *program.Program
	badges map[string]bool
}

func (c catalog) TierExists(name string) bool { _, ok := c.p.TierNamed(name); return ok }
func (c catalog) BadgeExists(id string) bool  { return c.badges[id] }

// Catalog is what rule validation knows of the current program: its
// tiers and badges.
func (s *Service) Catalog(ctx context.Context) (rules.Catalog, error) { return s.catalog(ctx) }

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
func (s *Service) Create(ctx context.Context, by string, in rules.Input) (*rules.Rule, error) {
	cat, err := s.catalog(ctx)
	if err != nil {
		return nil, err
	}
	defer s.forget()
	return s.store.Create(ctx, by, in, cat)
}

// Update replaces rule id with in as its next version (Store.Update).
// Built-in rules are changed with updateProgram, not here (ErrRuleNotFound).
func (s *Service) Update(ctx context.Context, by string, id bson.ObjectID, expectedVersion *int64, in rules.Input) (*rules.Rule, error) {
	cat, err := s.catalog(ctx)
	if err != nil {
		return nil, err
	}
	defer s.forget()
	return s.store.Update(ctx, by, id, expectedVersion, in, cat)
}

// SetStatus pauses, resumes or archives rule id.
func (s *Service) SetStatus(ctx context.Context, by string, id bson.ObjectID, st rules.Status) (*rules.Rule, error) {
	defer s.forget()
	return s.store.SetStatus(ctx, by, id, st)
}

// Get is rule id: a brand's rule, or a built-in one of the current program.
// Errors: ErrRuleNotFound.
func (s *Service) Get(ctx context.Context, id bson.ObjectID) (*rules.Rule, error) {
	r, err := s.store.Get(ctx, id)
	if !errors.Is(err, ErrRuleNotFound) {
		return r, err
	}
	p, perr := s.deps.Program.Get(ctx)
	if perr != nil {
		return nil, perr
	}
	for _, b := range rules.ProgramRules(&p) {
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
func (s *Service) Active(ctx context.Context, p *program.Program) (*rules.Set, error) {
	basis := rules.BasisOf(p)
	c := &s.cache
	c.mu.Lock()
	if c.set != nil && c.basis.Same(basis) && time.Since(c.read) < setTTL {
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
func (s *Service) Program(p *program.Program) *rules.Set {
	c := &s.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.prog == nil || c.prog.Version != p.Version || !c.prog.Basis.Same(rules.BasisOf(p)) || p.Version == 0 {
		c.prog = rules.ProgramSet(p)
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
	Snapshot       rules.Snapshot
	// Verdicts are the built-in rules triggered by the activity's kind,
	// then every active brand rule, each in evaluation order.
	Verdicts []rules.Verdict
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
	set, err := s.store.Active(ctx, rules.BasisOf(&p))
	if err != nil {
		return nil, err
	}
	ex := &Explanation{ActivityID: activityID, SetVersion: set.Version, ProgramVersion: p.Version, Snapshot: x.Snapshot}
	for _, v := range s.Program(&p).Explain(&x.Activity, &x.Snapshot) {
		if v.Rule.Name == rules.RuleBirthday && v.Applied && x.BirthdayPaidElsewhere {
			v.Applied, v.Points, v.Reason = false, 0, ""
			v.Failed = fmt.Sprintf("matched, but the birthday reward for %d was paid with another activity or the birthday campaign", x.Snapshot.BirthdayYear)
		}
		if v.Rule.Trigger == x.Activity.Kind {
			ex.Verdicts = append(ex.Verdicts, v)
		}
	}
	ex.Verdicts = append(ex.Verdicts, set.Explain(&x.Activity, &x.Snapshot)...)
	return ex, nil
}
