// Package testkit holds what the tests of every package share: a database
// with its indexes, a settable clock, a start barrier for race tests,
// polling, a graphql-transport-ws client and latency summaries for
// benchmarks. It is imported by _test.go files only.
package testkit

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/internal/mongotest"
)

// Main runs a package's tests and then stops the embedded database, if the
// tests started one. Call it from TestMain.
func Main(m *testing.M) { mongotest.Main(m) }

// Database returns a fresh, uniquely named database, dropped when t ends
// (see mongotest: MONGODB_URI or the test binary's embedded database).
// Pass the services built on it to EnsureIndexes.
func Database(t testing.TB) *mongo.Database {
	t.Helper()
	return mongotest.Database(t)
}

// EnsureIndexes runs each ensure (a store's EnsureIndexes) with a ten-second
// deadline, as a server start does, and fails t on the first error.
func EnsureIndexes(t testing.TB, ensure ...func(context.Context) error) {
	t.Helper()
	for _, e := range ensure {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := e(ctx)
		cancel()
		if err != nil {
			t.Fatalf("ensure indexes: %v", err)
		}
	}
}

// Count returns how many documents of coll match filter (nil: all), failing
// t if the count itself fails: a failed count must not read as zero.
func Count(t testing.TB, coll *mongo.Collection, filter any) int64 {
	t.Helper()
	if filter == nil {
		filter = bson.D{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := coll.CountDocuments(ctx, filter)
	if err != nil {
		t.Fatalf("count %s: %v", coll.Name(), err)
	}
	return n
}

// RequireIndexes fails t unless coll has an index with each of names.
func RequireIndexes(t testing.TB, coll *mongo.Collection, names ...string) {
	t.Helper()
	mongotest.RequireIndexes(t, coll, names...)
}

// Must returns a function that returns v, failing t if err is not nil:
// for a call whose error the test does not expect, where ignoring the error
// would let a failure read as an empty result. Use as
// testkit.Must(svc.Get(ctx, id))(t).
func Must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// Defer runs f when t ends (t.Cleanup), failing t if f returns an error:
// for closing what a test opened without dropping the error.
func Defer(t testing.TB, f func() error) {
	t.Helper()
	t.Cleanup(func() {
		if err := f(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
}

// Must2 is Must for a call returning two values and an error:
// a, b := testkit.Must2(svc.Create(ctx, in))(t).
func Must2[A, B any](a A, b B, err error) func(testing.TB) (A, B) {
	return func(t testing.TB) (A, B) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	}
}

// CountingDatabase is Database on a client of its own that counts the
// commands sent to the server (the driver's command monitor): commands
// returns how many were sent since the call before (or since the start).
func CountingDatabase(t testing.TB) (db *mongo.Database, commands func() int64) {
	t.Helper()
	var n atomic.Int64
	client, err := mongo.Connect(options.Client().ApplyURI(mongotest.URI(t)).SetTimeout(20 * time.Second).
		SetMonitor(&event.CommandMonitor{Started: func(context.Context, *event.CommandStartedEvent) { n.Add(1) }}))
	if err != nil {
		t.Fatal(err)
	}
	Defer(t, func() error { return client.Disconnect(context.Background()) })
	db = client.Database(mongotest.Name(t))
	Defer(t, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return db.Drop(ctx)
	})
	return db, func() int64 { return n.Swap(0) }
}
