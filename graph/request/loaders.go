package request

import (
	"context"
	"time"

	"github.com/vikstrous/dataloadgen"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/reward"
	"github.com/regulars/regulars/member"
)

// loaders batch the child lookups of one operation: a list of N items that
// each resolve a member costs one query, not N.
type loaders struct {
	members *dataloadgen.Loader[bson.ObjectID, *member.Member]
	rewards *dataloadgen.Loader[bson.ObjectID, *reward.Reward]
	// ledgers answers every field of a member's points and tier in an
	// operation from one read of their ledger (me { points tier }).
	ledgers *dataloadgen.Loader[bson.ObjectID, *ledger.Current]
}

type loadersKey struct{}

// Fetch returns the values of ids in their order, nil for a missing one.
type Fetch[V any] func(context.Context, []bson.ObjectID) ([]*V, error)

// WithLoaders returns ctx carrying one operation's loaders over these
// fetches: the executor calls it once per operation, so batching never
// mixes callers.
func WithLoaders(ctx context.Context, members Fetch[member.Member], rewards Fetch[reward.Reward], ledgers Fetch[ledger.Current]) context.Context {
	l := &loaders{
		members: batchLoader(members, member.ErrNotFound),
		rewards: batchLoader(rewards, reward.ErrRewardNotFound),
		ledgers: batchLoader(ledgers, member.ErrNotFound),
	}
	return context.WithValue(ctx, loadersKey{}, l)
}

// loaderWait is how long a loader gathers keys before one batched query.
const loaderWait = time.Millisecond

// batchLoader makes a loader from a fetch; a missing value gets notFound.
func batchLoader[V any](fetch Fetch[V], notFound error) *dataloadgen.Loader[bson.ObjectID, *V] {
	return dataloadgen.NewLoader(func(ctx context.Context, ids []bson.ObjectID) ([]*V, []error) {
		vs, err := fetch(ctx, ids)
		if err != nil {
			return nil, []error{err}
		}
		errs := make([]error, len(ids))
		for i, v := range vs {
			if v == nil {
				errs[i] = notFound
			}
		}
		return vs, errs
	}, dataloadgen.WithWait(loaderWait))
}

func loadersFrom(ctx context.Context) *loaders {
	return ctx.Value(loadersKey{}).(*loaders)
}

// LoadMember returns one member through the operation's loader
// (member.ErrNotFound if there is none).
func LoadMember(ctx context.Context, id bson.ObjectID) (*member.Member, error) {
	return loadersFrom(ctx).members.Load(ctx, id)
}

// LoadReward returns one reward through the operation's loader
// (reward.ErrRewardNotFound if there is none).
func LoadReward(ctx context.Context, id bson.ObjectID) (*reward.Reward, error) {
	return loadersFrom(ctx).rewards.Load(ctx, id)
}

// LoadLedger returns a member's ledger now through the operation's
// loader: the fields of one member's points and tier share one read.
func LoadLedger(ctx context.Context, memberID bson.ObjectID) (*ledger.Current, error) {
	return loadersFrom(ctx).ledgers.Load(ctx, memberID)
}

// ForgetLedgers drops the ledgers the operation's loader has read, so the
// next LoadLedger reads again (after a write of the operation's own).
func ForgetLedgers(ctx context.Context) {
	loadersFrom(ctx).ledgers.ClearAll()
}

// PrimeMembers loads ids in one batch of the operation's loader, so the
// lookups that follow are answered from it.
func PrimeMembers(ctx context.Context, ids []bson.ObjectID) {
	prime(ctx, loadersFrom(ctx).members, ids)
}

// PrimeRewards is PrimeMembers for rewards.
func PrimeRewards(ctx context.Context, ids []bson.ObjectID) {
	prime(ctx, loadersFrom(ctx).rewards, ids)
}

func prime[V any](ctx context.Context, l *dataloadgen.Loader[bson.ObjectID, *V], ids []bson.ObjectID) {
	thunks := make([]func() (*V, error), len(ids))
	for i, id := range ids {
		thunks[i] = l.LoadThunk(ctx, id)
	}
	for _, th := range thunks {
		_, _ = th() // errors come back again from the lookups that follow
	}
}
