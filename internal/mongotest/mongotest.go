// Package mongotest gives tests a fresh MongoDB database named for the run.
//
// With MONGODB_URI set, tests use that server. Without it, the first test
// that asks starts one embedded database (FerretDB on SQLite, see embeddb)
// for the whole test binary, in a temporary directory; a package's TestMain
// calls Main so that it is stopped and removed when the binary ends.
package mongotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/internal/embeddb"
)

var (
	once   sync.Once
	client *mongo.Client
	err    error

	embedOnce sync.Once
	embedded  *embeddb.DB
	embedDir  string
	embedURI  string
	embedErr  error
)

// Main runs a package's tests and then stops the embedded database, if one
// was started, and removes its files. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if client != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = client.Disconnect(ctx)
		cancel()
	}
	if embedded != nil {
		if err := embedded.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "mongotest:", err)
		}
		_ = os.RemoveAll(embedDir)
	}
	os.Exit(code)
}

// URI returns MONGODB_URI or, when it is unset, the URI of the test binary's
// embedded database, started on first use.
func URI(t testing.TB) string {
	t.Helper()
	if uri := os.Getenv("MONGODB_URI"); uri != "" {
		return uri
	}
	embedOnce.Do(func() {
		embedDir, embedErr = os.MkdirTemp("", "regulars-test-db-")
		if embedErr != nil {
			return
		}
		embedded, embedErr = embeddb.Open(filepath.Join(embedDir, "data"), nil)
		if embedErr == nil {
			embedURI = embedded.URI()
		}
	})
	if embedErr != nil {
		t.Fatalf("mongotest: embedded database: %v", embedErr)
	}
	return embedURI
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
