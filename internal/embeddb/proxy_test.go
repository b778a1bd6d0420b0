package embeddb

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// A write its client abandons (the context cancelled once the write has
// reached the database: the driver closes the connection and opens
// another) finishes before the client's next command runs: the count that
// follows on the new connection sees every document of it. Without the
// proxy that count ran beside the insert on a second FerretDB connection
// and saw part of it.
func TestAbandonedWriteFinishesBeforeTheNextCommand(t *testing.T) {
	db, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	ctx := context.Background()
	started := make(chan struct{}, 1)
	c, err := mongo.Connect(options.Client().ApplyURI(db.URI()).SetTimeout(20 * time.Second).
		SetMonitor(&event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
			if e.CommandName == "insert" {
				select {
				case started <- struct{}{}:
				default:
				}
			}
		}}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Disconnect(ctx); err != nil {
			t.Error(err)
		}
	})
	coll := c.Database("abandon").Collection("docs")
	if err := c.Ping(ctx, nil); err != nil {
		t.Fatal(err)
	}

	const n = 20000
	docs := make([]any, n)
	for i := range docs {
		docs[i] = bson.D{{Key: "_id", Value: i}, {Key: "pad", Value: "abcdefghijklmnopqrstuvwxyz0123456789"}}
	}
	writeCtx, cancel := context.WithCancel(ctx)
	received := db.proxy.receivedCommands()
	errc := make(chan error, 1)
	go func() {
		_, err := coll.InsertMany(writeCtx, docs)
		errc <- err
	}()
	<-started
	// Cancelled once the proxy holds the whole message: what the client
	// sent, the database runs.
	for wait := time.Now().Add(10 * time.Second); db.proxy.receivedCommands() == received; time.Sleep(time.Millisecond) {
		if time.Now().After(wait) {
			t.Fatal("the insert did not reach the proxy within 10 s")
		}
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Logf("the insert ended with %v before its cancellation took effect", err)
	}
	got, err := coll.CountDocuments(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if got != n {
		t.Fatalf("the next command saw %d of the abandoned insert's %d documents", got, n)
	}
}
