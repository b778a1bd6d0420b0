package page_test

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/internal/mongotest"
	"github.com/regulars/regulars/internal/page"
)

func TestMain(m *testing.M) { mongotest.Main(m) }

type doc struct {
	N int `bson:"_id"`
}

// Paging 7 documents 3 at a time with an after-cursor gives 3, 3 and 1,
// and says more follow on all but the last page.
func TestFindPagesInSortOrder(t *testing.T) {
	ctx := context.Background()
	c := mongotest.Database(t).Collection("docs")
	for n := 7; n >= 1; n-- { // inserted backwards: the order is the sort's
		if _, err := c.InsertOne(ctx, doc{N: n}); err != nil {
			t.Fatal(err)
		}
	}
	var got [][]int
	var mores []bool
	after := 0
	for {
		ds, more, err := page.Find[doc](ctx, c, bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}}},
			options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}), 3)
		if err != nil {
			t.Fatal(err)
		}
		var ns []int
		for _, d := range ds {
			ns = append(ns, d.N)
		}
		got, mores = append(got, ns), append(mores, more)
		if !more {
			break
		}
		after = ds[len(ds)-1].N
	}
	want := [][]int{{1, 2, 3}, {4, 5, 6}, {7}}
	if len(got) != len(want) {
		t.Fatalf("pages %v, want %v", got, want)
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("pages %v, want %v", got, want)
		}
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				t.Fatalf("pages %v, want %v", got, want)
			}
		}
		if mores[i] != (i < len(want)-1) {
			t.Errorf("page %d: more = %v", i, mores[i])
		}
	}
}

func TestCutAtTheLimit(t *testing.T) {
	for _, c := range []struct {
		n, limit, kept int
		more           bool
	}{{0, 3, 0, false}, {3, 3, 3, false}, {4, 3, 3, true}} {
		xs, more := page.Cut(make([]int, c.n), c.limit)
		if len(xs) != c.kept || more != c.more {
			t.Errorf("Cut(%d items, %d) = %d items, more %v; want %d, %v", c.n, c.limit, len(xs), more, c.kept, c.more)
		}
	}
}
