package main

import (
	"encoding/json"
	"runtime"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/regulars/regulars/internal/testkit"
)

// An idle socket subscribed to notifications costs the server two
// goroutines, its reader and its writer: the subscription parks none while
// it has nothing to send, neither after a replay nor after a delivery.
// (Its memory: BenchmarkFanout.)
func TestIdleSubscribedSocketCostsTwoGoroutines(t *testing.T) {
	const n = 40
	a := startApp(t, map[string]string{"WS_MAX_PER_MEMBER": "100", "RATE_LIMIT_MEMBER_RPS": "1000", "RATE_LIMIT_MEMBER_BURST": "1000"})
	ann := a.signUp(t, "ann@example.com")
	sendTo := func(title string) {
		a.do(t, "ApiKey "+testAPIKey, `mutation($id: ID!, $t: String!) { sendNotification(memberId: $id, title: $t, body: "b") { id } }`,
			map[string]any{"id": ann.Member.ID, "t": title}).decode(t, "sendNotification", &struct{}{})
	}
	sendTo("zero")
	sendTo("first")
	var page struct {
		Edges []struct{ Cursor string }
	}
	a.do(t, ann.bearer(), `{ notifications(first: 2) { edges { cursor } } }`, nil).decode(t, "notifications", &page)
	if len(page.Edges) != 2 {
		t.Fatalf("inbox page: %+v", page)
	}
	// Resuming after a cursor: no race with what is sent next.
	afterFirst, afterZero := page.Edges[0].Cursor, page.Edges[1].Cursor
	subscribe := func(c *testkit.WSClient, after string) {
		c.Send("subscribe", "n", map[string]any{"query": `subscription($after: String) { notifications(after: $after) { title } }`,
			"variables": map[string]any{"after": after}})
	}
	expect := func(c *testkit.WSClient, title string) {
		t.Helper()
		var got struct {
			Data struct{ Notifications struct{ Title string } }
		}
		if m := c.Expect("next"); json.Unmarshal(m.Payload, &got) != nil || got.Data.Notifications.Title != title {
			t.Fatalf("got %s, want the notification titled %s", m.Payload, title)
		}
	}

	// One socket first, so the server's pools and workers are warm.
	warm := a.dialWith(t, websocket.Dialer{})
	warm.Init(ann.bearer())
	subscribe(warm, afterZero)
	expect(warm, "first")

	before := runtime.NumGoroutine()
	clients := make([]*testkit.WSClient, n)
	for i := range clients {
		c := a.dialWith(t, websocket.Dialer{})
		c.Init(ann.bearer())
		if i%2 == 1 {
			subscribe(c, afterZero) // replays "first", then goes live
		} else {
			subscribe(c, afterFirst) // nothing to replay
		}
		clients[i] = c
	}
	a.waitSubscribers(t, ann.Member.ID, n+1)
	perSocket := func() float64 { return float64(runtime.NumGoroutine()-before) / n }
	idle := func(when string) {
		t.Helper()
		testkit.Eventually(t, 10*time.Second, func() bool { return perSocket() <= 2 },
			"%s: %.2f goroutines per idle subscribed socket, want at most 2", when, perSocket())
	}
	idle("subscribed")

	// They are live: the next notification reaches each, and each is idle
	// again afterwards.
	sendTo("second")
	for i, c := range clients {
		if i%2 == 1 {
			expect(c, "first")
		}
		expect(c, "second")
	}
	idle("after a delivery")
}
