package graph

import (
	"context"

	"github.com/vikstrous/dataloadgen"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/reward"
	"github.com/regulars/regulars/member"
)

// loaders batch the child lookups of one operation: a list of N items that
// each resolve a member costs one query, not N.
type loaders struct {
	members *dataloadgen.Loader[bson.ObjectID, *member.Member]
	rewards *dataloadgen.Loader[bson.ObjectID, *reward.Reward]
}

type loadersKey struct{}

func withLoaders(ctx context.Context, r *Resolver) context.Context {
	l := &loaders{
		members: batchLoader(r.Members.GetMany, member.ErrNotFound),
		rewards: batchLoader(r.Game.Rewards().RewardsByID, reward.ErrRewardNotFound),
	}
	return context.WithValue(ctx, loadersKey{}, l)
}

// batchLoader makes a loader from a fetch that returns values in the order
// of the keys, nil for missing ones, which get notFound.
func batchLoader[V any](fetch func(context.Context, []bson.ObjectID) ([]*V, error), notFound error) *dataloadgen.Loader[bson.ObjectID, *V] {
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

// loadMember returns one member through the operation's loader.
func loadMember(ctx context.Context, id bson.ObjectID) (*member.Member, error) {
	return loadersFrom(ctx).members.Load(ctx, id)
}
