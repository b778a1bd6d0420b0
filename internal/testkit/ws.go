package testkit

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
)

// Subprotocol is the WebSocket subprotocol of graphql-transport-ws.
const Subprotocol = "graphql-transport-ws"

// WSClient speaks graphql-transport-ws as its protocol document writes it,
// over a real socket: it answers the server's pings with pongs and records
// the code the server closed with.
type WSClient struct {
	T    testing.TB
	Conn *websocket.Conn
	// CloseCode is the code of the close frame received, 0 until one is.
	CloseCode int
	// CloseReason is the reason the close frame gave.
	CloseReason string
}

// WSMessage is one message from the server.
type WSMessage struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

// DialWS connects to url with d (its subprotocols default to
// graphql-transport-ws), failing t if it cannot, and closes the socket when
// t ends. It returns the handshake response too.
func DialWS(t testing.TB, url string, d websocket.Dialer) (*WSClient, *http.Response) {
	t.Helper()
	if d.Subprotocols == nil {
		d.Subprotocols = []string{Subprotocol}
	}
	if d.HandshakeTimeout == 0 {
		d.HandshakeTimeout = 5 * time.Second
	}
	conn, res, err := d.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { _ = conn.Close() }) // often closed by the server already: nothing to report
	return &WSClient{T: t, Conn: conn}, res
}

// SendRaw writes one text message as it is.
func (c *WSClient) SendRaw(s string) {
	c.T.Helper()
	if err := c.Conn.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		c.T.Fatalf("write: %v", err)
	}
}

// Send writes a message of type typ with id and payload, each left out when
// empty or nil.
func (c *WSClient) Send(typ, id string, payload any) {
	c.T.Helper()
	if err := c.write(typ, id, payload); err != nil {
		c.T.Fatalf("write %s: %v", typ, err)
	}
}

func (c *WSClient) write(typ, id string, payload any) error {
	m := map[string]any{"type": typ}
	if id != "" {
		m["id"] = id
	}
	if payload != nil {
		m["payload"] = payload
	}
	return c.Conn.WriteJSON(m)
}

// Init sends connection_init with an authorization and expects the ack.
func (c *WSClient) Init(authorization string) {
	c.T.Helper()
	c.Send("connection_init", "", map[string]any{"authorization": authorization})
	c.Expect("connection_ack")
}

// Next reads the next message that is not a ping, answering pings with
// pongs, waiting at most timeout. It does not fail the test, so it may run
// off the test goroutine; a close frame's code lands in CloseCode.
func (c *WSClient) Next(timeout time.Duration) (WSMessage, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return WSMessage{}, err
	}
	data, err := ReadAnsweringPings(c.Conn)
	if err != nil {
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			c.CloseCode, c.CloseReason = ce.Code, ce.Text
		}
		return WSMessage{}, err
	}
	var m WSMessage
	return m, json.Unmarshal(data, &m)
}

// ReadAnsweringPings returns the next message on conn that is not a
// graphql-transport-ws ping, answering each ping with a pong: a client
// that stays silent is closed by the server as dead. The caller sets the
// read deadline.
func ReadAnsweringPings(conn *websocket.Conn) ([]byte, error) {
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return nil, err
		}
		var m struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(data, &m) != nil || m.Type != "ping" {
			return data, nil
		}
		if err := conn.WriteJSON(map[string]any{"type": "pong"}); err != nil {
			return nil, err
		}
	}
}

// NextContaining reads until a message whose raw payload contains marker,
// answering pings on the way; for benchmarks that wait for one message.
func (c *WSClient) NextContaining(marker []byte, timeout time.Duration) (WSMessage, error) {
	for {
		m, err := c.Next(timeout)
		if err != nil || bytes.Contains(m.Payload, marker) {
			return m, err
		}
	}
}

// Expect reads the next message and fails t unless it is of type typ.
func (c *WSClient) Expect(typ string) WSMessage {
	c.T.Helper()
	m, err := c.Next(5 * time.Second)
	if err != nil {
		c.T.Fatalf("waiting for %s: %v", typ, err)
	}
	if m.Type != typ {
		c.T.Fatalf("got %s (%s), want %s", m.Type, m.Payload, typ)
	}
	return m
}

// ExpectClose reads until the server closes the socket and fails t unless
// it closed with code.
func (c *WSClient) ExpectClose(code int) {
	c.T.Helper()
	for {
		_, err := c.Next(10 * time.Second)
		if err == nil {
			continue
		}
		if c.CloseCode == 0 {
			c.T.Fatalf("want close %d, got %v", code, err)
		}
		if c.CloseCode != code {
			c.T.Fatalf("closed with %d (%v), want %d", c.CloseCode, err, code)
		}
		return
	}
}
