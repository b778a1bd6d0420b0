// Package mongotest gives tests a fresh MongoDB database named for the run.
//
// Tests that need a database call Database; without MONGODB_URI they skip
// with one line that says so.
package mongotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// SkipMessage is the line a test prints when no database is configured.
const SkipMessage = "MONGODB_URI not set: skipping database test (see README, Integration tests)"

var (
	once   sync.Once
	client *mongo.Client
	err    error
)

// URI returns MONGODB_URI, or skips t when it is unset.
func URI(t testing.TB) string {
	t.Helper()
	uri := os.Getenv("MONGODB_URI")
	if uri == "" {
		t.Skip(SkipMessage)
	}
	return uri
}

// Client returns one client shared by the package's tests.
func Client(t testing.TB) *mongo.Client {
	t.Helper()
	uri := URI(t)
	once.Do(func() {
		client, err = mongo.Connect(options.Client().ApplyURI(uri).SetTimeout(20 * time.Second))
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = client.Ping(ctx, nil)
		}
	})
	if err != nil {
		t.Fatalf("mongotest: connect %s: %v", uri, err)
	}
	return client
}

// Database returns a new, uniquely named database that is dropped when t ends.
func Database(t testing.TB) *mongo.Database {
	t.Helper()
	c := Client(t)
	db := c.Database(Name(t))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = db.Drop(ctx)
	})
	return db
}

// Name returns a unique database name for t, short enough for MongoDB's limit.
func Name(t testing.TB) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, t.Name())
	if len(name) > 40 {
		name = name[:40]
	}
	return "t_" + name + "_" + hex.EncodeToString(b)
}

// RequireIndexes fails t unless coll has an index with each of names.
func RequireIndexes(t testing.TB, coll *mongo.Collection, names ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	specs, err := coll.Indexes().ListSpecifications(ctx)
	if err != nil {
		t.Fatalf("list indexes of %s: %v", coll.Name(), err)
	}
	have := map[string]bool{}
	for _, s := range specs {
		have[s.Name] = true
	}
	for _, n := range names {
		if !have[n] {
			t.Errorf("collection %s lacks index %q (has %v)", coll.Name(), n, have)
		}
	}
}

// SkipWithoutAtomicUpdates skips t on a stand-in that does not apply
// concurrent single-document updates atomically (FerretDB 1.x reads and
// rewrites documents outside a lock). MongoDB does, and the code relies on
// it only where a test calls this.
func SkipWithoutAtomicUpdates(t testing.TB, db *mongo.Database) {
	t.Helper()
	var info bson.M
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		t.Fatal(err)
	}
	if _, ferret := info["ferretdbVersion"]; ferret {
		t.Skip("FerretDB does not apply concurrent updates atomically; this race test needs MongoDB")
	}
}
