package relay

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/input"
)

// PageByID checks first and after before fetching, hands fetch the id the
// cursor holds, and gives each edge its id cursor.
func TestPageByID(t *testing.T) {
	ids := []bson.ObjectID{bson.NewObjectID(), bson.NewObjectID(), bson.NewObjectID()}
	fetch := func(after bson.ObjectID, n int) ([]bson.ObjectID, bool, error) {
		i := 0
		for i < len(ids) && !after.IsZero() && ids[i] != after {
			i++
		}
		if !after.IsZero() {
			i++
		}
		end := min(i+n, len(ids))
		return ids[i:end], end < len(ids), nil
	}
	self := func(id bson.ObjectID) bson.ObjectID { return id }
	edge := func(c string, id bson.ObjectID) string { return c }
	two := 2
	es, info, err := PageByID("list", &two, nil, fetch, self, edge)
	if err != nil || len(es) != 2 || !info.HasNextPage || es[1] != EncodeIDCursor("list", ids[1]) {
		t.Fatalf("first page: %v %+v %v", es, info, err)
	}
	es, info, err = PageByID("list", &two, &es[1], fetch, self, edge)
	if err != nil || len(es) != 1 || info.HasNextPage || !info.HasPreviousPage || es[0] != EncodeIDCursor("list", ids[2]) {
		t.Fatalf("second page: %v %+v %v", es, info, err)
	}
	called := false
	bad := EncodeIDCursor("other", ids[0])
	zero := 0
	for _, c := range []struct {
		field string
		first *int
		after *string
	}{{"first", &zero, nil}, {"after", nil, &bad}} {
		_, _, err := PageByID("list", c.first, c.after, func(bson.ObjectID, int) ([]bson.ObjectID, bool, error) { called = true; return nil, false, nil }, self, edge)
		if e, ok := input.As(err); !ok || e.Field != c.field || called {
			t.Errorf("bad %s: %v (fetched %v)", c.field, err, called)
		}
	}
}
