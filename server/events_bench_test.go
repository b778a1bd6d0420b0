package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/regulars/regulars/graph/relay"

	"github.com/fasthttp/websocket"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/community/events/rsvp"
	"github.com/regulars/regulars/internal/testkit"
	"github.com/regulars/regulars/member"
)

// benchMembers stores n members directly (signing them up would measure
// password hashing) with game accounts; their access tokens.
func benchMembers(b *testing.B, a *app, n int) ([]*member.Member, []string) {
	b.Helper()
	ctx := context.Background()
	ms := make([]*member.Member, n)
	tokens := make([]string, n)
	docs := make([]any, n)
	for i := range n {
		ms[i] = &member.Member{ID: bson.NewObjectID(), Email: fmt.Sprintf("m%d@example.com", i), DisplayName: "Member", Timezone: "UTC",
			Roles: []member.Role{member.RoleCustomer}, CreatedAt: time.Now()}
		docs[i] = ms[i]
		var err error
		if tokens[i], err = a.auth.AccessToken(ms[i]); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := a.mongo.Database(a.Config.MongoDatabase).Collection("members").InsertMany(ctx, docs); err != nil {
		b.Fatal(err)
	}
	for _, m := range ms {
		if _, err := a.game.Rooms().Referrals.Enroll(ctx, m, nil); err != nil {
			b.Fatal(err)
		}
	}
	return ms, tokens
}

// BenchmarkEventDrop: 2,000 members (BENCH_MEMBERS) RSVP at once to one
// event of a quarter as many seats (BENCH_CLIENTS at a time, default 8, over HTTP and GraphQL, each answer
// with its status and waitlist position). Reported: the time until every
// member had an answer (all-answers-s), the answers' p50 and p99, and the
// seats held afterwards (held, which must equal the capacity).
//
//	go test ./server -run '^$' -bench EventDrop -benchtime 1x
//	BENCH_MEMBERS=400 go test ./server -run '^$' -bench EventDrop -benchtime 1x
//	MONGODB_URI=mongodb://localhost:27017 BENCH_CLIENTS=64 go test ./server -run '^$' -bench EventDrop -benchtime 1x
func BenchmarkEventDrop(b *testing.B) {
	members, clients := 2000, 8
	if v, err := strconv.Atoi(os.Getenv("BENCH_CLIENTS")); err == nil && v > 0 {
		clients = v
	}
	if v, err := strconv.Atoi(os.Getenv("BENCH_MEMBERS")); err == nil && v > 0 {
		members = v
	}
	seats := members / 4
	a := startApp(b, map[string]string{"RATE_LIMIT_IP_RPS": "1000000", "RATE_LIMIT_IP_BURST": "1000000", "HTTP_MAX_CONNS_PER_IP": "1000000",
		"RATE_LIMIT_MEMBER_RPS": "1000", "RATE_LIMIT_MEMBER_BURST": "1000", "LOG_LEVEL": "error"})
	_, tokens := benchMembers(b, a, members)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	for range b.N {
		b.StopTimer()
		id := a.publishedEvent(b, func(in map[string]any) { in["capacity"], in["guestsPerMember"] = seats, 0 })
		var lat testkit.Latencies
		var next, failed atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		b.StartTimer()
		for range clients {
			wg.Go(func() {
				for {
					i := next.Add(1) - 1
					if i >= int64(members) {
						return
					}
					t0 := time.Now()
					raw, err := json.Marshal(map[string]any{"query": rsvpMutation, "variables": map[string]any{"id": id, "k": "drop"}})
					if err != nil {
						failed.Add(1)
						return
					}
					req, err := http.NewRequest(http.MethodPost, a.url, bytes.NewReader(raw))
					if err != nil {
						failed.Add(1)
						return
					}
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", "Bearer "+tokens[i])
					res, err := client.Do(req)
					var body []byte
					if err == nil {
						body, err = readBody(res)
					}
					if err != nil || !bytes.Contains(body, []byte(`"status":"`)) {
						failed.Add(1)
						continue
					}
					lat.Add(time.Since(t0))
				}
			})
		}
		wg.Wait()
		all := time.Since(start)
		b.StopTimer()
		eid, err := relay.DecodeID("Event", "id", id)
		if err != nil {
			b.Fatal(err)
		}
		e, err := a.events.Get(context.Background(), eid)
		if err != nil {
			b.Fatal(err)
		}
		counts, err := a.attendees.CountsOf(context.Background(), eid)
		if err != nil {
			b.Fatal(err)
		}
		if failed.Load() > 0 || e.Taken != seats || counts.Confirmed != seats || counts.Waitlisted != members-seats {
			b.Fatalf("failed %d, taken %d, confirmed %d, waitlisted %d", failed.Load(), e.Taken, counts.Confirmed, counts.Waitlisted)
		}
		b.ReportMetric(all.Seconds(), "all-answers-s")
		b.ReportMetric(float64(e.Taken), "held")
		lat.Report(b, "", "rsvps/s")
	}
}

// BenchmarkEventSeatOffer: the time from a confirmed member's cancelRsvp
// request to the next waitlisted member receiving EVENT_SEAT_OFFERED over
// their WebSocket, one event of one seat with b.N+1 members in line, each
// holding a socket. Each offer is claimed, and its member cancels next.
//
//	go test ./server -run '^$' -bench EventSeatOffer -benchtime 100x
func BenchmarkEventSeatOffer(b *testing.B) {
	a := startApp(b, map[string]string{"RATE_LIMIT_IP_RPS": "1000000", "RATE_LIMIT_IP_BURST": "1000000", "HTTP_MAX_CONNS_PER_IP": "1000000", "WS_MAX_PER_IP": "1000000", "LOG_LEVEL": "error"})
	n := b.N + 1
	ms, tokens := benchMembers(b, a, n)
	id := a.publishedEvent(b, func(in map[string]any) { in["capacity"], in["guestsPerMember"] = 1, 0 })
	answer := func(i int, q string, vars map[string]any) {
		r, err := a.post("Bearer "+tokens[i], q, vars)
		if err != nil || len(r.Errors) > 0 {
			b.Fatalf("%s: %v %+v", q, err, r)
		}
	}
	for i := range n {
		answer(i, rsvpMutation, map[string]any{"id": id, "k": "k"})
	}
	eid, err := relay.DecodeID("Event", "id", id)
	if err != nil {
		b.Fatal(err)
	}
	// The offers go out in waitlist order.
	order := []bson.ObjectID{}
	for _, st := range []rsvp.Status{rsvp.Confirmed, rsvp.Waitlisted} {
		rs, _, err := a.attendees.Attendees(context.Background(), eid, st, "", n)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range rs {
			order = append(order, r.MemberID)
		}
	}
	index := map[bson.ObjectID]int{}
	for i, m := range ms {
		index[m.ID] = i
	}
	sockets := make([]*testkit.WSClient, n)
	for k, m := range order {
		i := index[m]
		c := a.dialWith(b, websocket.Dialer{})
		c.Init("Bearer " + tokens[i])
		c.Send("subscribe", "n", map[string]any{"query": `subscription { notifications { kind } }`})
		testkit.Eventually(b, 5*time.Second, func() bool { return a.broker.Subscribers(m) == 1 }, "no subscription")
		sockets[k] = c
	}
	var lat testkit.Latencies
	b.ResetTimer()
	for k := range b.N {
		holder, next := index[order[k]], index[order[k+1]]
		t0 := time.Now()
		answer(holder, `mutation($id: ID!) { cancelRsvp(eventId: $id) { status } }`, map[string]any{"id": id})
		if _, err := sockets[k+1].NextContaining([]byte("EVENT_SEAT_OFFERED"), 10*time.Second); err != nil {
			b.Fatal(err)
		}
		lat.Add(time.Since(t0))
		b.StopTimer()
		answer(next, `mutation($id: ID!) { claimSeat(eventId: $id) { status } }`, map[string]any{"id": id})
		b.StartTimer()
	}
	lat.Report(b, "offer-", "")
}
