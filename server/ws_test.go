package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/inbox"
)

// wsClient speaks graphql-transport-ws as written in its protocol document.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
}

func (a *app) dial(t *testing.T, subprotocols ...string) *wsClient {
	t.Helper()
	return a.dialWith(t, websocket.Dialer{}, subprotocols...)
}

// dialSlow connects with a tiny receive buffer, as a phone on a bad
// network: what the client does not read backs up quickly.
func (a *app) dialSlow(t *testing.T) *wsClient {
	return a.dialWith(t, websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		c, err := net.Dial(network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(4096)
		}
		return c, err
	}})
}

func (a *app) dialWith(t *testing.T, d websocket.Dialer, subprotocols ...string) *wsClient {
	t.Helper()
	if subprotocols == nil {
		subprotocols = []string{"graphql-transport-ws"}
	}
	d.Subprotocols, d.HandshakeTimeout = subprotocols, 5*time.Second
	conn, res, err := d.Dial("ws://"+a.Addr()+"/graphql", nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if len(subprotocols) == 1 && subprotocols[0] == "graphql-transport-ws" && res.Header.Get("Sec-WebSocket-Protocol") != "graphql-transport-ws" {
		t.Fatalf("server did not echo the subprotocol: %q", res.Header.Get("Sec-WebSocket-Protocol"))
	}
	t.Cleanup(func() { conn.Close() })
	return &wsClient{t: t, conn: conn}
}

func (c *wsClient) sendRaw(s string) {
	c.t.Helper()
	if err := c.conn.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *wsClient) sendMsg(typ, id string, payload any) {
	c.t.Helper()
	m := map[string]any{"type": typ}
	if id != "" {
		m["id"] = id
	}
	if payload != nil {
		m["payload"] = payload
	}
	b, _ := json.Marshal(m)
	c.sendRaw(string(b))
}

type wsIn struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

// next reads one message, skipping the server's keep-alive pings.
func (c *wsClient) next(timeout time.Duration) (wsIn, error) {
	for {
		_ = c.conn.SetReadDeadline(time.Now().Add(timeout))
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			return wsIn{}, err
		}
		var m wsIn
		if err := json.Unmarshal(data, &m); err != nil {
			return wsIn{}, err
		}
		if m.Type != "ping" {
			return m, nil
		}
	}
}

func (c *wsClient) expect(typ string) wsIn {
	c.t.Helper()
	m, err := c.next(5 * time.Second)
	if err != nil {
		c.t.Fatalf("waiting for %s: %v", typ, err)
	}
	if m.Type != typ {
		c.t.Fatalf("got %s (%s), want %s", m.Type, m.Payload, typ)
	}
	return m
}

// expectClose reads until the server closes and checks the close code.
func (c *wsClient) expectClose(code int) {
	c.t.Helper()
	for {
		_, err := c.next(10 * time.Second)
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			c.t.Fatalf("want close %d, got %v", code, err)
		}
		if ce.Code != code {
			c.t.Fatalf("closed with %d %q, want %d", ce.Code, ce.Text, code)
		}
		return
	}
}

func (c *wsClient) init(auth string) {
	c.t.Helper()
	c.sendMsg("connection_init", "", map[string]any{"authorization": auth})
	c.expect("connection_ack")
}

func (a *app) waitSubscribers(t testing.TB, memberID string, n int) {
	t.Helper()
	id := memberObjectID(t, memberID)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if a.broker.Subscribers(id) == n {
			return
		}
	}
	t.Fatalf("member never had %d live subscriptions", n)
}

// memberObjectID reads the database id out of an opaque Member id.
func memberObjectID(t testing.TB, id string) bson.ObjectID {
	t.Helper()
	raw, _ := base64.RawURLEncoding.DecodeString(id)
	oid, err := bson.ObjectIDFromHex(strings.TrimPrefix(string(raw), "Member:"))
	if err != nil {
		t.Fatal(err)
	}
	return oid
}

const notificationsSubscription = `subscription { notifications { id kind title body } }`

