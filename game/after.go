package game

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// afterAnswerLimit is how many activities' effects may run after their
// answer at once on one instance; past it a request carries out its own
// before answering, so a burst slows its senders instead of piling up
// work nobody waits for. Each run is a dozen quick commands: on MongoDB
// 8 at once carry hundreds of purchases a second per instance, and on the
// embedded database (one connection) more would only queue for it.
const afterAnswerLimit = 8

// afterAnswerRetries are the pauses before each new attempt at effects
// that failed after their answer; within afterAnswerTimeout.
var afterAnswerRetries = []time.Duration{250 * time.Millisecond, time.Second, 4 * time.Second}

// sleep waits d or until ctx ends, reporting whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// afterAnswerTimeout bounds the effects of one activity run after its
// answer. What it cuts stays pending and Jobs.ResumeEffects finishes it.
const afterAnswerTimeout = 30 * time.Second

// afterAnswer runs the effects that requests leave for after their answer
// (ActivityInput.AnswerFirst) and lets a read wait for those under way.
type afterAnswer struct {
	slots   chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	closed  bool
	running map[bson.ObjectID]map[chan struct{}]struct{} // by member: each run's done
}

func newAfterAnswer(limit int) *afterAnswer {
	return &afterAnswer{slots: make(chan struct{}, limit), running: map[bson.ObjectID]map[chan struct{}]struct{}{}}
}

// Go runs fn for activity activityID of member memberID in the background
// and reports true, or reports false (fn not run) when the limit is
// reached or the service is closing: the caller then runs fn itself. A
// failure or a panic fn returns is logged; the activity stays pending for
// Jobs.ResumeEffects.
func (x *afterAnswer) Go(memberID, activityID bson.ObjectID, fn func(ctx context.Context) error) bool {
	select {
	case x.slots <- struct{}{}:
	default:
		return false
	}
	done := make(chan struct{})
	x.mu.Lock()
	if x.closed {
		x.mu.Unlock()
		<-x.slots
		return false
	}
	if x.running[memberID] == nil {
		x.running[memberID] = map[chan struct{}]struct{}{}
	}
	x.running[memberID][done] = struct{}{}
	x.wg.Add(1)
	x.mu.Unlock()
	go func() {
		defer x.wg.Done()
		defer func() {
			x.mu.Lock()
			delete(x.running[memberID], done)
			if len(x.running[memberID]) == 0 {
				delete(x.running, memberID)
			}
			x.mu.Unlock()
			close(done)
			<-x.slots
		}()
		// Its own context: the request's ends with the answer.
		ctx, cancel := context.WithTimeout(context.Background(), afterAnswerTimeout)
		defer cancel()
		if err := safely(ctx, fn); err != nil {
			slog.Warn("an activity's effects after its answer failed; the resume job finishes them",
				"activity", activityID.Hex(), "member", memberID.Hex(), "err", err)
		}
	}()
	return true
}

// safely runs fn, turning a panic into an error.
func safely(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return fn(ctx)
}

// under returns the done channels of the runs under way: member memberID's,
// or everyone's when all.
func (x *afterAnswer) under(memberID bson.ObjectID, all bool) []chan struct{} {
	x.mu.Lock()
	defer x.mu.Unlock()
	var out []chan struct{}
	add := func(runs map[chan struct{}]struct{}) {
		for done := range runs {
			out = append(out, done)
		}
	}
	if !all { // every request asks: one look-up, not a walk of every member
		add(x.running[memberID])
		return out
	}
	for _, runs := range x.running {
		add(runs)
	}
	return out
}

// wait waits until every one of runs is done or ctx ends.
func wait(ctx context.Context, runs []chan struct{}) {
	for _, done := range runs {
		select {
		case <-done:
		case <-ctx.Done():
			return
		}
	}
}

// close stops taking work and waits for the runs under way, or for ctx.
func (x *afterAnswer) close(ctx context.Context) {
	x.mu.Lock()
	x.closed = true
	x.mu.Unlock()
	stopped := make(chan struct{})
	go func() { x.wg.Wait(); close(stopped) }()
	select {
	case <-stopped:
	case <-ctx.Done():
	}
}

// Settle waits, at most until ctx ends, for the effects of member
// memberID's activities that were answered first (ActivityInput.AnswerFirst)
// and are still being carried out on this instance when it is called, so
// that a read made after it sees them. Another instance's are not waited
// for: they land within milliseconds, or Jobs.ResumeEffects finishes them.
func (s *Service) Settle(ctx context.Context, memberID bson.ObjectID) {
	wait(ctx, s.after.under(memberID, false))
}

// SettleAll is Settle for every member: a read across members (a
// leaderboard page, the brand's figures) made after it sees the effects
// under way when it was called.
func (s *Service) SettleAll(ctx context.Context) {
	wait(ctx, s.after.under(bson.ObjectID{}, true))
}

// Close stops running effects after answers (activities recorded from now
// on carry out theirs before answering) and waits, at most until ctx ends,
// for those under way. Call it once no more requests come in, before the
// database closes.
func (s *Service) Close(ctx context.Context) {
	s.after.close(ctx)
}
