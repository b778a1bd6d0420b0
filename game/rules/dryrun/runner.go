package dryrun

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/game/rules"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/texts"
)

// Runner queues dry runs and runs them in the background jobs.
type Runner struct {
	store *Store
	deps  Deps
}

// Rules is what a dry run reads of the brand's rules (ruleset.Service).
type Rules interface {
	// ActiveRules are the active brand rules and the rule set's version.
	ActiveRules(ctx context.Context) ([]*rules.Rule, int64, error)
	// Catalog is what rule validation knows of the program.
	Catalog(ctx context.Context) (rules.Catalog, error)
	// Program is p's built-in rule set.
	Program(p *program.Program) *rules.Set
}

// Activities are the recorded activities, which package game owns.
type Activities interface {
	// Scan calls fn with every activity of [from, to) but refunds, by
	// (occurredAt, id), each with its recorded snapshot when it has one
	// (rules.Recorded.Snapshotted). x is reused between calls. It may
	// read the whole range before the first call (activity.Store.Scan
	// does, holding about 150 bytes an activity), telling read (if not
	// nil) how many it has read as it goes.
	Scan(ctx context.Context, from, to time.Time, read func(n int64) error, fn func(x *rules.Recorded) error) error
}

// Deps is what the dry runs work with.
type Deps struct {
	Program interface {
		Get(ctx context.Context) (program.Program, error)
	}
	Rules      Rules
	Activities Activities
	// Notify tells the member who asked for a dry run that it is done; nil: no one.
	Notify interface {
		Send(ctx context.Context, m inbox.Message) (*inbox.Notification, error)
	}
	// Kick wakes the background jobs (a dry run was queued); nil: none.
	Kick func()
	Now  func() time.Time
}

// New returns the dry runs kept in db.
func New(db *mongo.Database, deps Deps) *Runner {
	if deps.Kick == nil {
		deps.Kick = func() {}
	}
	return &Runner{store: NewStore(db, deps.Now), deps: deps}
}

// Store is the dry runs' storage: the queue, progress and results.
func (s *Runner) Store() *Store { return s.store }

// Simulate queues a dry run of changes to the brand's rules over the
// activities recorded in [from, to) (zero from: to less 90 days; zero to:
// now), for the background job (RunSimulations). The changes are
// validated now (fields "changes[i].rule.…"); nothing else is written.
// `by` is who asked: a member id (told by an inbox notification when it is
// done) or "api-key".
func (s *Runner) Simulate(ctx context.Context, by string, changes []Change, from, to time.Time) (*Simulation, error) {
	now := s.deps.Now().UTC()
	if to.IsZero() {
		to = now
	}
	if from.IsZero() {
		from = to.Add(-DefaultRange)
	}
	switch {
	case !to.After(from):
		return nil, input.Errorf("range.to", "must be after the start of the range")
	case to.Sub(from) > MaxRangeDays*24*time.Hour:
		return nil, input.Errorf("range.from", "a dry run covers at most %d days", MaxRangeDays)
	}
	cat, err := s.deps.Rules.Catalog(ctx)
	if err != nil {
		return nil, err
	}
	current, v, err := s.deps.Rules.ActiveRules(ctx)
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
func (s *Runner) RunSimulations(ctx context.Context, runner string) (int, error) {
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
func (s *Runner) RunNow(ctx context.Context, sim *Simulation) (*Result, error) {
	res, _, err := s.replay(ctx, sim)
	return res, err
}

func (s *Runner) replay(ctx context.Context, sim *Simulation) (*Result, int64, error) {
	p, err := s.deps.Program.Get(ctx)
	if err != nil {
		return nil, 0, err
	}
	cat, err := s.deps.Rules.Catalog(ctx)
	if err != nil {
		return nil, 0, err
	}
	current, v, err := s.deps.Rules.ActiveRules(ctx)
	if err != nil {
		return nil, 0, err
	}
	proposed, err := Propose(current, sim.Changes, cat)
	if err != nil {
		return nil, 0, err
	}
	basis := rules.BasisOf(&p)
	r := NewReplay(rules.NewSet(v, basis, current), rules.NewSet(v, basis, proposed))
	r.Program(s.deps.Rules.Program(&p))
	// One scan of the range, which reads it all and orders it by date
	// before the first activity is replayed (activity.Store.Scan): longer
	// than the usual per-operation deadline, so the scan has a deadline of
	// its own. Progress is recorded as the range is read (read), then as
	// it is replayed (processed of total).
	ctx, cancel := context.WithTimeout(ctx, simDeadline)
	defer cancel()
	var n int64
	reading := func(n int64) error { return s.store.Reading(ctx, sim.ID, n) }
	err = s.deps.Activities.Scan(ctx, sim.From, sim.To, reading, func(x *rules.Recorded) error {
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
func (s *Runner) tellSimulated(ctx context.Context, sim *Simulation, res *Result, runErr error) error {
	to, err := bson.ObjectIDFromHex(sim.RequestedBy)
	if err != nil || s.deps.Notify == nil {
		return nil // the brand's backend asked: it reads the result
	}
	m := inbox.Message{MemberID: to, Kind: inbox.KindSystem, Template: texts.DryRunFailed, Key: "simulation:" + sim.ID.Hex()}
	if runErr == nil && res != nil {
		m.Template = texts.DryRunFinished
		m.Data = map[string]any{"activities": res.Activities, "before": res.Before, "after": res.After, "members": res.MembersAffected}
	}
	// No locale: the notifier writes it in the requester's language
	// (theirs, else the program's).
	_, err = s.deps.Notify.Send(ctx, m)
	if errors.Is(err, inbox.ErrMuted) {
		return nil
	}
	return err
}
