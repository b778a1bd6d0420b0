package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/regulars/regulars/graph/relay"

	"github.com/fasthttp/websocket"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/internal/testkit"
)

func (a *app) dial(t *testing.T, subprotocols ...string) *testkit.WSClient {
	t.Helper()
	return a.dialWith(t, websocket.Dialer{Subprotocols: subprotocols})
}

// dialSlow connects with a tiny receive buffer, as a phone on a bad
// network: what the client does not read backs up quickly.
func (a *app) dialSlow(t *testing.T) *testkit.WSClient {
	return a.dialWith(t, websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		c, err := net.Dial(network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			if err := tc.SetReadBuffer(4096); err != nil {
				return nil, err
			}
		}
		return c, err
	}})
}

func (a *app) dialWith(t testing.TB, d websocket.Dialer) *testkit.WSClient {
	t.Helper()
	c, res := testkit.DialWS(t, "ws://"+a.Addr()+"/graphql", d)
	if d.Subprotocols == nil && res.Header.Get("Sec-WebSocket-Protocol") != testkit.Subprotocol {
		t.Fatalf("server did not echo the subprotocol: %q", res.Header.Get("Sec-WebSocket-Protocol"))
	}
	return c
}

// subscribed returns a socket on which s subscribed to query (id "n") and
// whose subscription is live.
func (a *app) subscribed(t testing.TB, s session, query string) *testkit.WSClient {
	t.Helper()
	c := a.dialWith(t, websocket.Dialer{})
	c.Init(s.bearer())
	c.Send("subscribe", "n", map[string]any{"query": query})
	a.waitSubscribers(t, s.Member.ID, 1)
	return c
}

// waitSubscribers waits until the member has n live subscriptions on a.
func (a *app) waitSubscribers(t testing.TB, memberID string, n int) {
	t.Helper()
	id := memberObjectID(t, memberID)
	testkit.Eventually(t, 5*time.Second, func() bool { return a.broker.Subscribers(id) == n }, "member never had %d live subscriptions", n)
}

// memberObjectID reads the database id out of an opaque Member id.
func memberObjectID(t testing.TB, id string) bson.ObjectID {
	t.Helper()
	return testkit.Must(relay.DecodeID("Member", "id", id))(t)
}

const notificationsSubscription = `subscription { notifications { id kind title body } }`

func TestSubscriptionReceivesServiceNotification(t *testing.T) {
	a := startApp(t, nil)
	ann := a.signUp(t, "ann@example.com")
	bob := a.signUp(t, "bob@example.com")

	c := a.subscribed(t, ann, notificationsSubscription)

	// Bob's notification must not reach Ann.
	send := `mutation($id: ID!, $t: String!) { sendNotification(memberId: $id, title: $t, body: "Double points this weekend") { id } }`
	var sent struct{ ID string }
	a.do(t, "ApiKey "+testAPIKey, send, map[string]any{"id": bob.Member.ID, "t": "for bob"}).decode(t, "sendNotification", &sent)
	a.do(t, "ApiKey "+testAPIKey, send, map[string]any{"id": ann.Member.ID, "t": "for ann"}).decode(t, "sendNotification", &sent)

	m := c.Expect("next")
	var got struct {
		Data struct {
			Notifications struct{ ID, Kind, Title, Body string }
		}
	}
	if err := json.Unmarshal(m.Payload, &got); err != nil || m.ID != "n" {
		t.Fatalf("next: %s %v", m.Payload, err)
	}
	if n := got.Data.Notifications; n.ID != sent.ID || n.Kind != "SYSTEM" || n.Title != "for ann" {
		t.Fatalf("received %+v, want the notification sent to ann (%s)", n, sent.ID)
	}

	// Queries and mutations work over the socket too.
	c.Send("subscribe", "q1", map[string]any{"query": `{ me { email } }`})
	if m := c.Expect("next"); m.ID != "q1" || !strings.Contains(string(m.Payload), "ann@example.com") {
		t.Fatalf("query over socket: %s", m.Payload)
	}
	c.Expect("complete")

	// Client-side complete ends the subscription on the server.
	c.Send("complete", "n", nil)
	a.waitSubscribers(t, ann.Member.ID, 0)

	// Ping gets pong.
	c.Send("ping", "", nil)
	c.Expect("pong")
}

func TestSubscriptionNeedsAuthentication(t *testing.T) {
	a := startApp(t, nil)
	c := a.dial(t)
	c.Send("connection_init", "", nil)
	c.Expect("connection_ack")
	c.Send("subscribe", "s", map[string]any{"query": notificationsSubscription})
	m := c.Expect("error")
	if !strings.Contains(string(m.Payload), "UNAUTHENTICATED") {
		t.Fatalf("anonymous subscription: %s", m.Payload)
	}
}

