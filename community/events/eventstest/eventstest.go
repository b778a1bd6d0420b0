// Package eventstest fakes what community/events asks of the game, for
// the tests of events and of its RSVPs.
package eventstest

import (
	"bytes"
	"context"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/internal/batch"
)

// Ranks are the program's tiers: Member (0), Silver (1), Gold (2).
var Ranks = map[string]int{"Member": 0, "Silver": 1, "Gold": 2}

// Standing answers events.Standing: every member is a Member unless Set
// says otherwise; no member holds a badge; every badge exists.
type Standing struct {
	mu    sync.Mutex
	tiers map[bson.ObjectID]string
}

// Set gives the member a tier.
func (f *Standing) Set(m bson.ObjectID, tier string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.tiers == nil {
		f.tiers = map[bson.ObjectID]string{}
	}
	f.tiers[m] = tier
}

func (f *Standing) Tier(_ context.Context, m bson.ObjectID) (string, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tiers[m]
	if t == "" {
		t = "Member"
	}
	return t, Ranks[t], nil
}

func (f *Standing) TierExists(_ context.Context, n string) (bool, error) {
	_, ok := Ranks[n]
	return ok, nil
}

func (f *Standing) HasBadge(context.Context, bson.ObjectID, bson.ObjectID) (bool, error) {
	return false, nil
}

func (f *Standing) BadgeExists(context.Context, bson.ObjectID) (bool, error) { return true, nil }

// Audience answers events.Audience: a fixed list of members walked in id order.
type Audience []bson.ObjectID

func (a Audience) Count(context.Context) (int64, error) { return int64(len(a)), nil }

func (a Audience) Step(ctx context.Context, after bson.ObjectID, size, _ int, work func(context.Context, bson.ObjectID) (bool, error)) (batch.Result, error) {
	var r batch.Result
	n := 0
	for _, id := range a {
		if bytes.Compare(id[:], after[:]) <= 0 {
			continue
		}
		if n == size {
			return r, nil
		}
		n++
		ok, err := work(ctx, id)
		if err != nil {
			return r, err
		}
		r.Done++
		r.Last = id
		if ok {
			r.Counted++
		}
	}
	r.Finished = true
	return r, nil
}
