package main

import (
	"testing"

	"github.com/fasthttp/websocket"

	"github.com/regulars/regulars/internal/testkit"
)

// BenchmarkConnectSubscribedSocket connects b.N sockets in process, each
// initialised with a signed-in member's token (so the session check reads
// the member and the session) and subscribed to notifications from now on,
// as the fan-out benchmark's clients are. Its allocations are the garbage a
// socket leaves while connecting, which sets the collector's headroom per
// idle socket (BENCHMARKS.md, fan-out):
//
//	go test ./server -run '^$' -bench ConnectSubscribedSocket -benchtime 300x -memprofile /tmp/mem.out -memprofilerate 1
//	go tool pprof -sample_index=alloc_space -top server.test /tmp/mem.out
//
// The figures include the test's client side.
func BenchmarkConnectSubscribedSocket(b *testing.B) {
	a := startApp(b, map[string]string{"WS_MAX_PER_MEMBER": "100000", "WS_MAX_PER_IP": "100000", "HTTP_MAX_CONNS_PER_IP": "100000",
		"RATE_LIMIT_MEMBER_RPS": "100000", "RATE_LIMIT_MEMBER_BURST": "100000", "RATE_LIMIT_IP_RPS": "100000", "RATE_LIMIT_IP_BURST": "100000"})
	ann := a.signUp(b, "ann@example.com")
	connect := func() *testkit.WSClient {
		c := a.dialWith(b, websocket.Dialer{})
		c.Init(ann.bearer())
		c.Send("subscribe", "n", map[string]any{"query": "subscription { notifications { kind title createdAt } }"})
		return c
	}
	connect() // the server's pools and workers warm
	a.waitSubscribers(b, ann.Member.ID, 1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		connect()
		a.waitSubscribers(b, ann.Member.ID, i+2)
	}
}
