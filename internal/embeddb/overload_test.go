package embeddb_test

import (
	"context"
	"fmt"
	"math/rand/v2"
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
	// Three driver clients (three instances of the server), each a pool of
	// one. Two connect as the server does, with a client-side timeout, so
	// that every command carries maxTimeMS and FerretDB cancels it too; the
	// third has only its contexts' deadlines.
	var dbs []*mongo.Database
	for i := range 3 {
		o := options.Client().ApplyURI(db.URI())
		if i < 2 {
			o.SetTimeout(20 * time.Second)
		}
		c, err := mongo.Connect(o)
		if err != nil {
			t.Fatal(err)
		}
		testkit.Defer(t, func() error { return c.Disconnect(ctx) })
		dbs = append(dbs, c.Database("overload"))
	}
	d := dbs[0]
	big, counters := d.Collection("big"), d.Collection("counters")

	// A collection that takes milliseconds to scan, so that deadlines of
	// a few milliseconds end commands in the middle of their statements.
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

	var acked, tried atomic.Int64
	for round, maxDeadline := range []int{20, 100, 5} {
		// The storm: workers released together, each running a bounded
		// number of commands with deadlines of 1 to maxDeadline ms; one in
		// four is cancelled instead, which closes its socket at once.
		const workers, perWorker = 12, 80
		var cut atomic.Int64
		var wg sync.WaitGroup
		start := make(chan struct{})
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(w), uint64(round)))
				d := dbs[w%len(dbs)]
				big, writes, counters := d.Collection("big"), d.Collection("writes"), d.Collection("counters")
				<-start
				for i := range perWorker {
					limit := time.Duration(1+rng.IntN(maxDeadline)) * time.Millisecond
					opCtx, cancel := context.WithTimeout(ctx, limit)
					if rng.IntN(4) == 0 {
						opCtx, cancel = context.WithCancel(ctx)
						time.AfterFunc(limit, cancel)
					}
					var err error
					switch i % 6 {
					case 0: // a scan that matches late
						err = big.FindOne(opCtx, bson.D{{Key: "pad", Value: fmt.Sprintf("%0200d", bigDocs-1-rng.IntN(10))}}).Err()
					case 1: // a cursor left mid-way: its getMore may be cut, its kill may never come
						var cur *mongo.Cursor
						cur, err = big.Find(opCtx, bson.D{{Key: "k", Value: rng.IntN(97)}}, options.Find().SetBatchSize(2))
						if err == nil {
							_ = cur.Next(opCtx)
							if rng.IntN(2) == 0 {
								err = cur.Close(ctx)
							}
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
		t.Logf("storm of 1–%d ms: %d commands, %d cut; %d of %d increments acknowledged so far", maxDeadline, workers*perWorker, cut.Load(), acked.Load(), tried.Load())
		if cut.Load() == 0 {
			t.Fatal("no command was cut: the storm did not overload anything")
		}

		// Afterwards, with generous deadlines: writes to several collections,
		// from each client.
		for i, d := range dbs {
			for _, name := range []string{"writes", "big", "counters", fmt.Sprintf("fresh%d", round)} {
				if _, err := d.Collection(name).InsertOne(ctx, bson.D{{Key: "after", Value: round}, {Key: "client", Value: i}}); err != nil {
					t.Fatalf("round %d: client %d: insert into %s after the storm: %v", round, i, name, err)
				}
			}
		}
		var doc struct{ N int64 }
		if err := counters.FindOne(ctx, bson.D{{Key: "_id", Value: "n"}}).Decode(&doc); err != nil {
			t.Fatal(err)
		}
		// An increment cut by its deadline may or may not have been
		// applied; an acknowledged one must have been.
		if doc.N < acked.Load() || doc.N > tried.Load() {
			t.Fatalf("round %d: n = %d: %d increments acknowledged, %d tried", round, doc.N, acked.Load(), tried.Load())
		}
		// And concurrent increments from every client all count.
		const n = 30
		testkit.Race(t, n, func(i int) error {
			tried.Add(1)
			acked.Add(1)
			return dbs[i%len(dbs)].Collection("counters").FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: "n"}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}).Err()
		}).Expect(t)
		before := doc.N
		if err := counters.FindOne(ctx, bson.D{{Key: "_id", Value: "n"}}).Decode(&doc); err != nil {
			t.Fatal(err)
		}
		if doc.N != before+n {
			t.Fatalf("round %d: n = %d after %d concurrent increments from %d", round, doc.N, n, before)
		}
	}
}
