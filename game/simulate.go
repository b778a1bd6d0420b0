package game

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/game/rules"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/input"
)

// SimulateRules queues a dry run of changes to the earning rules over the
// activities recorded in [from, to) (zero from: to less 90 days; zero to:
// now), for the background job (RunSimulations). The changes are
// validated now (fields "changes[i].rule.…"); nothing else is written.
// `by` is who asked: a member id (told by an inbox notification when it is
// done) or "api-key".
func (s *Service) SimulateRules(ctx context.Context, by string, changes []rules.Change, from, to time.Time) (*rules.Simulation, error) {
	now := s.now().UTC()
	if to.IsZero() {
		to = now
	}
	if from.IsZero() {
		from = to.Add(-rules.DefaultRange)
	}
	switch {
	case !to.After(from):
		return nil, input.Errorf("range.to", "must be after range.from")
	case to.Sub(from) > rules.MaxRangeDays*24*time.Hour:
		return nil, input.Errorf("range.from", "a dry run covers at most %d days", rules.MaxRangeDays)
	}
	cat, err := s.ruleCatalog(ctx)
	if err != nil {
		return nil, err
	}
	current, v, err := s.rules.ActiveRules(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := rules.Propose(current, changes, cat); err != nil {
		return nil, err
	}
	sim := &rules.Simulation{RequestedBy: by, Changes: changes, From: from.UTC(), To: to.UTC(), BaseSetVersion: v}
	if err := s.rules.Queue(ctx, sim); err != nil {
		return nil, err
	}
	s.kickJobs()
	return sim, nil
}

// simDeadline bounds one dry run's scan of its range.
const simDeadline = time.Hour

// simProgressEvery is how many activities a dry run replays between two
// progress records.
const simProgressEvery = 2000

// RunSimulations runs the queued dry runs, one after another, as runner
// (the background jobs, under their lease). Each replays its range's
// activities, by date, through today's rule set and the proposed one
// (rules.Replay), records progress as it goes and its result at the end,
// and tells the member who asked with an inbox notification (SYSTEM), which
// reaches their notifications subscription over the WebSocket. It writes
// nothing to any ledger and notifies no one else. It returns how many it
// finished.
func (s *Service) RunSimulations(ctx context.Context, runner string) (int, error) {
	done := 0
	for {
		sim, err := s.rules.NextQueued(ctx, runner)
		if err != nil || sim == nil {
			return done, err
		}
		res, base, runErr := s.replay(ctx, sim)
		if runErr != nil && ctx.Err() != nil {
			return done, runErr
		}
		if err := s.rules.Finish(ctx, sim.ID, res, base, runErr); err != nil {
			return done, err
		}
		done++
		if err := s.tellSimulated(ctx, sim, res, runErr); err != nil {
			return done, err
		}
	}
}

// Simulate runs a dry run at once, without the queue: the job's work, for
// tests and benchmarks.
func (s *Service) Simulate(ctx context.Context, sim *rules.Simulation) (*rules.Result, error) {
	res, _, err := s.replay(ctx, sim)
	return res, err
}

func (s *Service) replay(ctx context.Context, sim *rules.Simulation) (*rules.Result, int64, error) {
	p, err := s.program.Get(ctx)
	if err != nil {
		return nil, 0, err
	}
	cat, err := s.ruleCatalog(ctx)
	if err != nil {
		return nil, 0, err
	}
	current, v, err := s.rules.ActiveRules(ctx)
	if err != nil {
		return nil, 0, err
	}
	proposed, err := rules.Propose(current, sim.Changes, cat)
	if err != nil {
		return nil, 0, err
	}
	basis := rules.BasisOf(&p)
	r := rules.NewReplay(rules.NewSet(v, basis, current), rules.NewSet(v, basis, proposed))
	filter := bson.D{{Key: "occurredAt", Value: bson.D{{Key: "$gte", Value: sim.From}, {Key: "$lt", Value: sim.To}}},
		{Key: "kind", Value: bson.D{{Key: "$ne", Value: program.ActivityRefund}}}}
	// One scan of the range, sorted by date: on a database that sorts
	// without an index (the embedded one) the first batch waits for the
	// whole sort, longer than the usual per-operation deadline, so the
	// scan has a deadline of its own.
	ctx, cancel := context.WithTimeout(ctx, simDeadline)
	defer cancel()
	total, err := s.acts.c.CountDocuments(ctx, filter)
	if err != nil {
		return nil, 0, err
	}
	cur, err := s.acts.c.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "occurredAt", Value: 1}, {Key: "_id", Value: 1}}).SetHint(indexActivityDate).
		SetProjection(bson.D{{Key: "fingerprint", Value: 0}, {Key: "checkInDay", Value: 0}}).SetBatchSize(1000))
	if err != nil {
		return nil, 0, err
	}
	defer func() { _ = cur.Close(context.WithoutCancel(ctx)) }()
	// Activities recorded while no rule of their kind was active carry no
	// snapshot: their position and previous purchase are counted from the
	// range itself, and they show no tier and no badges.
	type seen struct {
		n    int64
		last *time.Time
	}
	members := map[bson.ObjectID]*seen{}
	var n int64
	for cur.Next(ctx) {
		var a Activity
		if err := cur.Decode(&a); err != nil {
			return nil, 0, err
		}
		m := members[a.MemberID]
		if m == nil {
			m = &seen{}
			members[a.MemberID] = m
		}
		x := rules.Recorded{Activity: ruleActivity(&a), MemberID: a.MemberID.Hex()}
		if a.RuleSnapshot != nil {
			x.Snapshot = *a.RuleSnapshot
		} else if a.Kind == program.ActivityPurchase {
			x.Snapshot = rules.Snapshot{Purchase: m.n + 1, LastPurchaseAt: m.last}
		} else {
			x.Snapshot = rules.Snapshot{LastPurchaseAt: m.last}
		}
		if a.Kind == program.ActivityPurchase {
			m.n++
			t := a.OccurredAt
			m.last = &t
		}
		r.Add(&x)
		if n++; n%simProgressEvery == 0 {
			if err := s.rules.Progress(ctx, sim.ID, n, total); err != nil {
				return nil, 0, err
			}
		}
	}
	if err := cur.Err(); err != nil {
		return nil, 0, err
	}
	res := r.Result(p.PointValueMinor*1000, p.Currency) // the value of 1,000 points
	return &res, v, nil
}

// tellSimulated sends the member who asked for a dry run an inbox
// notification that it is done (SYSTEM, keyed by the dry run).
func (s *Service) tellSimulated(ctx context.Context, sim *rules.Simulation, res *rules.Result, runErr error) error {
	to, err := bson.ObjectIDFromHex(sim.RequestedBy)
	if err != nil || s.notify == nil {
		return nil // the brand's backend asked: it reads the result
	}
	title, body := "Dry run finished", ""
	if runErr != nil || res == nil {
		title, body = "Dry run failed", "The dry run of your earning rule change could not finish; see its error."
	} else {
		body = fmt.Sprintf("%d activities replayed: %d points before, %d after, %d members affected.", res.Activities, res.Before, res.After, res.MembersAffected)
	}
	_, err = s.notify.Send(ctx, inbox.Message{MemberID: to, Kind: inbox.KindSystem, Title: title, Body: body, Key: "simulation:" + sim.ID.Hex()})
	if errors.Is(err, inbox.ErrMuted) {
		return nil
	}
	return err
}
