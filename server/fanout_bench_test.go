package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game"
	"github.com/regulars/regulars/internal/mongotest"
	"github.com/regulars/regulars/internal/testkit"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/member/auth"
)

// BenchmarkFanout publishes an offer to N members subscribed over
// WebSocket to a separate Regulars process, then broadcasts to N clients of
// a bare WebSocket server on the same library (server/wsbaseline) in the
// same run. It reports the time to the last client, per-client latency and
// the server's resident memory per idle connection. Run with:
//
//	MONGODB_URI=mongodb://localhost:27017 BENCH_WS_CLIENTS=10000 go test ./server -run '^$' -bench Fanout -benchtime 1x -timeout 170m
//
// BENCH_WS_IDLE_ONLY=1 measures the idle connections alone: no member is
// enrolled and nothing is sent, so a database that scans (the embedded
// one) does not make a large run last hours.
func BenchmarkFanout(b *testing.B) {
	n := 10000
	if v := os.Getenv("BENCH_WS_CLIENTS"); v != "" {
		n = testkit.Must(strconv.Atoi(v))(b)
	}
	idleOnly := os.Getenv("BENCH_WS_IDLE_ONLY") != ""
	dir := b.TempDir()
	for _, pkg := range []string{"./", "./wsbaseline"} {
		out := filepath.Join(dir, filepath.Base(filepath.Clean(pkg)))
		if pkg == "./" {
			out = filepath.Join(dir, "regulars")
		}
		if msg, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
			b.Fatalf("build %s: %v\n%s", pkg, err, msg)
		}
	}

	b.Run(fmt.Sprintf("regulars/clients=%d", n), func(b *testing.B) {
		db := mongotest.Database(b)
		secret := strings.Repeat("b", 32)
		addr := freeAddr(b)
		proc := startProcess(b, filepath.Join(dir, "regulars"), nil, []string{
			"MONGODB_URI=" + mongotest.URI(b), "MONGODB_DATABASE=" + db.Name(), "HTTP_ADDR=" + addr,
			"JWT_SECRET=" + secret, "SERVICE_API_KEYS=" + testAPIKey, "LOG_LEVEL=error",
			"RATE_LIMIT_IP_RPS=1000000", "RATE_LIMIT_IP_BURST=1000000", "RATE_LIMIT_MEMBER_RPS=1000", "RATE_LIMIT_MEMBER_BURST=1000", "WS_MAX_PER_IP=1000000", "HTTP_MAX_CONNS_PER_IP=1000000",
		})
		waitReady(b, "http://"+addr+"/readyz")

		// Seed members directly: signing 10,000 up through bcrypt would
		// measure password hashing, not fan-out.
		// Tokens outlive the run: an expired one closes its socket.
		members := member.New(db, nil)
		signin, err := auth.New(db, members, auth.Config{JWTSecret: []byte(secret), AccessTTL: 3 * time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		g := game.New(db, members, nil)
		tokens := make([]string, n)
		var docs []any
		ms := make([]*member.Member, n)
		for i := range n {
			ms[i] = &member.Member{ID: bson.NewObjectID(), Email: fmt.Sprintf("fan%d@example.com", i), DisplayName: "Fan", Timezone: "UTC",
				Roles: []member.Role{member.RoleCustomer}, CreatedAt: time.Now()}
			docs = append(docs, ms[i])
			if tokens[i], err = signin.AccessToken(ms[i]); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := db.Collection("members").InsertMany(context.Background(), docs); err != nil {
			b.Fatal(err)
		}
		for _, m := range ms {
			if idleOnly {
				break
			}
			if _, err := g.Rooms().Referrals.Enroll(context.Background(), m, nil); err != nil {
				b.Fatal(err)
			}
		}

		metrics := "http://" + addr + "/metrics"
		beforeMem := memStats(b, metrics)
		clients := measureIdle(b, n, proc.Process.Pid, metrics, "ws://"+addr+"/graphql", []string{"graphql-transport-ws"}, func(i int, c *websocket.Conn) error {
			if err := c.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"authorization": "Bearer " + tokens[i]}}); err != nil {
				return err
			}
			if _, _, err := c.ReadMessage(); err != nil { // connection_ack
				return err
			}
			return c.WriteJSON(map[string]any{"id": "n", "type": "subscribe", "payload": map[string]any{"query": "subscription { notifications { kind title createdAt } }"}})
		})
		logMemStats(b, beforeMem, memStats(b, metrics), n)
		if idleOnly {
			clients.close(b)
			return
		}

		start := time.Now()
		publishOffer(b, "http://"+addr+"/graphql")
		lat, deliver := clients.await(b, start, 2*time.Hour)
		report(b, lat)
		// From each notification being stored to its client: the part of
		// the fan-out that is not the publishing job's writes.
		deliver.Report(b, "deliver-", "")
		clients.close(b)
	})

	b.Run(fmt.Sprintf("baseline/clients=%d", n), func(b *testing.B) {
		addr := freeAddr(b)
		proc := startProcess(b, filepath.Join(dir, "wsbaseline"), []string{"-addr", addr}, nil)
		waitReady(b, "http://"+addr+"/ws")
		metrics := "http://" + addr + "/metrics"
		clients := measureIdle(b, n, proc.Process.Pid, metrics, "ws://"+addr+"/ws", nil, func(int, *websocket.Conn) error { return nil })
		if idleOnly {
			clients.close(b)
			return
		}
		start := time.Now()
		res, err := http.Post("http://"+addr+"/broadcast", "application/json", strings.NewReader(`{"kind":"OFFER_AVAILABLE"}`))
		if err == nil {
			_, err = readBody(res)
		}
		if err != nil {
			b.Fatal(err)
		}
		lat, _ := clients.await(b, start, time.Minute)
		report(b, lat)
		clients.close(b)
	})
}

