package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/regulars/regulars/game"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/member/auth"

	"github.com/regulars/regulars/internal/testkit"
)

// BenchmarkPurchaseLatency answers: up to how many members does a purchase
// still answer quickly? It grows one database through the sizes listed in
// BENCH_MEMBERS (default 100), each member with a welcome notification and
// one earlier purchase, then at each size times purchases of existing
// members reported one at a time through the API with the service key
// (HTTP, GraphQL, ledger, tiers, badges, leaderboards, notification), and
// reports p50 and p99 in milliseconds. The fill is not timed; it goes
// through the domain services, so it costs what the purchases cost.
//
//	BENCH_MEMBERS=250,500,1000,2000 go test ./server -run '^$' -bench PurchaseLatency -benchtime 100x -timeout 60m
//
// Without MONGODB_URI this measures the embedded database.
func BenchmarkPurchaseLatency(b *testing.B) {
	sizes := []int{100}
	if v := os.Getenv("BENCH_MEMBERS"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				b.Fatalf("BENCH_MEMBERS=%q: want sizes such as 500,1000,2000", v)
			}
			sizes = append(sizes, n)
		}
	}
	a := startApp(b, map[string]string{"RATE_LIMIT_IP_RPS": "1000000", "RATE_LIMIT_IP_BURST": "1000000", "HTTP_MAX_CONNS_PER_IP": "1000000", "LOG_LEVEL": "error"})
	a.setProgram(b)
	ctx := context.Background()
	// Sign-ups hash passwords at the lowest cost: the fill measures nothing.
	members := member.New(a.mongo.Database(a.Config.MongoDatabase), nil)
	signin, err := auth.New(a.mongo.Database(a.Config.MongoDatabase), members, auth.Config{JWTSecret: []byte(strings.Repeat("s", 32)), BcryptCost: bcrypt.MinCost})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var ids []*member.Member
	fill := func(b *testing.B, n int) {
		start := time.Now()
		for len(ids) < n {
			i := len(ids)
			s, err := signin.SignUp(ctx, member.SignUp{Email: fmt.Sprintf("m%06d@bench.example", i), Password: "correct horse battery",
				DisplayName: fmt.Sprint("Member ", i), Timezone: "UTC"})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := a.game.Rooms().Referrals.Enroll(ctx, s.Member, nil); err != nil {
				b.Fatal(err)
			}
			if _, err := a.inbox.Send(ctx, inbox.Message{MemberID: s.Member.ID, Kind: inbox.KindWelcome, Key: "welcome", Title: "Welcome", Body: "You are in."}); err != nil {
				b.Fatal(err)
			}
			if _, err := a.game.RecordActivity(ctx, game.ActivityInput{MemberID: s.Member.ID, Kind: program.ActivityPurchase,
				ExternalID: fmt.Sprint("fill-", i), AmountMinor: int64(500 + rng.IntN(6000)), Currency: "USD",
				OccurredAt: time.Now().Add(-time.Duration(rng.IntN(60*24)) * time.Hour)}); err != nil {
				b.Fatal(err)
			}
			ids = append(ids, s.Member)
		}
		b.Logf("filled to %d members in %s", n, time.Since(start).Round(time.Second))
	}
	client := &http.Client{}
	seq := 0
	for _, n := range sizes {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			fill(b, n)
			var lat testkit.Latencies
			b.ResetTimer()
			for range b.N {
				seq++
				m := ids[rng.IntN(len(ids))]
				body := testkit.Must(json.Marshal(map[string]any{"query": recordActivity,
					"variables": purchaseVars(base64.RawURLEncoding.EncodeToString([]byte("Member:"+m.ID.Hex())), fmt.Sprint("timed-", seq), 1000+rng.IntN(5000))}))(b)
				start := time.Now()
				req := testkit.Must(http.NewRequest(http.MethodPost, a.url, bytes.NewReader(body)))(b)
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "ApiKey "+testAPIKey)
				res, err := client.Do(req)
				if err != nil || res.StatusCode != 200 {
					b.Fatalf("purchase: %v %v", err, res)
				}
				var r gqlResponse
				raw, err := readBody(res)
				if err == nil {
					err = json.Unmarshal(raw, &r)
				}
				if err != nil || len(r.Errors) > 0 {
					b.Fatalf("purchase: %v %+v", err, r.Errors)
				}
				lat.Add(time.Since(start))
			}
			lat.Report(b, "", "purchases/s")
		})
	}
}