func TestSocketProtocolErrors(t *testing.T) {
	a := startApp(t, nil)
	ann := a.signUp(t, "ann@example.com")
	cases := []struct {
		name string
		run  func(c *testkit.WSClient)
		code int
	}{
		{"no init in time", func(c *testkit.WSClient) {}, 4408},
		{"bad token", func(c *testkit.WSClient) {
			c.Send("connection_init", "", map[string]any{"authorization": "Bearer nope"})
		}, 4403},
		{"second init", func(c *testkit.WSClient) {
			c.Init(ann.bearer())
			c.Send("connection_init", "", nil)
		}, 4429},
		{"garbage", func(c *testkit.WSClient) { c.SendRaw("{{{ not json") }, 4400},
		{"unknown type", func(c *testkit.WSClient) { c.Init(ann.bearer()); c.Send("bogus", "", nil) }, 4400},
		{"subscribe without id", func(c *testkit.WSClient) {
			c.Init(ann.bearer())
			c.Send("subscribe", "", map[string]any{"query": "{ me { id } }"})
		}, 4400},
		{"subscribe before ack", func(c *testkit.WSClient) {
			c.Send("subscribe", "1", map[string]any{"query": notificationsSubscription})
		}, 4401},
		{"duplicate id", func(c *testkit.WSClient) {
			c.Init(ann.bearer())
			c.Send("subscribe", "dup", map[string]any{"query": notificationsSubscription})
			c.Send("subscribe", "dup", map[string]any{"query": notificationsSubscription})
		}, 4409},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := a.dial(t)
			tc.run(c)
			c.ExpectClose(tc.code)
		})
	}
	t.Run("wrong subprotocol", func(t *testing.T) {
		c := a.dial(t, "graphql-ws")
		c.ExpectClose(4406)
	})
	// After all that the server still serves.
	if r := a.do(t, "", `{ __typename }`, nil); r.status != 200 {
		t.Fatalf("server after protocol errors: %d", r.status)
	}
}

// A client too slow to read is cut off with 4413 without slowing anyone
// else, and on reconnecting with its last cursor it loses nothing.
func TestSlowSocketIsClosedThenResumesWithoutLoss(t *testing.T) {
	a := startApp(t, map[string]string{"WS_SEND_QUEUE": "4", "WS_STALL_TIMEOUT": "300ms", "SOCKET_SEND_BUFFER": "16384"})
	slow := a.signUp(t, "slow@example.com")
	fast := a.signUp(t, "fast@example.com")

	sc := a.dialSlow(t)
	sc.Init(slow.bearer())
	sc.Send("subscribe", "s", map[string]any{"query": `subscription { notifications { id cursor title body } }`})
	fc := a.dial(t)
	fc.Init(fast.bearer())
	fc.Send("subscribe", "f", map[string]any{"query": notificationsSubscription})
	a.waitSubscribers(t, slow.Member.ID, 1)
	a.waitSubscribers(t, fast.Member.ID, 1)

	// Megabytes stored for the slow client, which reads nothing meanwhile.
	slowID := memberObjectID(t, slow.Member.ID)
	const total = 1000
	body := strings.Repeat("x", inbox.MaxBody)
	coll := a.mongo.Database(a.Config.MongoDatabase).Collection("notifications")
	var docs []any
	for i := 1; i <= total; i++ {
		docs = append(docs, inbox.Notification{ID: bson.NewObjectID(), MemberID: slowID, Seq: int64(1 + i), Kind: inbox.KindSystem,
			Title: fmt.Sprint(i), Body: body, Key: fmt.Sprint("bulk-", i), CreatedAt: time.Now()})
	}
	if _, err := coll.InsertMany(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
	a.broker.Publish(slowID, total+1, nil)

	// Meanwhile the fast client gets its notification at once.
	var sent struct{ ID string }
	a.do(t, "ApiKey "+testAPIKey, `mutation($id: ID!) { sendNotification(memberId: $id, title: "hi", body: "there") { id } }`,
		map[string]any{"id": fast.Member.ID}).decode(t, "sendNotification", &sent)
	if m, err := fc.Next(2 * time.Second); err != nil || !bytes.Contains(m.Payload, []byte(sent.ID)) {
		t.Fatalf("fast client while another is stuck: %v %s", err, m.Payload)
	}

	// The server gives up on the slow client: its subscription ends. The
	// client then reads what reached it, and finds itself closed.
	a.waitSubscribers(t, slow.Member.ID, 0)
	last, got := "", 0
	for {
		m, err := sc.Next(3 * time.Second)
		if err != nil {
			// 4413 if the close frame got through; a client that read
			// nothing for so long may only see the connection drop.
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || (ce.Code != 4413 && ce.Code != websocket.CloseAbnormalClosure) {
				t.Fatalf("want close 4413 (or the connection dropped), got %v after %d notifications", err, got)
			}
			break
		}
		var p struct {
			Data struct {
				Notifications struct{ Cursor, Title string }
			}
		}
		if err := json.Unmarshal(m.Payload, &p); err != nil {
			t.Fatalf("notification %d: %v: %s", got+1, err, m.Payload)
		}
		got++
		if p.Data.Notifications.Title != fmt.Sprint(got) {
			t.Fatalf("notification %d arrived as %q", got, p.Data.Notifications.Title)
		}
		last = p.Data.Notifications.Cursor
	}
	if got >= total {
		t.Fatalf("the slow client was never cut off (%d received)", got)
	}
	// Reconnect with the last cursor: the rest arrives, in order, once.
	rc := a.dial(t)
	rc.Init(slow.bearer())
	rc.Send("subscribe", "r", map[string]any{"query": `subscription($after: String) { notifications(after: $after) { title } }`, "variables": map[string]any{"after": last}})
	for want := got + 1; want <= total; want++ {
		m := rc.Expect("next")
		if !bytes.Contains(m.Payload, []byte(fmt.Sprintf(`"title":"%d"`, want))) {
			t.Fatalf("after resuming: %s, want %d", m.Payload, want)
		}
	}
}

func TestShutdownClosesSockets(t *testing.T) {
	a := startApp(t, nil)
	ann := a.signUp(t, "ann@example.com")
	c := a.subscribed(t, ann, notificationsSubscription)
	closed := make(chan error, 1)
	go func() { closed <- a.Close() }()
	c.ExpectClose(1001)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
}
