package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/internal/mongotest"
	"github.com/regulars/regulars/internal/testkit"
)

// BenchmarkIngestion measures recordActivity end to end (HTTP, GraphQL,
// ledger) against MONGODB_URI, beside the raw rate of single-document
// inserts into the same database in the same run. Run with:
//
//	MONGODB_URI=mongodb://localhost:27017 go test ./server -run '^$' -bench Ingestion -benchtime 2000x
//
// Without MONGODB_URI it runs on the embedded database, whose client pool
// of one connection serializes every command; BENCH_POOL_SIZE=8 lifts that
// pool to measure what the serializing costs (a measurement only: a larger
// pool breaks single-document atomicity there):
//
//	go test ./server -run '^$' -bench Ingestion -benchtime 200x
//	BENCH_POOL_SIZE=8 go test ./server -run '^$' -bench Ingestion -benchtime 200x
func BenchmarkIngestion(b *testing.B) {
	env := map[string]string{"RATE_LIMIT_IP_RPS": "1000000", "RATE_LIMIT_IP_BURST": "1000000", "HTTP_MAX_CONNS_PER_IP": "1000000", "LOG_LEVEL": "error"}
	if n := os.Getenv("BENCH_POOL_SIZE"); n != "" && os.Getenv("MONGODB_URI") == "" {
		uri := mongotest.URI(b)
		if !strings.Contains(uri, "maxPoolSize=1") {
			b.Fatalf("embedded URI %s has no maxPoolSize=1 to replace", uri)
		}
		env["MONGODB_URI"] = strings.Replace(uri, "maxPoolSize=1", "maxPoolSize="+n, 1)
	}
	a := startApp(b, env)
	a.setProgram(b)
	const members = 200
	ids := make([]string, members)
	for i := range ids {
		ids[i] = a.signUp(b, fmt.Sprintf("bench%d@example.com", i)).Member.ID
	}
	body := func(i int64) ([]byte, error) {
		return json.Marshal(map[string]any{"query": recordActivity, "variables": purchaseVars(ids[i%members], fmt.Sprint("bench-", i), 1999)})
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

	b.Run("graphql", func(b *testing.B) {
		var n, failed atomic.Int64
		var lat testkit.Latencies
		b.SetParallelism(8)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := n.Add(1)
				start := time.Now()
				raw, err := body(i)
				if err != nil {
					b.Error(err)
					return
				}
				req, err := http.NewRequest(http.MethodPost, a.url, bytes.NewReader(raw))
				if err != nil {
					b.Error(err)
					return
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "ApiKey "+testAPIKey)
				res, err := client.Do(req)
				var answer []byte
				if err == nil {
					answer, err = readBody(res)
				}
				if err != nil || res.StatusCode != 200 {
					b.Errorf("request %d: %v %v", i, err, res)
					return
				}
				if r := (gqlResponse{}); json.Unmarshal(answer, &r) != nil || len(r.Errors) > 0 {
					failed.Add(1)
				}
				lat.Add(time.Since(start))
			}
		})
		lat.Report(b, "", "activities/s")
		b.ReportMetric(0, "ns/op")
		// Answers that were errors (INTERNAL past the operation deadline).
		b.ReportMetric(float64(failed.Load()), "errors")
	})

	b.Run("raw-insert", func(b *testing.B) {
		coll := a.mongo.Database(a.Config.MongoDatabase).Collection("bench_raw")
		var lat testkit.Latencies
		b.SetParallelism(8)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				start := time.Now()
				if _, err := coll.InsertOne(context.Background(), bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "amountMinor", Value: 1999}, {Key: "at", Value: start}}); err != nil {
					b.Error(err)
					return
				}
				lat.Add(time.Since(start))
			}
		})
		lat.Report(b, "", "inserts/s")
		b.ReportMetric(0, "ns/op")
	})
}
