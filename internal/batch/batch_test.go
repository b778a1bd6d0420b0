package batch

import (
	"context"
	"errors"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/internal/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

type doc struct {
	ID bson.ObjectID `bson:"_id"`
}

func docID(d *doc) bson.ObjectID { return d.ID }

// A failure stops the progress before the failed item; the rerun starts
// there and finishes, and every item is counted once.
func TestProgressStopsAtTheFirstFailure(t *testing.T) {
	ctx := context.Background()
	coll := testkit.Database(t).Collection("items")
	var ids []bson.ObjectID
	for range 7 {
		id := bson.NewObjectID()
		ids = append(ids, id)
		if _, err := coll.InsertOne(ctx, doc{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	broken := ids[2]
	var mu sync.Mutex
	seen := map[bson.ObjectID]int{}
	work := func(ctx context.Context, d *doc) (bool, error) {
		mu.Lock()
		defer mu.Unlock()
		if d.ID == broken {
			return false, errors.New("database hiccup")
		}
		seen[d.ID]++
		return true, nil
	}
	r, err := Step(ctx, coll, bson.ObjectID{}, 5, 1, docID, work)
	if err == nil || r.Done != 2 || r.Last != ids[1] || r.Finished {
		t.Fatalf("first batch: %+v %v", r, err)
	}
	broken = bson.ObjectID{}
	after, total := r.Last, r.Counted
	for {
		r, err := Step(ctx, coll, after, 5, 4, docID, work)
		if err != nil {
			t.Fatal(err)
		}
		total += r.Counted
		if r.Done > 0 {
			after = r.Last
		}
		if r.Finished {
			break
		}
	}
	if total != 7 || after != ids[6] {
		t.Fatalf("counted %d, ended after %v", total, after)
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("%v worked %d times", id, seen[id])
		}
	}
}
