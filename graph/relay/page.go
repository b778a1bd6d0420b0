package relay

import (
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/graph/model"
)

// PageByID is one page of a list ordered by a database id (EncodeIDCursor):
// first and after are checked (input errors naming them), fetch reads up
// to n items after the id after (zero: from the first) and whether more
// follow, and the page comes back as edges (cursors by id) and page info.
func PageByID[N, E any](list string, first *int, after *string, fetch func(after bson.ObjectID, n int) ([]N, bool, error),
	id func(N) bson.ObjectID, edge func(cursor string, node N) E) ([]E, *model.PageInfo, error) {
	n, err := PageSize(first)
	if err != nil {
		return nil, nil, err
	}
	from, err := DecodeIDCursor(list, after)
	if err != nil {
		return nil, nil, err
	}
	nodes, more, err := fetch(from, n)
	if err != nil {
		return nil, nil, err
	}
	es, info := Edges(nodes, more, after, func(x N) string { return EncodeIDCursor(list, id(x)) }, edge)
	return es, info, nil
}