func report(b *testing.B, lat *testkit.Latencies) {
	b.ReportMetric(float64(lat.Quantile(1).Milliseconds()), "last-ms")
	lat.Report(b, "", "")
	b.ReportMetric(0, "ns/op")
}

// measureIdle connects n clients in two halves, each left 2 s to settle,
// and reports the server's resident memory and goroutines per idle
// connection twice: over all n, from before the first (KB/conn,
// goroutines/conn), and over the second half alone (KB/conn-marginal,
// goroutines/conn-marginal). The second is what one more socket costs a
// server already holding sockets: what the process grows by once, whatever
// the number (the collector's headroom over its own heap, the database
// driver's pool filled by the connecting burst, idle HTTP workers), is
// paid in the first half and counts in the first figure only.
//
// Then, unless BENCH_WS_SETTLE=0, it reports the same figure once the
// sockets have been idle for a while (KB/conn-settled, goroutines/conn-
// settled): both ends are taken after settle (default 130 s, past the Go
// runtime's forced collection every 2 minutes), before connecting and
// after, each the highest of 20 samples a second apart. Two seconds after
// a burst of connections, resident memory still holds the garbage the
// burst left up to the collector's goal, which the runtime gives back only
// after a collection that follows the burst; an idle server collects only
// when forced to.
func measureIdle(b *testing.B, n, pid int, metrics, url string, protos []string, setup func(int, *websocket.Conn) error) *clientSet {
	cs := newClientSet(n)
	at := func() (kb, g int64) { return rssKB(b, pid), goroutines(b, metrics) }
	settle := 130 * time.Second
	if v := os.Getenv("BENCH_WS_SETTLE"); v != "" {
		settle = testkit.Must(time.ParseDuration(v))(b)
	}
	settled := func() (kb, g int64) {
		time.Sleep(settle)
		for range 20 {
			k, gs := at()
			kb, g = max(kb, k), max(g, gs)
			time.Sleep(time.Second)
		}
		return kb, g
	}
	var settledBefore, settledBeforeG int64
	if settle > 0 {
		settledBefore, settledBeforeG = settled()
	}
	before, beforeG := at()
	cs.dial(b, 0, n/2, url, protos, []byte("OFFER_AVAILABLE"), setup)
	time.Sleep(2 * time.Second) // let every subscription register
	mid, midG := at()
	cs.dial(b, n/2, n, url, protos, []byte("OFFER_AVAILABLE"), setup)
	time.Sleep(2 * time.Second)
	idle, idleG := at()
	per := func(from, to int64, k int) float64 { return float64(to-from) / float64(k) }
	kb, g := per(before, idle, n), per(beforeG, idleG, n)
	marginalKB, marginalG := per(mid, idle, n-n/2), per(midG, idleG, n-n/2)
	b.ReportMetric(kb, "KB/conn")
	b.ReportMetric(g, "goroutines/conn")
	b.ReportMetric(marginalKB, "KB/conn-marginal")
	b.ReportMetric(marginalG, "goroutines/conn-marginal")
	// Logged too, so a run that fails later keeps them.
	b.Logf("%d idle connections: %.1f KB and %.2f goroutines each; the last %d: %.1f KB and %.2f goroutines each", n, kb, g, n-n/2, marginalKB, marginalG)
	if settle > 0 {
		after, afterG := settled()
		kb, g := per(settledBefore, after, n), per(settledBeforeG, afterG, n)
		b.ReportMetric(kb, "KB/conn-settled")
		b.ReportMetric(g, "goroutines/conn-settled")
		b.Logf("%d connections idle for %s: %.1f KB and %.2f goroutines each (resident %d → %d KB)", n, settle, kb, g, settledBefore, after)
	}
	return cs
}

