package embeddb_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/internal/embeddb"
	"github.com/regulars/regulars/internal/testkit"
)

// The soak's overload (BENCHMARKS.md, issue 19): many commands cut by
// their deadlines, mid-statement, mid-scan and mid-cursor. Afterwards
// writes go through with generous deadlines, and no increment acknowledged
// during the storm was lost: the storm's abandoned commands never ran
// beside the next ones, and no SQLite connection was left holding an old
// snapshot (which made every later write fail with "database is locked
// (517)").
func TestWritesGoThroughAfterAnOverloadOfTimeouts(t *testing.T) {
	db, err := embeddb.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	testkit.Defer(t, db.Close)
	ctx := context.Background()
	// As the server connects: a client-side timeout, so that every
	// command carries maxTimeMS and FerretDB cancels it too.
	connect := func() *mongo.Client {
		c, err := mongo.Connect(options.Client().ApplyURI(db.URI()).SetTimeout(20 * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		testkit.Defer(t, func() error { return c.Disconnect(ctx) })
		return c
	}
	d := connect().Database("overload")
	big, writes, counters := d.Collection("big"), d.Collection("writes"), d.Collection("counters")

	// A collection that takes milliseconds to scan, so that deadlines of
	// 1–20 ms end commands in the middle of their statements.
	const bigDocs = 3000
	docs := make([]any, bigDocs)
	for i := range docs {
		docs[i] = bson.D{{Key: "_id", Value: i}, {Key: "k", Value: i % 97}, {Key: "pad", Value: fmt.Sprintf("%0200d", i)}}
	}
	if _, err := big.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	if _, err := counters.InsertOne(ctx, bson.D{{Key: "_id", Value: "n"}, {Key: "n", Value: 0}}); err != nil {
		t.Fatal(err)
	}

	// The storm: clients released together, each running a bounded number
	// of commands with deadlines of 1 to 20 ms.
	// Clients share a few driver clients (server instances), each a pool of one.
	maxDeadline := 20
	if s := os.Getenv("OVERLOAD_MAX_DEADLINE_MS"); s != "" {
		maxDeadline, _ = strconv.Atoi(s)
	}
	const clients, perClient = 12, 200
	instances := 3
	if s := os.Getenv("OVERLOAD_INSTANCES"); s != "" {
		instances, _ = strconv.Atoi(s)
	}
	dbs := []*mongo.Database{d}
	for len(dbs) < instances {
		dbs = append(dbs, connect().Database("overload"))
	}
	var acked, tried, cut atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 19))
			d := dbs[w%instances]
			big, writes, counters := d.Collection("big"), d.Collection("writes"), d.Collection("counters")
			<-start
			for i := range perClient {
				opCtx, cancel := context.WithTimeout(ctx, time.Duration(1+rng.IntN(maxDeadline))*time.Millisecond)
				var err error
				switch i % 6 {
				case 0: // a scan that matches late
					err = big.FindOne(opCtx, bson.D{{Key: "pad", Value: fmt.Sprintf("%0200d", bigDocs-1-rng.IntN(10))}}).Err()
				case 1: // a cursor left open mid-way, then closed without its context
					var cur *mongo.Cursor
					cur, err = big.Find(opCtx, bson.D{{Key: "k", Value: rng.IntN(97)}}, options.Find().SetBatchSize(2))
					if err == nil {
						_ = cur.Next(opCtx) // a getMore that may be cut
						_ = cur.Close(ctx)
					}
				case 2:
					_, err = writes.InsertOne(opCtx, bson.D{{Key: "w", Value: w}, {Key: "i", Value: i}})
				case 3, 4:
					tried.Add(1)
					err = counters.FindOneAndUpdate(opCtx, bson.D{{Key: "_id", Value: "n"}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}).Err()
					if err == nil {
						acked.Add(1)
					}
				case 5:
					_, err = big.UpdateMany(opCtx, bson.D{{Key: "k", Value: rng.IntN(97)}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "touched", Value: 1}}}})
				}
				if err != nil {
					cut.Add(1)
				}
				cancel()
			}
		}()
	}
	close(start)
	wg.Wait()
	t.Logf("storm: %d commands, %d cut by their deadlines; %d of %d increments acknowledged", clients*perClient, cut.Load(), acked.Load(), tried.Load())
	if cut.Load() == 0 {
		t.Fatal("no command was cut: the storm did not overload anything")
	}

	// Afterwards, with generous deadlines: writes to several collections.
	for _, coll := range []*mongo.Collection{writes, big, counters, d.Collection("fresh")} {
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "after", Value: true}}); err != nil {
			t.Fatalf("insert into %s after the storm: %v", coll.Name(), err)
		}
	}
	var doc struct{ N int64 }
	if err := counters.FindOne(ctx, bson.D{{Key: "_id", Value: "n"}}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	// An increment cut by its deadline may or may not have been applied;
	// an acknowledged one must have been.
	if doc.N < acked.Load() || doc.N > tried.Load() {
		t.Fatalf("n = %d after the storm: %d increments acknowledged, %d tried", doc.N, acked.Load(), tried.Load())
	}
	before := doc.N
	const n = 40
	testkit.Race(t, n, func(int) error {
		return counters.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: "n"}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}).Err()
	}).Expect(t)
	if err := counters.FindOne(ctx, bson.D{{Key: "_id", Value: "n"}}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.N != before+n {
		t.Fatalf("n = %d after %d concurrent increments from %d", doc.N, n, before)
	}
}
