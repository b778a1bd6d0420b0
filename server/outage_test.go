package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/internal/mongotest"
	"github.com/regulars/regulars/internal/testkit"
)

// behind returns the URI of the test database with its host replaced by a
// proxy that can cut the path to it.
func behind(t *testing.T) (*testkit.Proxy, string) {
	t.Helper()
	u := testkit.Must(url.Parse(mongotest.URI(t)))(t)
	if strings.Contains(u.Host, ",") || u.Scheme != "mongodb" {
		t.Skipf("MONGODB_URI %s names several hosts; the fault tests need one", u.Redacted())
	}
	p := testkit.NewProxy(t, u.Host)
	u.Host = p.Addr()
	q := u.Query()
	// Through the proxy the driver sees one server, as it would a
	// standalone; a replica set's members would answer with their own
	// addresses and bypass it.
	q.Set("directConnection", "true")
	u.RawQuery = q.Encode()
	return p, u.String()
}

// outageOp is one request of the traffic and how it ended.
type outageOp struct {
	worker, seq int
	notify      bool   // sendNotification, else recordActivity
	key         string // the activity's externalId (its idempotency key) or the notification's title
	vars        map[string]any
	acked       bool
	code        string // extensions.code of a refusal, or "transport: ..."
	took        time.Duration
	phase       string
}

