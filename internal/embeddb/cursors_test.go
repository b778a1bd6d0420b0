package embeddb_test

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/internal/embeddb"
	"github.com/regulars/regulars/internal/testkit"
)

// Cursors left open (a client's Close found its context ended, as overload
// does to many) never exhaust FerretDB's pool of 100 SQLite connections:
// without the proxy's bound, the 101st find waited for a connection for
// good, and every command after it with it.
func TestLeftCursorsDoNotHangTheDatabase(t *testing.T) {
	db, err := embeddb.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	testkit.Defer(t, db.Close)
	ctx := context.Background()
	c := connect(t, db)
	testkit.Defer(t, func() error { return c.Disconnect(ctx) })
	coll := c.Database("cursors").Collection("c")
	docs := make([]any, 300)
	for i := range docs {
		docs[i] = bson.D{{Key: "_id", Value: i}}
	}
	testkit.Must(coll.InsertMany(ctx, docs))(t)
	for i := range 150 {
		// Each find leaves a cursor open: its first batch is 2 of 300.
		if _, err := coll.Find(ctx, bson.D{}, options.Find().SetBatchSize(2)); err != nil {
			t.Fatalf("find %d with %d cursors left open: %v", i+1, i, err)
		}
	}
	// The newest cursor still pages to its end.
	cur := testkit.Must(coll.Find(ctx, bson.D{}, options.Find().SetBatchSize(2)))(t)
	var all []bson.Raw
	if err := cur.All(ctx, &all); err != nil || len(all) != len(docs) {
		t.Fatalf("paging a cursor: %d documents, %v", len(all), err)
	}
	var d bson.Raw
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: 7}}).Decode(&d); err != nil {
		t.Fatalf("a find after 150 cursors left open: %v", err)
	}
}
