package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/testkit"
)

// rawGet sends a bare HTTP/1.1 GET on c and reads the status line.
func rawGet(c net.Conn, path string) (string, error) {
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path); err != nil {
		return "", err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "", err
	}
	return resp.Status, resp.Body.Close()
}

// dialed is a raw connection to the server, closed when the test ends.
func dialed(t *testing.T, d *net.Dialer, addr string) net.Conn {
	t.Helper()
	c := testkit.Must(d.Dial("tcp", addr))(t)
	t.Cleanup(func() {
		if err := c.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			t.Error(err)
		}
	})
	return c
}

// deadline sets c's deadline (read, write or both) or fails the test.
func deadline(t *testing.T, set func(time.Time) error, d time.Duration) {
	t.Helper()
	if err := set(time.Now().Add(d)); err != nil {
		t.Fatal(err)
	}
}

// One address may hold HTTP_MAX_CONNS_PER_IP connections: the next is told
// 429 and closed before anything of it is read, the ones it holds keep
// working, and a closed one gives its place back.
func TestConnectionsPerAddressCapped(t *testing.T) {
	a := startApp(t, map[string]string{"HTTP_MAX_CONNS_PER_IP": "3"})
	var held []net.Conn
	for range 3 {
		held = append(held, dialed(t, &net.Dialer{}, a.Addr()))
	}
	over := dialed(t, &net.Dialer{}, a.Addr())
	deadline(t, over.SetReadDeadline, 10*time.Second)
	answer, err := io.ReadAll(over)
	if err != nil || !strings.HasPrefix(string(answer), "HTTP/1.1 429 ") || !strings.HasSuffix(string(answer), "Too many connections from this address") {
		t.Fatalf("a fourth connection from one address: %q %v", answer, err)
	}
	for i, c := range held {
		if status, err := rawGet(c, "/healthz"); err != nil || status != "200 OK" {
			t.Fatalf("held connection %d: %q %v", i, status, err)
		}
	}
	if err := held[0].Close(); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, func() bool {
		c := dialed(t, &net.Dialer{}, a.Addr())
		deadline(t, c.SetDeadline, 5*time.Second)
		status, err := rawGet(c, "/healthz")
		return err == nil && status == "200 OK"
	}, "a closed connection never gave its place back")
}

// A client that sends its request slower than HTTP_READ_TIMEOUT allows
// (slowloris: a header line now and then, never the end) is cut off, and
// so is a keep-alive connection left idle past HTTP_IDLE_TIMEOUT.
func TestSlowAndIdleClientsCutOff(t *testing.T) {
	a := startApp(t, map[string]string{"HTTP_READ_TIMEOUT": "1s", "HTTP_IDLE_TIMEOUT": "1s"})

	c := dialed(t, &net.Dialer{}, a.Addr())
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	cutOff := false
	for i := 0; i < 200 && !cutOff; i++ { // at most 20 s of dribbling
		deadline(t, c.SetReadDeadline, 100*time.Millisecond)
		var one [1]byte
		n, err := c.Read(one[:])
		switch {
		case n > 0:
			// fasthttp says why before it closes: 408, then the end.
			deadline(t, c.SetReadDeadline, 10*time.Second)
			rest, err := io.ReadAll(c)
			// A header line sent just before the close makes the kernel
			// reset the connection, which may cut the 408 short.
			answer := string(one[:n]) + string(rest)
			whole := err == nil && strings.HasPrefix(answer, "HTTP/1.1 408 ")
			cut := errors.Is(err, syscall.ECONNRESET) && (strings.HasPrefix(answer, "HTTP/1.1 408 ") || strings.HasPrefix("HTTP/1.1 408 ", answer))
			if !whole && !cut {
				t.Fatalf("the server's answer to an unfinished request: %q %v", answer, err)
			}
			cutOff = true
		case errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET):
			cutOff = true
		}
		if !cutOff {
			_, err = fmt.Fprintf(c, "X-Slow-%d: 1\r\n", i)
			cutOff = err != nil
		}
	}
	if !cutOff {
		t.Fatal("a request dribbled in a header line every 100 ms for 20 s was never cut off (HTTP_READ_TIMEOUT 1s)")
	}

	idle := dialed(t, &net.Dialer{}, a.Addr())
	if status, err := rawGet(idle, "/healthz"); err != nil || status != "200 OK" {
		t.Fatalf("first request on a keep-alive connection: %q %v", status, err)
	}
	deadline(t, idle.SetReadDeadline, 20*time.Second)
	var one [1]byte
	if n, err := idle.Read(one[:]); n != 0 || !(errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)) {
		t.Fatalf("an idle keep-alive connection (HTTP_IDLE_TIMEOUT 1s) after 20 s: %d bytes, %v", n, err)
	}
}

