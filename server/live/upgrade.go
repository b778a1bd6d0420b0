package live

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/gofiber/fiber/v2"
)

// handshakeRequest copies what the upgrade reads of a WebSocket handshake
// out of fasthttp's request, and checks it as the upgrader will (GET, the
// Connection and Upgrade tokens, version 13, a 16-byte key): a handshake
// it refuses gets 426 here, while an HTTP answer can still be given.
func handshakeRequest(c *fiber.Ctx) (*http.Request, bool) {
	if !c.Context().IsGet() {
		return nil, false
	}
	h := http.Header{}
	for _, k := range []string{"Connection", "Upgrade", "Sec-Websocket-Version", "Sec-Websocket-Key", "Sec-Websocket-Protocol"} {
		if v := c.Request().Header.Peek(k); len(v) > 0 {
			h.Set(k, string(v))
		}
	}
	r := &http.Request{Method: http.MethodGet, Header: h}
	key, err := base64.StdEncoding.DecodeString(h.Get("Sec-Websocket-Key"))
	return r, websocket.IsWebSocketUpgrade(r) && hasToken(h.Get("Sec-Websocket-Version"), "13") && err == nil && len(key) == 16
}

// hasToken reports whether the comma-separated list holds token.
func hasToken(list, token string) bool {
	for t := range strings.SplitSeq(list, ",") {
		if strings.EqualFold(strings.TrimSpace(t), token) {
			return true
		}
	}
	return false
}

// answerHeader copies the headers the routes before Upgrade set on the
// answer (the request id, CORS), for the handshake's answer; what the
// upgrade or fasthttp writes itself is left out.
func answerHeader(c *fiber.Ctx) http.Header {
	h := http.Header{}
	c.Response().Header.VisitAll(func(k, v []byte) {
		key := http.CanonicalHeaderKey(string(k))
		switch {
		case key == "Content-Type", key == "Content-Length", key == "Server", key == "Date",
			key == "Connection", key == "Upgrade", key == "Transfer-Encoding", strings.HasPrefix(key, "Sec-Websocket-"):
			return
		}
		h.Add(key, string(v))
	})
	return h
}

// aLongTimeAgo is a read deadline that has passed: a read fails at once
// with a timeout, before asking the connection for anything.
var aLongTimeAgo = time.Unix(1, 0)

// accept answers the handshake on the connection fasthttp hijacked and
// returns the socket, or nil when the connection is gone (and closed).
//
// fasthttp hands over a connection that reads through the 4 KB buffer it
// read the request with, so a socket would keep that buffer for its life.
// The buffer holds nothing when the client keeps to RFC 6455 (4.1), which
// has it wait for the server's answer before sending anything, and the
// answer is not written yet. accept looks (a read with a deadline that has
// passed returns what the buffer holds, or a timeout without asking the
// connection for anything), and when it is empty the socket reads and
// writes the raw connection, its only read buffer being the library's 125
// bytes. A client that did send early is served as before, through
// fasthttp's buffer.
func (s *Hub) accept(nc net.Conn, r *http.Request, header http.Header) *websocket.Conn {
	conn := nc
	if u, ok := nc.(interface{ UnsafeConn() net.Conn }); ok {
		var early [1]byte
		_ = nc.SetReadDeadline(aLongTimeAgo)
		n, err := nc.Read(early[:])
		var ne net.Error
		switch {
		case n > 0:
			conn = &readAhead{Conn: nc, r: io.MultiReader(bytes.NewReader(early[:n]), nc)}
		case errors.As(err, &ne) && ne.Timeout():
			conn = u.UnsafeConn()
		default:
			_ = nc.Close()
			return nil
		}
		// The upgrade clears the deadline.
	}
	ws, err := s.upgrader.Upgrade(&hijacked{conn: conn}, r, header)
	if err != nil {
		_ = conn.Close()
		return nil
	}
	return ws
}

// readAhead is a connection whose first bytes were already read.
type readAhead struct {
	net.Conn
	r io.Reader
}

func (c *readAhead) Read(p []byte) (int, error) { return c.r.Read(p) }

// hijacked is the http.ResponseWriter the library's upgrader hijacks: the
// connection, already hijacked from fasthttp.
type hijacked struct {
	conn   net.Conn
	header http.Header
}

func (w *hijacked) Header() http.Header {
	if w.header == nil {
		w.header = http.Header{}
	}
	return w.header
}

// Write and WriteHeader are not used: the upgrader answers on the
// connection, and its Error writes nothing.
func (w *hijacked) Write(b []byte) (int, error) { return len(b), nil }
func (w *hijacked) WriteHeader(int)             {}

// Hijack gives the upgrader the connection, with buffers it uses only to
// check that nothing was read ahead and to write its answer.
func (w *hijacked) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return w.conn, bufio.NewReadWriter(bufio.NewReaderSize(w.conn, 16), bufio.NewWriterSize(w.conn, 512)), nil
}
