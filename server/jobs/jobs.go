// Package jobs runs the server's background work on one instance at a
// time, each under a lease of its own (internal/lease): rounds of periodic
// jobs with fencing, and loops that work while they hold their lease.
// Every job is safe to repeat, so a holder that dies only delays the work
// until its lease expires.
package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/internal/lease"
)

// Holder names this instance to the leases: host, process and a random
// part, so two processes never pass for one.
func Holder() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), bson.NewObjectID().Hex())
}

// Periodic runs rounds of jobs every Interval, or sooner when kicked, on
// the instance holding Lease (which should last a few intervals).
type Periodic struct {
	Lease    *lease.Lease
	Interval time.Duration
	// Kicks wake the loop before the interval ends (work was queued).
	Kicks []<-chan struct{}
	// Round runs each job once. stillHeld renews the lease and reports
	// whether this instance still holds it under the round's epoch: a
	// round longer than the lease keeps it while it is alive, and a holder
	// that stalled past its expiry finds a newer epoch and stops (fencing).
	Round func(ctx context.Context, stillHeld func() bool)
	// Observe, when set (tests), is told when a round starts and ends
	// under the lease's epoch.
	Observe func(epoch int64, start bool)
}

// Run runs rounds until ctx ends, then releases the lease, so that a
// shutdown hands the jobs over at once (a rolling deploy would otherwise
// pause them for the lease's life).
func (p Periodic) Run(ctx context.Context) {
	if err := p.Lease.EnsureIndex(ctx); err != nil {
		slog.Error("job: lease index", "err", err)
	}
	t := time.NewTicker(p.Interval)
	defer t.Stop()
	wake := []reflect.SelectCase{
		{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())},
		{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(t.C)},
	}
	for _, k := range p.Kicks {
		wake = append(wake, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(k)})
	}
	var held int64
	defer func() {
		if held > 0 {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := p.Lease.Release(rctx, held); err != nil {
				slog.Warn("job: lease not released; another instance takes it when it expires", "err", err)
			}
		}
	}()
	for {
		epoch, err := p.Lease.Acquire(ctx)
		if err == nil {
			held = epoch
		}
		if err != nil {
			if ctx.Err() == nil {
				slog.Error("job: lease", "err", err)
			}
		} else if epoch > 0 {
			if p.Observe != nil {
				p.Observe(epoch, true)
			}
			p.Round(ctx, func() bool {
				e, err := p.Lease.Acquire(ctx)
				return err == nil && e == epoch
			})
			if p.Observe != nil {
				p.Observe(epoch, false)
			}
		}
		if chosen, _, _ := reflect.Select(wake); chosen == 0 {
			return
		}
	}
}

// WhileHeld calls work at once and then every tick while this instance
// holds l, until ctx ends; name starts its log lines. A lease of its own
// keeps the work apart from the periodic jobs, so a long round never
// holds it back.
func WhileHeld(ctx context.Context, name string, l *lease.Lease, tick time.Duration, work func(context.Context)) {
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		if epoch, err := l.Acquire(ctx); err != nil {
			if ctx.Err() == nil {
				slog.Error(name+": lease", "err", err)
			}
		} else if epoch > 0 {
			work(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
