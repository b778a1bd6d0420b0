// Package page reads one page of a cursor-paginated list: at most limit
// documents in the query's sort order, and whether more follow.
package page

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Find runs filter on c with opts (its sort, hint and projection) and
// returns at most limit documents decoded as T, and whether more follow.
// It asks for limit+1 to know that without a count. The caller puts its
// cursor position into filter. Errors are the driver's, unwrapped.
func Find[T any](ctx context.Context, c *mongo.Collection, filter any, opts *options.FindOptionsBuilder, limit int) ([]T, bool, error) {
	cur, err := c.Find(ctx, filter, opts.SetLimit(int64(limit+1)))
	if err != nil {
		return nil, false, err
	}
	var out []T
	if err := cur.All(ctx, &out); err != nil {
		return nil, false, err
	}
	out, more := Cut(out, limit)
	return out, more, nil
}

// Cut keeps the first limit of xs, read with limit+1, and says whether
// there were more.
func Cut[T any](xs []T, limit int) ([]T, bool) {
	if len(xs) > limit {
		return xs[:limit], true
	}
	return xs, false
}
