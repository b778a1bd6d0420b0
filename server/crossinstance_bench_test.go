package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
)

// BenchmarkCrossInstance measures how long a notification sent through
// instance A takes to reach a subscriber on instance B, both on one
// database, with B learning of it only by polling. Each iteration sends
// one notification and waits for it. Run with:
//
//	MONGODB_URI=mongodb://localhost:27017 go test ./server -run '^$' -bench CrossInstance -benchtime 200x
func BenchmarkCrossInstance(b *testing.B) {
	a := startApp(b, map[string]string{"RATE_LIMIT_IP_RPS": "1000000", "RATE_LIMIT_IP_BURST": "1000000"})
	bi := startApp(b, map[string]string{"MONGODB_DATABASE": a.Config.MongoDatabase})
	ann := a.signUp(b, "ann@example.com")
	c, _, err := (&websocket.Dialer{Subprotocols: []string{subprotocol}}).Dial("ws://"+bi.Addr()+"/graphql", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	_ = c.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"authorization": ann.bearer()}})
	if _, _, err := c.ReadMessage(); err != nil { // connection_ack
		b.Fatal(err)
	}
	_ = c.WriteJSON(map[string]any{"id": "n", "type": "subscribe", "payload": map[string]any{"query": notificationsSubscription}})
	bi.waitSubscribers(b, ann.Member.ID, 1)

	lat := latencies{}
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		var sent struct{ ID string }
		a.service(b, `mutation($id: ID!) { sendNotification(memberId: $id, title: "via A", body: "to B") { id } }`,
			map[string]any{"id": ann.Member.ID}).decode(b, "sendNotification", &sent)
		for {
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, msg, err := c.ReadMessage()
			if err != nil {
				b.Fatalf("waiting on B: %v", err)
			}
			if bytes.Contains(msg, []byte(sent.ID)) {
				break
			}
			if bytes.Contains(msg, []byte(`"ping"`)) {
				_ = c.WriteJSON(map[string]any{"type": "pong"})
			}
		}
		lat.add(time.Since(start))
	}
	lat.report(b, "notifications/s")
}