// A client that asks for a large answer and reads it slower than
// HTTP_WRITE_TIMEOUT allows is cut off mid-answer, so it cannot hold the
// connection's goroutine and buffers for as long as it likes.
func TestSlowReaderOfLargeAnswerCutOff(t *testing.T) {
	a := startApp(t, map[string]string{"HTTP_WRITE_TIMEOUT": "1s", "SOCKET_SEND_BUFFER": "4096"})
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return errors.Join(err, serr)
	}}
	c := dialed(t, &d, a.Addr())
	body := testkit.Must(json.Marshal(map[string]any{"query": `{ __schema { types { name description fields { name description args { name description type { name kind } } type { name kind ofType { name kind } } } enumValues { name description } inputFields { name description type { name kind } } } } }`}))(t)
	if _, err := fmt.Fprintf(c, "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReaderSize(c, 16)
	var head bytes.Buffer
	length := -1
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the answer's head: %v", err)
		}
		head.WriteString(line)
		if v, ok := strings.CutPrefix(strings.ToLower(line), "content-length: "); ok {
			length = testkit.Must(strconv.Atoi(strings.TrimSpace(v)))(t)
		}
		if line == "\r\n" {
			break
		}
	}
	if length < 128<<10 {
		t.Fatalf("the answer is too small (%d bytes) to outlast the buffers: %s", length, head.String())
	}
	got := 0
	var err error
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end) && err == nil; {
		var chunk [64]byte
		var n int
		deadline(t, c.SetReadDeadline, 5*time.Second)
		n, err = r.Read(chunk[:])
		got += n
		time.Sleep(20 * time.Millisecond) // the slow reader: 64 bytes every 20 ms
	}
	if got >= length || err == nil {
		t.Fatalf("a slow reader got %d of %d bytes (%v): the server never gave up (HTTP_WRITE_TIMEOUT 1s)", got, length, err)
	}
}

// A WebSocket message larger than MAX_BODY_BYTES closes its socket with
// 1009 (message too big) before the server buffers it; other sockets
// are untouched.
func TestOversizedSocketMessageCloses(t *testing.T) {
	a := startApp(t, map[string]string{"MAX_BODY_BYTES": "4096"})
	ann := a.signUp(t, "ann@example.com")
	other := a.subscribed(t, ann, `subscription { notifications { id } }`)
	c := a.dial(t)
	c.Init(ann.bearer())
	// The server may close while the client is still writing the message:
	// the rest of the write then meets a reset, and so may the read of the
	// close frame. Either way the socket was cut; when the close frame
	// arrives, it says 1009.
	werr := c.Conn.WriteJSON(map[string]any{"type": "subscribe", "id": "big",
		"payload": map[string]any{"query": `{ me { id } }`, "variables": map[string]any{"pad": strings.Repeat("x", 8192)}}})
	for {
		_, err := c.Next(10 * time.Second)
		if err == nil {
			continue
		}
		if c.CloseCode == 0 && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("the oversized message: write %v, then %v; want the socket closed with 1009", werr, err)
		}
		if c.CloseCode != 0 && c.CloseCode != 1009 {
			t.Fatalf("closed with %d, want 1009", c.CloseCode)
		}
		break
	}
	other.Send("subscribe", "me", map[string]any{"query": `{ me { id } }`})
	if m := other.Expect("next"); !strings.Contains(string(m.Payload), ann.Member.ID) {
		t.Fatalf("the other socket after one was closed for size: %s", m.Payload)
	}
}
