package embeddb_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/internal/embeddb"
	"github.com/regulars/regulars/internal/testkit"
)

func connect(t *testing.T, db *embeddb.DB) *mongo.Client {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI(db.URI()).SetTimeout(20 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// FerretDB 1.x alone loses concurrent increments of one document (27, 14
// and 7 of 50 were measured); through URI's pool of one, none is lost.
func TestConcurrentIncrementsOfOneDocumentAllCount(t *testing.T) {
	db, err := embeddb.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	testkit.Defer(t, db.Close)
	c := connect(t, db)
	testkit.Defer(t, func() error { return c.Disconnect(context.Background()) })
	coll := c.Database("t").Collection("counters")
	ctx := context.Background()
	for round := range 3 {
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: round}, {Key: "n", Value: 0}}); err != nil {
			t.Fatal(err)
		}
		const n = 50
		res := testkit.Race(t, n, func(int) error {
			return coll.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: round}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}).Err()
		})
		res.Expect(t)
		var doc struct{ N int }
		if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: round}}).Decode(&doc); err != nil {
			t.Fatal(err)
		}
		if doc.N != n {
			t.Fatalf("round %d: n = %d after %d concurrent increments", round, doc.N, n)
		}
	}
}

// A write acknowledged before a graceful stop is there after a restart.
func TestDataSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	db, err := embeddb.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := connect(t, db)
	ctx := context.Background()
	coll := c.Database("t").Collection("members")
	for i := range 20 {
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: i}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Disconnect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = embeddb.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	testkit.Defer(t, db.Close)
	c = connect(t, db)
	testkit.Defer(t, func() error { return c.Disconnect(ctx) })
	n, err := c.Database("t").Collection("members").CountDocuments(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if n != 20 {
		t.Fatalf("%d of 20 acknowledged writes after restart", n)
	}
}

func TestOpenRefusesABadDirectory(t *testing.T) {
	t.Run("files of another program", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "photos.sqlite"), []byte("not ours"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := embeddb.Open(dir, nil)
		if err == nil || !strings.Contains(err.Error(), "holds other files") {
			t.Fatalf("err = %v, want a refusal naming the other files", err)
		}
		b, err := os.ReadFile(filepath.Join(dir, "photos.sqlite"))
		if err != nil || string(b) != "not ours" {
			t.Fatalf("the other program's file was touched: %q, %v", b, err)
		}
	})
	t.Run("not writable", func(t *testing.T) {
		if os.Geteuid() == 0 {
			// root writes through permission bits; a path under a regular file cannot be created by anyone.
			f := filepath.Join(t.TempDir(), "file")
			if err := os.WriteFile(f, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := embeddb.Open(filepath.Join(f, "data"), nil); err == nil || !strings.Contains(err.Error(), "cannot create DATA_DIR") {
				t.Fatalf("err = %v", err)
			}
			return
		}
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		testkit.Defer(t, func() error { return os.Chmod(dir, 0o700) })
		if _, err := embeddb.Open(dir, nil); err == nil || !strings.Contains(err.Error(), "not writable") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("in use by another process", func(t *testing.T) {
		dir := t.TempDir()
		db, err := embeddb.Open(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		testkit.Defer(t, db.Close)
		if _, err := embeddb.Open(dir, nil); err == nil || !strings.Contains(err.Error(), "in use") {
			t.Fatalf("second open: err = %v, want in use", err)
		}
	})
}

// A directory holding only what a checkout or a mounted volume brings
// (.gitkeep, lost+found) counts as empty.
func TestOpenAcceptsPlaceholderFiles(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{".gitkeep", "lost+found"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	db, err := embeddb.Open(dir, nil)
	if err != nil {
		t.Fatalf("a directory with .gitkeep and lost+found: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// FerretDB looks documents up by _id with an expression its own _id index
// does not cover; IndexIDs adds one that does, and the look-ups, updates
// and drops give what they gave without it.
func TestIndexIDsServesLookUpsByID(t *testing.T) {
	dir := t.TempDir()
	db, err := embeddb.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	testkit.Defer(t, db.Close)
	c := connect(t, db)
	testkit.Defer(t, func() error { return c.Disconnect(context.Background()) })
	ctx := context.Background()
	coll := c.Database("ids").Collection("tree")
	for i := range 50 {
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: fmt.Sprintf("node#%d", i)}, {Key: "c", Value: i}}); err != nil {
			t.Fatal(err)
		}
	}
	plan := func() string {
		t.Helper()
		sq, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "ids.sqlite")+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := sq.Close(); err != nil {
				t.Fatal(err)
			}
		}()
		var table string
		if err := sq.QueryRow(`SELECT table_name FROM _ferretdb_collections WHERE name = 'tree'`).Scan(&table); err != nil {
			t.Fatal(err)
		}
		// The statement FerretDB runs for an update's document.
		rows, err := sq.Query(fmt.Sprintf(`EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM %q WHERE _ferretdb_sjson->'$._id' = ?`, table), `"node#7"`)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			b.WriteString(detail + "\n")
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	if err := db.IndexIDs(ctx); err != nil {
		t.Fatal(err)
	}
	if p := plan(); !strings.Contains(p, "USING INDEX") {
		t.Fatalf("a look-up by _id still scans the collection:\n%s", p)
	}
	if err := db.IndexIDs(ctx); err != nil { // again: nothing to add
		t.Fatal(err)
	}
	// The same answers as without the index.
	if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "node#7"}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "c", Value: 100}}}}); err != nil {
		t.Fatal(err)
	}
	var n struct{ C int }
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "node#7"}}).Decode(&n); err != nil || n.C != 107 {
		t.Fatalf("node#7 after $inc: %+v, %v", n, err)
	}
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "node#7"}}); !mongo.IsDuplicateKeyError(err) {
		t.Fatalf("a second node#7: %v, want a duplicate key error", err)
	}
	if r, err := coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: "node#8"}}); err != nil || r.DeletedCount != 1 {
		t.Fatalf("delete node#8: %+v, %v", r, err)
	}
	if k, err := coll.CountDocuments(ctx, bson.D{}); err != nil || k != 49 {
		t.Fatalf("%d documents, %v", k, err)
	}
	// A dropped database stays dropped: the sweep does not create its file again.
	if err := c.Database("ids").Drop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.IndexIDs(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ids.sqlite")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the dropped database's file: %v", err)
	}
}