func TestSubscriptionReceivesServiceNotification(t *testing.T) {
	a := startApp(t, nil)
	ann := a.signUp(t, "ann@example.com")
	bob := a.signUp(t, "bob@example.com")

	c := a.dial(t)
	c.init(ann.bearer())
	c.sendMsg("subscribe", "n1", map[string]any{"query": notificationsSubscription})
	a.waitSubscribers(t, ann.Member.ID, 1)

	// Bob's notification must not reach Ann.
	send := `mutation($id: ID!, $t: String!) { sendNotification(memberId: $id, title: $t, body: "Double points this weekend") { id } }`
	var sent struct{ ID string }
	a.do(t, "ApiKey "+testAPIKey, send, map[string]any{"id": bob.Member.ID, "t": "for bob"}).decode(t, "sendNotification", &sent)
	a.do(t, "ApiKey "+testAPIKey, send, map[string]any{"id": ann.Member.ID, "t": "for ann"}).decode(t, "sendNotification", &sent)

	m := c.expect("next")
	var got struct {
		Data struct {
			Notifications struct{ ID, Kind, Title, Body string }
		}
	}
	if err := json.Unmarshal(m.Payload, &got); err != nil || m.ID != "n1" {
		t.Fatalf("next: %s %v", m.Payload, err)
	}
	if n := got.Data.Notifications; n.ID != sent.ID || n.Kind != "SYSTEM" || n.Title != "for ann" {
		t.Fatalf("received %+v, want the notification sent to ann (%s)", n, sent.ID)
	}

	// Queries and mutations work over the socket too.
	c.sendMsg("subscribe", "q1", map[string]any{"query": `{ me { email } }`})
	if m := c.expect("next"); m.ID != "q1" || !strings.Contains(string(m.Payload), "ann@example.com") {
		t.Fatalf("query over socket: %s", m.Payload)
	}
	c.expect("complete")

	// Client-side complete ends the subscription on the server.
	c.sendMsg("complete", "n1", nil)
	a.waitSubscribers(t, ann.Member.ID, 0)

	// Ping gets pong.
	c.sendMsg("ping", "", nil)
	c.expect("pong")
}

func TestSubscriptionNeedsAuthentication(t *testing.T) {
	a := startApp(t, nil)
	c := a.dial(t)
	c.sendMsg("connection_init", "", nil)
	c.expect("connection_ack")
	c.sendMsg("subscribe", "s", map[string]any{"query": notificationsSubscription})
	m := c.expect("error")
	if !strings.Contains(string(m.Payload), "UNAUTHENTICATED") {
		t.Fatalf("anonymous subscription: %s", m.Payload)
	}
}

func TestSocketProtocolErrors(t *testing.T) {
	a := startApp(t, nil)
	ann := a.signUp(t, "ann@example.com")
	cases := []struct {
		name string
		run  func(c *wsClient)
		code int
	}{
		{"no init in time", func(c *wsClient) {}, 4408},
		{"bad token", func(c *wsClient) { c.sendMsg("connection_init", "", map[string]any{"authorization": "Bearer nope"}) }, 4403},
		{"second init", func(c *wsClient) {
			c.init(ann.bearer())
			c.sendMsg("connection_init", "", nil)
		}, 4429},
		{"garbage", func(c *wsClient) { c.sendRaw("{{{ not json") }, 4400},
		{"unknown type", func(c *wsClient) { c.init(ann.bearer()); c.sendMsg("bogus", "", nil) }, 4400},
		{"subscribe without id", func(c *wsClient) {
			c.init(ann.bearer())
			c.sendMsg("subscribe", "", map[string]any{"query": "{ me { id } }"})
		}, 4400},
		{"subscribe before ack", func(c *wsClient) { c.sendMsg("subscribe", "1", map[string]any{"query": notificationsSubscription}) }, 4401},
		{"duplicate id", func(c *wsClient) {
			c.init(ann.bearer())
			c.sendMsg("subscribe", "dup", map[string]any{"query": notificationsSubscription})
			c.sendMsg("subscribe", "dup", map[string]any{"query": notificationsSubscription})
		}, 4409},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := a.dial(t)
			c.t = t
			tc.run(c)
			c.expectClose(tc.code)
		})
	}
	t.Run("wrong subprotocol", func(t *testing.T) {
		c := a.dial(t, "graphql-ws")
		c.expectClose(4406)
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
	sc.init(slow.bearer())
	sc.sendMsg("subscribe", "s", map[string]any{"query": `subscription { notifications { id cursor title body } }`})
	fc := a.dial(t)
	fc.init(fast.bearer())
	fc.sendMsg("subscribe", "f", map[string]any{"query": notificationsSubscription})
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
	if m, err := fc.next(2 * time.Second); err != nil || !bytes.Contains(m.Payload, []byte(sent.ID)) {
		t.Fatalf("fast client while another is stuck: %v %s", err, m.Payload)
	}

	// The slow client reads what reached it, then finds itself closed.
	time.Sleep(time.Second)
	last, got := "", 0
	for {
		m, err := sc.next(3 * time.Second)
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
		_ = json.Unmarshal(m.Payload, &p)
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
	rc.init(slow.bearer())
	rc.sendMsg("subscribe", "r", map[string]any{"query": `subscription($after: String) { notifications(after: $after) { title } }`, "variables": map[string]any{"after": last}})
	for want := got + 1; want <= total; want++ {
		m := rc.expect("next")
		if !bytes.Contains(m.Payload, []byte(fmt.Sprintf(`"title":"%d"`, want))) {
			t.Fatalf("after resuming: %s, want %d", m.Payload, want)
		}
	}
}

func TestShutdownClosesSockets(t *testing.T) {
	a := startApp(t, nil)
	ann := a.signUp(t, "ann@example.com")
	c := a.dial(t)
	c.init(ann.bearer())
	c.sendMsg("subscribe", "s", map[string]any{"query": notificationsSubscription})
	a.waitSubscribers(t, ann.Member.ID, 1)
	go a.Close()
	c.expectClose(1001)
}
