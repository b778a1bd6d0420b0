package byid_test

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/internal/byid"
	"github.com/regulars/regulars/internal/mongotest"
	"github.com/regulars/regulars/internal/testkit"
)

func TestMain(m *testing.M) { mongotest.Main(m) }

type doc struct {
	ID   bson.ObjectID `bson:"_id"`
	Name string
}

// Documents come back in the order asked for, with nil for an id that has none.
func TestFindKeepsTheOrderOfIDs(t *testing.T) {
	c := testkit.Database(t).Collection("docs")
	a, b, missing := bson.NewObjectID(), bson.NewObjectID(), bson.NewObjectID()
	for _, d := range []doc{{a, "a"}, {b, "b"}} {
		if _, err := c.InsertOne(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	got := testkit.Must(byid.Find(context.Background(), c, []bson.ObjectID{b, missing, a}, func(d *doc) bson.ObjectID { return d.ID }))(t)
	if len(got) != 3 || got[0] == nil || got[0].Name != "b" || got[1] != nil || got[2] == nil || got[2].Name != "a" {
		t.Fatalf("got %+v", got)
	}
}

// One id is asked for by _id equality, which the embedded database looks
// up by index (it scans the whole collection for any $in); several by $in.
// Both find the same documents.
func TestFilterAsksForOneIDByEquality(t *testing.T) {
	c := testkit.Database(t).Collection("docs")
	a, b := bson.NewObjectID(), bson.NewObjectID()
	for _, d := range []doc{{a, "a"}, {b, "b"}} {
		if _, err := c.InsertOne(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	if f := byid.Filter([]bson.ObjectID{a}); len(f) != 1 || f[0].Key != "_id" || f[0].Value != a {
		t.Errorf("filter of one id: %v, want {_id: %s}", f, a.Hex())
	}
	idOf := func(d *doc) bson.ObjectID { return d.ID }
	one := testkit.Must(byid.Find(context.Background(), c, []bson.ObjectID{a}, idOf))(t)
	two := testkit.Must(byid.Find(context.Background(), c, []bson.ObjectID{b, a}, idOf))(t)
	if len(one) != 1 || one[0] == nil || one[0].Name != "a" || len(two) != 2 || two[0] == nil || two[0].Name != "b" || two[1] == nil || two[1].Name != "a" {
		t.Fatalf("one: %+v, two: %+v", one, two)
	}
}