// memStats reads the go_memstats_* gauges a Regulars server exposes.
func memStats(b *testing.B, url string) map[string]float64 {
	res, err := http.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	body := testkit.Must(readBody(res))(b)
	m := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		if f := strings.Fields(line); len(f) == 2 && (strings.HasPrefix(f[0], "go_memstats_") || f[0] == "go_gc_duration_seconds_count") {
			m[strings.TrimPrefix(f[0], "go_memstats_")] = testkit.Must(strconv.ParseFloat(f[1], 64))(b)
		}
	}
	return m
}

// logMemStats logs where the resident memory of the idle connections went,
// per connection: what connecting allocated, the heap in use (live data and garbage not yet
// collected), the heap the runtime holds free and has not returned to the
// system, and goroutine stacks.
func logMemStats(b *testing.B, before, after map[string]float64, n int) {
	per := func(k string) float64 { return (after[k] - before[k]) / 1024 / float64(n) }
	b.Logf("per connection: allocated %.1f KB; heap in use %.1f KB, heap held free %.1f KB, stacks %.1f KB; heap goal %.1f MB, collections %.0f",
		per("alloc_bytes_total"), per("heap_inuse_bytes"), per("heap_idle_bytes")-per("heap_released_bytes"), per("stack_inuse_bytes"), after["next_gc_bytes"]/1e6, after["go_gc_duration_seconds_count"]-before["go_gc_duration_seconds_count"])
}

// goroutines reads the go_goroutines gauge a server exposes in the
// Prometheus text format.
func goroutines(b *testing.B, url string) int64 {
	res, err := http.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	body := testkit.Must(readBody(res))(b)
	for _, line := range strings.Split(string(body), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "go_goroutines" {
			return int64(testkit.Must(strconv.ParseFloat(f[1], 64))(b))
		}
	}
	b.Fatalf("%s has no go_goroutines", url)
	return 0
}