// The database goes away under traffic and comes back. While it is away
// every request is answered, within the operation deadline, with
// UNAVAILABLE; /readyz answers 503; goroutines do not pile up and the open
// socket stays open. When it returns, the server recovers by itself, and
// nothing acknowledged is lost or doubled: each activity answered OK is
// recorded once (the unacknowledged ones, retried with their keys, once
// too), and every notification acknowledged reaches the live socket and a
// subscriber resuming from a cursor taken before the outage, once each and
// in the order each sender sent them.
func TestDatabaseOutageUnderTraffic(t *testing.T) {
	proxy, uri := behind(t)
	const deadline = 10 * time.Second // MONGODB_TIMEOUT's default
	// The traffic is paced below the rate limits: refusals here are the
	// database's.
	a := startApp(t, map[string]string{"MONGODB_URI": uri, "MONGODB_TIMEOUT": deadline.String(),
		"RATE_LIMIT_IP_RPS": "1000", "RATE_LIMIT_IP_BURST": "1000"})
	a.setProgram(t)
	ann := a.signUp(t, "ann@example.com")
	bob := a.signUp(t, "bob@example.com")

	// A cursor from before anything the traffic sends.
	var first struct{ ID, Cursor string }
	live := a.subscribed(t, ann, `subscription { notifications { id cursor title } }`)
	a.service(t, `mutation($id: ID!) { sendNotification(memberId: $id, title: "start", body: "b") { id } }`,
		map[string]any{"id": ann.Member.ID}).decode(t, "sendNotification", &struct{}{})
	var msg struct {
		Data struct {
			Notifications struct{ ID, Cursor, Title string }
		}
	}
	if err := json.Unmarshal(live.Expect("next").Payload, &msg); err != nil {
		t.Fatal(err)
	}
	first.ID, first.Cursor = msg.Data.Notifications.ID, msg.Data.Notifications.Cursor

	// The live socket is read throughout (answering pings, as an app does).
	var liveMu sync.Mutex
	var liveTitles []string
	liveDone := make(chan error, 1)
	go func() {
		for {
			m, err := live.Next(10 * time.Minute) // until the test closes it
			if err != nil {
				liveDone <- err
				return
			}
			var n struct {
				Data struct{ Notifications struct{ Title string } }
			}
			if m.Type != "next" || json.Unmarshal(m.Payload, &n) != nil {
				liveDone <- fmt.Errorf("live socket: %s %s", m.Type, m.Payload)
				return
			}
			liveMu.Lock()
			liveTitles = append(liveTitles, n.Data.Notifications.Title)
			liveMu.Unlock()
		}
	}()

	// Traffic: workers alternate purchases for bob and notifications to
	// ann, each answer awaited, until told to stop.
	const workers = 4
	var phase atomic.Value
	phase.Store("before")
	began := time.Now()
	mark := func(p string) {
		t.Logf("%6.2fs %s", time.Since(began).Seconds(), p)
		phase.Store(p)
	}
	var mu sync.Mutex
	var ops []outageOp
	stop := make(chan struct{})
	var traffic sync.WaitGroup
	service := "ApiKey " + testAPIKey
	for w := range workers {
		traffic.Go(func() {
			pace := time.NewTicker(100 * time.Millisecond) // at most 10 requests/s a worker
			defer pace.Stop()
			for seq := 0; ; seq++ {
				select {
				case <-stop:
					return
				case <-pace.C:
				}
				op := outageOp{worker: w, seq: seq, notify: seq%2 == 1, phase: phase.Load().(string)}
				start := time.Now()
				var r *gqlResponse
				var err error
				if op.notify {
					op.key = fmt.Sprintf("w%d-%03d", w, seq)
					r, err = a.post(service, `mutation($id: ID!, $t: String!) { sendNotification(memberId: $id, title: $t, body: "b") { id } }`,
						map[string]any{"id": ann.Member.ID, "t": op.key})
				} else {
					op.key = fmt.Sprintf("order-w%d-%03d", w, seq)
					op.vars = purchaseVars(bob.Member.ID, op.key, 1000)
					r, err = a.post(service, recordActivity, op.vars)
				}
				op.took = time.Since(start)
				switch {
				case err != nil:
					op.code = "transport: " + err.Error()
				case len(r.Errors) > 0:
					op.code = r.code()
				default:
					op.acked = true
				}
				mu.Lock()
				ops = append(ops, op)
				mu.Unlock()
			}
		})
	}
	count := func(f func(outageOp) bool) int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, op := range ops {
			if f(op) {
				n++
			}
		}
		return n
	}
	readyz := func() int {
		res, err := http.Get("http://" + a.Addr() + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := readBody(res); err != nil {
			t.Fatal(err)
		}
		return res.StatusCode
	}

	testkit.Eventually(t, 30*time.Second, func() bool {
		return count(func(op outageOp) bool { return op.acked }) >= 2*workers
	}, "the traffic never got going")
	goroutinesBefore := runtime.NumGoroutine()

	proxy.Cut()
	mark("during")
	testkit.Eventually(t, 20*time.Second, func() bool { return readyz() == http.StatusServiceUnavailable },
		"readyz never answered 503 with the database away")
	mark("down")
	goroutinesDuring := 0
	testkit.Eventually(t, 30*time.Second, func() bool {
		goroutinesDuring = max(goroutinesDuring, runtime.NumGoroutine())
		return count(func(op outageOp) bool { return op.phase == "down" }) >= 5*workers
	}, "too few requests answered while the database was away")

	proxy.Restore()
	mark("recovering")
	testkit.Eventually(t, 30*time.Second, func() bool { return readyz() == http.StatusOK },
		"readyz never answered 200 again: the server did not recover by itself")
	mark("after")
	testkit.Eventually(t, 30*time.Second, func() bool {
		return count(func(op outageOp) bool { return op.phase == "after" && op.acked }) >= 2*workers
	}, "requests never succeeded again after the database returned")
	close(stop)
	traffic.Wait()
	goroutinesAfter := 0
	testkit.Eventually(t, 30*time.Second, func() bool {
		goroutinesAfter = runtime.NumGoroutine()
		return goroutinesAfter <= goroutinesBefore+workers
	}, "goroutines did not come back down after the outage: %d before, %d after", goroutinesBefore, goroutinesAfter)

	// While the database was known to be away, every request was refused
	// with UNAVAILABLE within the operation deadline (the 2 s beyond it
	// allow for a busy machine, not for a wait on the database).
	for _, op := range ops {
		if op.phase == "down" && (op.acked || op.code != "UNAVAILABLE" || op.took > deadline+2*time.Second) {
			t.Errorf("while the database was away, %s: acked %v, code %q, after %v; want UNAVAILABLE within %v", op.key, op.acked, op.code, op.took, deadline)
		}
		if !op.acked && op.code != "UNAVAILABLE" {
			t.Logf("%s, %s: %q after %v", op.phase, op.key, op.code, op.took)
		}
		if !op.acked && strings.HasPrefix(op.code, "transport") {
			t.Errorf("%s: no GraphQL answer: %s", op.key, op.code)
		}
	}
	t.Logf("%d requests: %d acknowledged, %d answered while down; goroutines %d before the cut, at most %d while down",
		len(ops), count(func(op outageOp) bool { return op.acked }), count(func(op outageOp) bool { return op.phase == "down" }), goroutinesBefore, goroutinesDuring)
	// Requests wait for their answers, so a refused request that left
	// something behind (a goroutine waiting on the database) would show
	// here as growth with the number of refusals, which run to hundreds.
	if goroutinesDuring > goroutinesBefore+workers*4 {
		t.Errorf("goroutines: %d before the cut, %d while the database was away", goroutinesBefore, goroutinesDuring)
	}

	mark("retries")
	// The unacknowledged purchases, retried with their keys, are recorded
	// now (or answer as replays where the write landed before the cut).
	for _, op := range ops {
		if !op.notify && !op.acked {
			a.service(t, recordActivity, op.vars).decode(t, "recordActivity", &activityResult{})
		}
	}
	db := a.mongo.Database(a.Config.MongoDatabase)
	recorded := map[string]int{}
	cur := testkit.Must(db.Collection("activities").Find(context.Background(), bson.D{{Key: "externalId", Value: bson.D{{Key: "$regex", Value: "^order-w"}}}}))(t)
	var docs []struct {
		ExternalID string `bson:"externalId"`
	}
	if err := cur.All(context.Background(), &docs); err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		recorded[d.ExternalID]++
	}
	var purchases int
	for _, op := range ops {
		if op.notify {
			continue
		}
		purchases++
		if n := recorded[op.key]; n != 1 {
			t.Errorf("purchase %s (acknowledged %v) recorded %d times", op.key, op.acked, n)
		}
	}
	if len(recorded) != purchases {
		t.Errorf("%d purchases recorded, %d sent", len(recorded), purchases)
	}
	var pts struct{ Points struct{ Balance int } }
	a.do(t, bob.bearer(), `{ me { points { balance } } }`, nil).decode(t, "me", &pts)
	t.Logf("%d purchases, bob's balance %d", purchases, pts.Points.Balance)

	// Every acknowledged notification, in each sender's order.
	var acked []string
	for _, op := range ops {
		if op.notify && op.acked {
			acked = append(acked, op.key)
		}
	}
	inOrder := func(who string, titles []string) {
		t.Helper()
		seen := map[string]int{}
		last := map[string]string{} // worker → last title seen
		for _, ti := range titles {
			seen[ti]++
			w := strings.SplitN(ti, "-", 2)[0]
			if ti <= last[w] {
				t.Errorf("%s: %s after %s", who, ti, last[w])
			}
			last[w] = ti
		}
		for _, k := range acked {
			if seen[k] != 1 {
				t.Errorf("%s: acknowledged notification %s received %d times", who, k, seen[k])
			}
		}
		for k, n := range seen {
			if n > 1 {
				t.Errorf("%s: notification %s received %d times", who, k, n)
			}
		}
	}
	rc := a.dial(t)
	rc.Init(ann.bearer())
	rc.Send("subscribe", "r", map[string]any{"query": `subscription($a: String) { notifications(after: $a) { id title } }`,
		"variables": map[string]any{"a": first.Cursor}})
	var resumed []string
	// The traffic's notifications stored, acknowledged or not.
	stored := testkit.Count(t, db.Collection("notifications"), bson.D{{Key: "memberId", Value: memberObjectID(t, ann.Member.ID)},
		{Key: "title", Value: bson.D{{Key: "$regex", Value: "^w[0-9]"}}}})
	for range stored {
		var n struct {
			Data struct{ Notifications struct{ ID, Title string } }
		}
		if err := json.Unmarshal(rc.Expect("next").Payload, &n); err != nil {
			t.Fatal(err)
		}
		resumed = append(resumed, n.Data.Notifications.Title)
	}
	inOrder("resumed subscriber", resumed)
	mark("resumed")
	// The live socket stayed open and caught up by itself.
	testkit.Eventually(t, 30*time.Second, func() bool {
		liveMu.Lock()
		defer liveMu.Unlock()
		return len(liveTitles) >= len(resumed)
	}, "the live socket missed notifications")
	select {
	case err := <-liveDone:
		t.Fatalf("the live socket ended: %v", err)
	default:
	}
	liveMu.Lock()
	got := slices.Clone(liveTitles)
	liveMu.Unlock()
	inOrder("live socket", got)
}
