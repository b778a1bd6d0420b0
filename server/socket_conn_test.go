package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/regulars/regulars/internal/testkit"
)

// Sockets hand fasthttp back each handshake's request context and read
// buffer at once and read their raw connections (live.Hub.Upgrade,
// KeepHijackedConns): nothing of a socket may be in memory another
// connection reuses. Large POSTs, their bodies streamed (StreamRequestBody)
// past fasthttp's first 8 KB, are each answered from their own body while
// sockets open, talk and close on other connections, and every socket is
// served its own messages.
func TestSocketsAndStreamedBodiesShareTheServer(t *testing.T) {
	a := startApp(t, map[string]string{"WS_MAX_PER_IP": "1000", "HTTP_MAX_CONNS_PER_IP": "1000",
		"RATE_LIMIT_IP_RPS": "100000", "RATE_LIMIT_IP_BURST": "100000"})
	const rounds = 30
	errs := make(chan error, 4*rounds)
	var wg sync.WaitGroup
	for i := range rounds {
		wg.Go(func() { errs <- bigPost(a.url, i) })
		wg.Go(func() { errs <- socketRound(a.Addr(), i) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// bigPost posts a body of about 300 KB whose query, last in the body, asks
// for a field under an alias naming i; the answer must carry that alias.
func bigPost(url string, i int) error {
	pad := make([]byte, 150_000)
	_, _ = rand.Read(pad)
	body := fmt.Appendf(nil, `{"variables":{"pad":"%x"},"query":"{ post%d: __typename }"}`, pad, i)
	res, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("post %d: %w", i, err)
	}
	raw, err := readBody(res)
	if err != nil {
		return fmt.Errorf("post %d: %w", i, err)
	}
	if want := fmt.Sprintf(`{"data":{"post%d":"Query"}}`, i); res.StatusCode != http.StatusOK || string(raw) != want {
		return fmt.Errorf("post %d: %d %s, want %s", i, res.StatusCode, raw, want)
	}
	return nil
}

// socketRound opens a socket, has one query answered on it and closes it.
func socketRound(addr string, i int) (err error) {
	d := websocket.Dialer{Subprotocols: []string{testkit.Subprotocol}, HandshakeTimeout: 10 * time.Second}
	conn, _, err := d.Dial("ws://"+addr+"/graphql", nil)
	if err != nil {
		return fmt.Errorf("socket %d: %w", i, err)
	}
	defer func() {
		if cerr := conn.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("socket %d: closing: %w", i, cerr)
		}
	}()
	c := &testkit.WSClient{Conn: conn}
	if err := conn.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{}}); err != nil {
		return fmt.Errorf("socket %d: %w", i, err)
	}
	if m, err := c.Next(10 * time.Second); err != nil || m.Type != "connection_ack" {
		return fmt.Errorf("socket %d: %v %+v, want connection_ack", i, err, m)
	}
	if err := conn.WriteJSON(map[string]any{"id": "q", "type": "subscribe", "payload": map[string]any{"query": fmt.Sprintf("{ socket%d: __typename }", i)}}); err != nil {
		return fmt.Errorf("socket %d: %w", i, err)
	}
	m, err := c.Next(10 * time.Second)
	if want := fmt.Sprintf(`{"data":{"socket%d":"Query"}}`, i); err != nil || m.Type != "next" || string(m.Payload) != want {
		return fmt.Errorf("socket %d: %v %s %s, want next %s", i, err, m.Type, m.Payload, want)
	}
	return nil
}

// Sockets close their connections themselves (fasthttp keeps hijacked
// connections): one that ends, whichever side ends it, frees its place
// under HTTP_MAX_CONNS_PER_IP. Far more sockets than the cap open and end
// one after the other, some refused by the server (no subprotocol: 4406),
// some closed by the client.
func TestEndedSocketsFreeTheirConnections(t *testing.T) {
	a := startApp(t, map[string]string{"HTTP_MAX_CONNS_PER_IP": "3"})
	for i := range 12 {
		// The server notices a client's close when it reads it: allow it
		// a moment before the next connection counts.
		var (
			conn *websocket.Conn
			err  error
		)
		protos := []string{testkit.Subprotocol}
		if i%2 == 1 {
			protos = nil
		}
		d := websocket.Dialer{Subprotocols: protos, HandshakeTimeout: 5 * time.Second}
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			conn, _, err = d.Dial("ws://"+a.Addr()+"/graphql", nil)
			if err == nil || time.Now().After(deadline) {
				break
			}
		}
		if err != nil {
			t.Fatalf("socket %d: %v (a connection of an ended socket is still open)", i, err)
		}
		c := &testkit.WSClient{T: t, Conn: conn}
		if protos == nil {
			c.ExpectClose(4406)
		} else {
			c.Init("")
		}
		if err := conn.Close(); err != nil {
			t.Fatalf("socket %d: closing: %v", i, err)
		}
	}
}

// A client that sends its first frame in the same write as its handshake,
// before the server's answer (RFC 6455 has it wait, some do not), still
// has it read: it lies in fasthttp's buffer, which that socket keeps.
func TestSocketFrameSentWithTheHandshake(t *testing.T) {
	a := startApp(t, nil)
	conn, err := net.Dial("tcp", a.Addr())
	if err != nil {
		t.Fatal(err)
	}
	testkit.Defer(t, conn.Close)
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	handshake := "GET /graphql HTTP/1.1\r\nHost: " + a.Addr() + "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: " + testkit.Subprotocol + "\r\n\r\n"
	if _, err := conn.Write(append([]byte(handshake), clientFrame(`{"type":"connection_init","payload":{}}`)...)); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	res, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusSwitchingProtocols || res.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("handshake answered %d %v", res.StatusCode, res.Header)
	}
	head := make([]byte, 2)
	if _, err := io.ReadFull(r, head); err != nil {
		t.Fatalf("no message after the handshake: %v", err)
	}
	msg := make([]byte, head[1]&0x7f)
	if _, err := io.ReadFull(r, msg); err != nil {
		t.Fatal(err)
	}
	if head[0] != 0x81 || !strings.Contains(string(msg), `"connection_ack"`) {
		t.Fatalf("got frame %x %s, want connection_ack", head[0], msg)
	}
}

// clientFrame is one masked text frame of fewer than 126 bytes.
func clientFrame(text string) []byte {
	mask := []byte{1, 2, 3, 4}
	f := append([]byte{0x81, 0x80 | byte(len(text))}, mask...)
	for i := range len(text) {
		f = append(f, text[i]^mask[i%4])
	}
	return f
}
