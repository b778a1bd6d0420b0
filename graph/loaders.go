package graph

import (
	"context"

	"github.com/vikstrous/dataloadgen"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/member"
)

// loaders batch the child lookups of one operation: a list of N items that
// each resolve a member costs one query, not N.
type loaders struct {
	members *dataloadgen.Loader[bson.ObjectID, *member.Member]
}

type loadersKey struct{}

func withLoaders(ctx context.Context, r *Resolver) context.Context {
	l := &loaders{
		members: dataloadgen.NewLoader(func(ctx context.Context, ids []bson.ObjectID) ([]*member.Member, []error) {
			ms, err := r.Members.GetMany(ctx, ids)
			if err != nil {
				return nil, []error{err}
			}
			errs := make([]error, len(ids))
			for i, m := range ms {
				if m == nil {
					errs[i] = member.ErrNotFound
				}
			}
			return ms, errs
		}, dataloadgen.WithWait(loaderWait)),
	}
	return context.WithValue(ctx, loadersKey{}, l)
}

func loadersFrom(ctx context.Context) *loaders {
	return ctx.Value(loadersKey{}).(*loaders)
}

// loadMember returns one member through the operation's loader.
func loadMember(ctx context.Context, id bson.ObjectID) (*member.Member, error) {
	return loadersFrom(ctx).members.Load(ctx, id)
}
