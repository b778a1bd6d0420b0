package main

import (
	"testing"
	"time"

	"github.com/regulars/regulars/internal/testkit"
)

// BenchmarkCrossInstance measures how long a notification sent through
// instance A takes to reach a subscriber on instance B, both on one
// database, with B learning of it only by polling. Each iteration sends
// one notification and waits for it. Run with:
//
//	MONGODB_URI=mongodb://localhost:27017 go test ./server -run '^$' -bench CrossInstance -benchtime 200x
func BenchmarkCrossInstance(b *testing.B) {
	a := startApp(b, map[string]string{"RATE_LIMIT_IP_RPS": "1000000", "RATE_LIMIT_IP_BURST": "1000000", "HTTP_MAX_CONNS_PER_IP": "1000000"})
	bi := startApp(b, map[string]string{"MONGODB_DATABASE": a.Config.MongoDatabase})
	ann := a.signUp(b, "ann@example.com")
	c := bi.subscribed(b, ann, notificationsSubscription)

	var lat testkit.Latencies
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		var sent struct{ ID string }
		a.service(b, `mutation($id: ID!) { sendNotification(memberId: $id, title: "via A", body: "to B") { id } }`,
			map[string]any{"id": ann.Member.ID}).decode(b, "sendNotification", &sent)
		if _, err := c.NextContaining([]byte(sent.ID), 10*time.Second); err != nil {
			b.Fatalf("waiting on B: %v", err)
		}
		lat.Add(time.Since(start))
	}
	lat.Report(b, "", "notifications/s")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkShutdownWithOpenSocket measures how long Close takes with a
// subscribed socket open: the socket holds shutdown up for the close
// handshake only, not for SHUTDOWN_TIMEOUT. Run with:
//
//	go test ./server -run '^$' -bench ShutdownWithOpenSocket -benchtime 20x
func BenchmarkShutdownWithOpenSocket(b *testing.B) {
	var lat testkit.Latencies
	for range b.N {
		b.StopTimer()
		a := startApp(b, nil)
		ann := a.signUp(b, "ann@example.com")
		a.subscribed(b, ann, notificationsSubscription)
		b.StartTimer()
		start := time.Now()
		if err := a.Close(); err != nil {
			b.Fatal(err)
		}
		lat.Add(time.Since(start))
	}
	lat.Report(b, "", "")
}