func publishOffer(b *testing.B, url string) {
	now := time.Now().UTC()
	for _, q := range []string{"create", "publish"} {
		var body any
		if q == "create" {
			body = map[string]any{"query": `mutation($s: DateTime!, $e: DateTime!) { createOffer(input: {title: "Flash sale", body: "For everyone",
			  benefit: {kind: PERCENT_OFF, value: 10}, startsAt: $s, endsAt: $e}) { id } }`,
				"variables": map[string]any{"s": now.Add(-time.Minute).Format(time.RFC3339), "e": now.Add(time.Hour).Format(time.RFC3339)}}
		} else {
			body = map[string]any{"query": `mutation($id: ID!) { publishOffer(id: $id) { status } }`, "variables": map[string]any{"id": offerID}}
		}
		req := newRequest(b, http.MethodPost, url, bytes.NewReader(testkit.Must(json.Marshal(body))(b)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "ApiKey "+testAPIKey)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var out struct {
			Data struct {
				CreateOffer struct{ ID string }
			}
		}
		if err := json.Unmarshal(testkit.Must(readBody(res))(b), &out); err != nil {
			b.Fatal(err)
		}
		if q == "create" {
			offerID = out.Data.CreateOffer.ID
		}
	}
}

var offerID string

type clientSet struct {
	conns []*websocket.Conn
	// Per client: when the awaited message arrived, and the createdAt it
	// carried (zero if none).
	got, stored []time.Time
	done        sync.WaitGroup
}

func newClientSet(n int) *clientSet {
	return &clientSet{conns: make([]*websocket.Conn, n), got: make([]time.Time, n), stored: make([]time.Time, n)}
}

// dial connects clients lo to hi-1 and runs setup on each. From then on
// every client reads: it answers the server's pings (a socket that stays
// silent through setup would be closed as dead) and records when a message
// containing marker arrives.
func (cs *clientSet) dial(b *testing.B, lo, hi int, url string, protos []string, marker []byte, setup func(int, *websocket.Conn) error) {
	d := websocket.Dialer{Subprotocols: protos, HandshakeTimeout: 30 * time.Second}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 200)
	var mu sync.Mutex
	var firstErr error
	for i := lo; i < hi; i++ {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			c, _, err := d.Dial(url, nil)
			if err == nil {
				err = setup(i, c)
			}
			if err != nil {
				mu.Lock()
				firstErr = err
				mu.Unlock()
				return
			}
			cs.conns[i] = c
			cs.done.Go(func() { cs.read(i, marker) })
		})
	}
	wg.Wait()
	if firstErr != nil {
		b.Fatalf("dial: %v", firstErr)
	}
}

func (cs *clientSet) read(i int, marker []byte) {
	c := cs.conns[i]
	for {
		msg, err := testkit.ReadAnsweringPings(c)
		if err != nil {
			return
		}
		if bytes.Contains(msg, marker) {
			cs.got[i] = time.Now()
			var m struct {
				Payload struct {
					Data struct{ Notifications struct{ CreatedAt time.Time } }
				}
			}
			if json.Unmarshal(msg, &m) == nil {
				cs.stored[i] = m.Payload.Data.Notifications.CreatedAt
			}
			return
		}
	}
}

// await waits until every client received the message, or limit after
// start, and returns each client's latency from start and, for messages
// that carry the notification's createdAt, from when it was stored.
func (cs *clientSet) await(b *testing.B, start time.Time, limit time.Duration) (lat, deliver *testkit.Latencies) {
	for _, c := range cs.conns {
		if err := c.SetReadDeadline(start.Add(limit)); err != nil {
			b.Fatal(err)
		}
	}
	lat, deliver = &testkit.Latencies{}, &testkit.Latencies{}
	cs.done.Wait()
	missed := 0
	for i, at := range cs.got {
		if at.IsZero() {
			missed++
			continue
		}
		lat.Add(at.Sub(start))
		if !cs.stored[i].IsZero() {
			deliver.Add(at.Sub(cs.stored[i]))
		}
	}
	if missed > 0 {
		b.Fatalf("%d of %d clients never received the message", missed, len(cs.got))
	}
	return lat, deliver
}

func (cs *clientSet) close(b *testing.B) {
	for _, c := range cs.conns {
		if c != nil {
			if err := c.Close(); err != nil {
				b.Error(err)
			}
		}
	}
}

func freeAddr(b *testing.B) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	return addr
}

func startProcess(b *testing.B, bin string, args, env []string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			b.Errorf("interrupt %s: %v", bin, err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				b.Logf("%s ended: %v", bin, err)
			}
		case <-time.After(20 * time.Second):
			if err := cmd.Process.Kill(); err != nil {
				b.Errorf("kill %s: %v", bin, err)
			}
		}
	})
	return cmd
}

func waitReady(b *testing.B, url string) {
	testkit.Eventually(b, 30*time.Second, func() bool {
		res, err := http.Get(url)
		if err == nil {
			_, err = readBody(res)
		}
		return err == nil && res.StatusCode < 500
	}, "%s never became ready", url)
}

// rssKB reads a process's resident memory.
func rssKB(b *testing.B, pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			return testkit.Must(strconv.ParseInt(f[1], 10, 64))(b)
		}
	}
	return 0
}
