// Package live serves the graphql-transport-ws protocol on a Fiber route:
// sockets, their operations (queries, mutations, subscriptions) and their
// lifetime (caps, keep-alive, slow readers, sessions that end). It runs
// operations through a Backend the server gives it and knows nothing of
// configuration files, HTTP routes or the database.
package live

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/regulars/regulars/graph/request"

	"github.com/99designs/gqlgen/graphql"
	"github.com/fasthttp/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/graph"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/member/auth"
)

// The graphql-transport-ws protocol, served on the /graphql path.
// https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md
const subprotocol = "graphql-transport-ws"

// Close codes. 4413 is ours: the client read too slowly (its send queue
// stayed full for WS_STALL_TIMEOUT); it should reconnect and resume.
const (
	closeNormal          = 1000
	closeGoingAway       = 1001
	closeInternal        = 4500
	closeBadMessage      = 4400
	closeUnauthorized    = 4401
	closeForbidden       = 4403
	closeBadSubprotocol  = 4406
	closeInitTimeout     = 4408
	closeDuplicateID     = 4409
	closeSendOverflow    = 4413
	closeTooManyInits    = 4429
	closeTryAgainLater   = 1013 // the database could not be asked; the reference client retries it
	ClosePolicy          = 1008 // over a socket cap; the reference client does not retry it
	wsWriteTimeout       = 10 * time.Second
	wsMaxOperationsPerWS = 100
)

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// Config bounds sockets; the server fills it from its settings (WS_*).
type Config struct {
	MaxMessageBytes int           // a larger message closes the socket 1009 (MAX_BODY_BYTES)
	InitTimeout     time.Duration // no connection_init by then: 4408
	StallTimeout    time.Duration // a send queue full this long: 4413
	PingInterval    time.Duration // server pings; silence for twice this drops the socket
	SendQueue       int           // messages queued per socket
	MaxPerIP        int           // open sockets per client address
	MaxPerMember    int           // open sockets per signed-in member
	CORSOrigins     string        // browsers' origins allowed to open a socket
	CheckTimeout    time.Duration // deadline of the session check at connection_init
}

// Backend is what a socket asks of the server.
type Backend interface {
	// Principal checks connection_init's authorization ("Bearer …",
	// "ApiKey …", or "" for anonymous); an error refuses it.
	Principal(authorization string) (member.Principal, error)
	// CheckSession says whether a member's token still speaks for its
	// session: member.ErrSessionEnded, auth.ErrRolesChanged, or another
	// error when it could not tell.
	CheckSession(ctx context.Context, p member.Principal) error
	// Allow takes one operation from p's rate limit; when refused,
	// retryAfter is in seconds.
	Allow(p member.Principal) (ok bool, retryAfter int)
	// Prepare readies one operation for p: the context to dispatch it in
	// and its operation context, or the errors refusing it, ready to send.
	Prepare(ctx context.Context, p member.Principal, reqID, ip string, params *graphql.RawParams) (context.Context, *graphql.OperationContext, gqlerror.List)
	// Dispatch runs a prepared operation.
	Dispatch(ctx context.Context, rc *graphql.OperationContext) (graphql.ResponseHandler, context.Context)
	// Execute runs a detached subscription's operation (params, as
	// prepared once) again for one value of its stream and returns that
	// value's result (request.StreamHooks); it takes nothing from p's rate
	// limit, which paid when the subscription started.
	Execute(ctx context.Context, p member.Principal, reqID, ip string, params *graphql.RawParams, value any) *graphql.Response
	// Observe records an operation's first response.
	Observe(operation string, start time.Time, resp *graphql.Response)
	// SocketsOpen moves the count of open sockets by delta.
	SocketsOpen(delta int)
}

// Hub tracks open sockets so shutdown can close each one, counts them per
// client address and per member for the caps, and finds a member's
// sockets when a session ends.
type Hub struct {
	cfg Config
	be  Backend

	upgrader websocket.Upgrader
	// writeBuffers lends sockets a write buffer for the time of one
	// write, so an idle socket holds none.
	writeBuffers sync.Pool

	mu       sync.Mutex
	open     map[*wsConn]struct{}
	byIP     map[string]int
	byMember map[bson.ObjectID]map[*wsConn]struct{}
	closing  bool
	wg       sync.WaitGroup
}

// New returns a Hub serving sockets with cfg, running operations through be.
func New(cfg Config, be Backend) *Hub {
	s := &Hub{cfg: cfg, be: be, open: map[*wsConn]struct{}{}, byIP: map[string]int{}, byMember: map[bson.ObjectID]map[*wsConn]struct{}{}}
	// The library's net/http upgrader, on the connection fasthttp hands
	// over (see accept); its FastHTTPUpgrader would read the socket
	// through fasthttp's 4 KB request reader for the socket's life.
	s.upgrader = websocket.Upgrader{
		HandshakeTimeout: wsWriteTimeout,
		Subprotocols:     []string{subprotocol},
		// The smallest the library takes (a control frame must fit):
		// longer messages are read in pieces.
		ReadBufferSize:  readBufferSize,
		WriteBufferSize: writeBufferSize,
		WriteBufferPool: &s.writeBuffers,
		CheckOrigin:     func(*http.Request) bool { return true }, // checked in Upgrade
		// The handshake was checked before the hijack (handshakeRequest);
		// after it there is no HTTP answer to give: accept closes.
		Error: func(http.ResponseWriter, *http.Request, int, error) {},
	}
	return s
}

// Buffer sizes of a socket: see Hub.upgrader.
const (
	readBufferSize  = 125
	writeBufferSize = 4096
)

// Open counts the open sockets from ip or, when memberID is not zero, those
// the member holds.
func (s *Hub) Open(ip string, memberID bson.ObjectID) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !memberID.IsZero() {
		return len(s.byMember[memberID])
	}
	return s.byIP[ip]
}

// Reasons sent with ClosePolicy when a cap refuses the newest socket.
const (
	ReasonTooManyFromIP    = "Too many sockets from this address"
	ReasonTooManyForMember = "Too many sockets for this member"
)

// add registers a socket from c.ip. It refuses (with the close code and
// reason to send) while shutting down, and when the address already holds
// maxPerIP open sockets: the newest is the one refused.
func (s *Hub) add(c *wsConn, maxPerIP int) (code int, reason string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return closeGoingAway, "server shutting down", false
	}
	if s.byIP[c.ip] >= maxPerIP {
		return ClosePolicy, ReasonTooManyFromIP, false
	}
	s.byIP[c.ip]++
	s.open[c] = struct{}{}
	s.wg.Add(1)
	return 0, "", true
}

// claimMember counts c against its member's cap once it has authenticated,
// and files it under its member and session for EndSessions; false means
// the member already holds max sockets and c must close.
func (s *Hub) claimMember(c *wsConn, p member.Principal, max int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.byMember[p.MemberID]) >= max {
		return false
	}
	if s.byMember[p.MemberID] == nil {
		s.byMember[p.MemberID] = map[*wsConn]struct{}{}
	}
	s.byMember[p.MemberID][c] = struct{}{}
	c.member, c.session = p.MemberID, p.Session
	return true
}

// EndSessions closes, with 4403 and the event's reason, the sockets of the
// member's ended session (every session when ev.Session is zero).
func (s *Hub) EndSessions(ev auth.SessionEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.byMember[ev.MemberID] {
		if ev.Session.IsZero() || c.session == ev.Session {
			c.close(closeForbidden, ev.Reason, false)
		}
	}
}

func (s *Hub) remove(c *wsConn) {
	s.mu.Lock()
	delete(s.open, c)
	if s.byIP[c.ip]--; s.byIP[c.ip] <= 0 {
		delete(s.byIP, c.ip)
	}
	if !c.member.IsZero() {
		if delete(s.byMember[c.member], c); len(s.byMember[c.member]) == 0 {
			delete(s.byMember, c.member)
		}
	}
	s.mu.Unlock()
	s.wg.Done()
}

// CloseAll asks every socket to flush what it has queued and close with
// 1001, then waits for them until deadline.
func (s *Hub) CloseAll(deadline time.Time) {
	s.mu.Lock()
	s.closing = true
	for c := range s.open {
		c.close(closeGoingAway, "server shutting down", true)
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Until(deadline)):
	}
}

// Upgrade turns the request into a socket; reqID and ip name it in logs
// and ip counts against MaxPerIP.
func (s *Hub) Upgrade(c *fiber.Ctx, reqID, ip string) error {
	// Browsers always send Origin and are held to CORS_ORIGINS, except
	// pages this server serves itself (the console at /console: same
	// host). Native apps send none and are let in: they authenticate with
	// a token in connection_init, which a foreign page cannot read.
	if origin := c.Get(fiber.HeaderOrigin); origin != "" && !sameHost(origin, string(c.Request().Host())) && !originAllowed(s.cfg.CORSOrigins, origin) {
		return c.Status(fiber.StatusForbidden).JSON(map[string]any{
			"errors": gqlerror.List{gqlErr("origin "+origin+" may not open a socket here", graph.CodeForbidden)},
		}, "application/json; charset=utf-8")
	}
	req, ok := handshakeRequest(c)
	if !ok {
		return fiber.ErrUpgradeRequired
	}
	// Everything the socket keeps is copied out of the request here:
	// fasthttp reuses the request's memory once the hijack handler below
	// has returned.
	header, reqID := answerHeader(c), strings.Clone(reqID)
	// The server keeps hijacked connections (KeepHijackedConns): fasthttp
	// takes back the request context (the handshake's request and
	// response, a few kilobytes) as soon as the hijack handler returns,
	// rather than keep it for the socket's life, and the socket, on a
	// goroutine of its own, closes its connection itself. The upgrade
	// answers the handshake itself (on the raw connection, see accept), so
	// fasthttp writes nothing.
	c.Context().HijackSetNoResponse(true)
	c.Context().Hijack(func(nc net.Conn) {
		conn := s.accept(nc, req, header)
		if conn == nil {
			return
		}
		go func() {
			defer func() { _ = conn.Close() }()
			defer func() {
				if p := recover(); p != nil {
					slog.Error("panic on socket", "requestId", reqID, "clientIp", ip, "panic", p, "stack", string(debug.Stack()))
				}
			}()
			s.serve(conn, reqID, ip)
		}()
	})
	c.Status(fiber.StatusSwitchingProtocols)
	return nil
}

// sameHost reports whether origin (scheme://host[:port]) names host, the
// request's Host header: a page the server served itself, whatever the
// scheme a proxy in front terminated.
func sameHost(origin, host string) bool {
	_, rest, ok := strings.Cut(origin, "://")
	return ok && host != "" && strings.EqualFold(strings.TrimSuffix(rest, "/"), host)
}

// originAllowed matches a browser's Origin against CORS_ORIGINS as the CORS
// middleware does: exactly, ignoring case and a trailing slash; "*" allows
// any. Without CORS_ORIGINS no browser page may open a socket.
func originAllowed(cors, origin string) bool {
	origin = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(origin)), "/")
	for _, o := range strings.Split(cors, ",") {
		o = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(o)), "/")
		if o == "*" || (o != "" && o == origin) {
			return true
		}
	}
	return false
}

// wsConn is one socket. Only its writer goroutine writes to the connection;
// everything else queues on send, which is bounded: a client too slow to keep
// up is closed rather than allowed to hold memory or slow anyone else. The
// writer runs only while something waits to be written (a message, a ping,
// the close), so an idle socket costs one goroutine, its reader.
type wsConn struct {
	h       *Hub
	conn    *websocket.Conn
	reqID   string
	ip      string        // the client address, for the per-address cap
	member  bson.ObjectID // set once counted against its member's cap
	session bson.ObjectID // the log-in its token belongs to, with member

	send     chan []byte
	closing  chan closeRequest
	closed   chan struct{} // closed once a close is requested
	done     chan struct{} // closed when the writer has sent the close
	closeMu  sync.Mutex
	isClosed bool

	wmu      sync.Mutex
	writing  bool        // a writer runs
	finished bool        // the close was written: no writer starts again
	pingDue  bool        // the ping timer fired since the last ping
	ping     *time.Timer // asks for a ping every PingInterval

	mu        sync.Mutex
	principal member.Principal
	inited    bool
	acked     bool
	expiry    *time.Timer // closes the socket when its token expires
	ops       map[string]context.CancelFunc
	// opsWG counts what may still use the connection: operations being
	// started or run, and pushed subscriptions until they have ended.
	opsWG sync.WaitGroup
}

type closeRequest struct {
	code   int
	reason string
	drain  bool // send what is queued first
}

// serve runs one socket until it ends. The caller closes conn.
func (s *Hub) serve(conn *websocket.Conn, reqID, ip string) {
	c := &wsConn{
		h: s, conn: conn, reqID: reqID, ip: ip,
		send:    make(chan []byte, s.cfg.SendQueue),
		closing: make(chan closeRequest, 1),
		closed:  make(chan struct{}),
		done:    make(chan struct{}),
		ops:     map[string]context.CancelFunc{},
	}
	if code, reason, ok := s.add(c, s.cfg.MaxPerIP); !ok {
		_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
		return
	}
	defer s.remove(c)
	s.be.SocketsOpen(1)
	defer s.be.SocketsOpen(-1)

	c.startPings()
	if conn.Subprotocol() != subprotocol {
		c.close(closeBadSubprotocol, "Subprotocol not acceptable", false)
	} else {
		initTimer := time.AfterFunc(s.cfg.InitTimeout, func() {
			c.mu.Lock()
			inited := c.inited
			c.mu.Unlock()
			if !inited {
				c.close(closeInitTimeout, "Connection initialisation timeout", false)
			}
		})
		c.readLoop()
		initTimer.Stop()
	}
	// The connection is closed when this handler returns, so wait for
	// every operation and the writer first.
	c.mu.Lock()
	if c.expiry != nil {
		c.expiry.Stop()
	}
	c.mu.Unlock()
	c.cancelOps()
	c.opsWG.Wait()
	c.close(closeNormal, "", true)
	<-c.done
	c.wmu.Lock()
	if c.ping != nil {
		c.ping.Stop()
	}
	c.wmu.Unlock()
}

func (c *wsConn) readLoop() {
	defer func() {
		if p := recover(); p != nil {
			slog.Error("panic on socket", "requestId", c.reqID, "clientIp", c.ip, "panic", p, "stack", string(debug.Stack()))
			c.close(closeInternal, "Internal server error", false)
		}
	}()
	c.conn.SetReadLimit(int64(c.h.cfg.MaxMessageBytes))
	for {
		if ping := c.h.cfg.PingInterval; ping > 0 {
			// Our pings make a live client answer, so silence this long means it is gone.
			_ = c.conn.SetReadDeadline(time.Now().Add(2*ping + 5*time.Second))
		}
		closing := c.isClosing()
		if closing {
			// Set after the deadline above, so a close that raced it still wins.
			c.endReads()
		}
		typ, data, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		if closing || c.isClosing() {
			continue // closing: wait for the client's close frame, act on nothing
		}
		// Acting on a message (decoding it, checking a token, the session
		// check's database reads, starting an operation) grows the stack
		// it runs on to many kilobytes, and a goroutine keeps its grown
		// stack until a garbage collection finds it mostly unused: on the
		// reader, which every socket keeps for its life, every idle socket
		// would pay for it. Off its stack, the reader keeps the few
		// kilobytes a blocked read needs.
		var more bool
		offStack(func() { more = c.act(typ, data) })
		if !more {
			return
		}
	}
}

// act decodes one client message and acts on it; false ends the connection.
func (c *wsConn) act(typ int, data []byte) bool {
	if typ != websocket.TextMessage {
		c.close(closeBadMessage, "Messages must be text", false)
		return false
	}
	var msg wsMessage
	if err := json.Unmarshal(data, &msg); err != nil || msg.Type == "" {
		c.close(closeBadMessage, "Invalid message received", false)
		return false
	}
	return c.handle(msg)
}

// handle acts on one client message; false ends the connection.
func (c *wsConn) handle(msg wsMessage) bool {
	switch msg.Type {
	case "connection_init":
		return c.init(msg.Payload)
	case "ping":
		c.enqueue(wsMessage{Type: "pong"})
	case "pong":
	case "subscribe":
		return c.subscribe(msg)
	case "complete":
		c.mu.Lock()
		cancel := c.ops[msg.ID]
		delete(c.ops, msg.ID)
		c.mu.Unlock()
		if cancel != nil {
			cancel()
		}
	default:
		c.close(closeBadMessage, "Invalid message received", false)
		return false
	}
	return true
}

func (c *wsConn) init(payload json.RawMessage) bool {
	c.mu.Lock()
	if c.inited {
		c.mu.Unlock()
		c.close(closeTooManyInits, "Too many initialisation requests", false)
		return false
	}
	c.inited = true
	c.mu.Unlock()

	var params struct {
		Authorization string `json:"authorization"`
	}
	if len(payload) > 0 && string(payload) != "null" {
		if err := json.Unmarshal(payload, &params); err != nil {
			c.close(closeBadMessage, "Invalid message received", false)
			return false
		}
	}
	p, err := c.h.be.Principal(params.Authorization)
	if err != nil {
		c.close(closeForbidden, "Forbidden", false)
		return false
	}
	if !p.MemberID.IsZero() {
		// Filed first, then checked: a session that ends after the check
		// reaches this socket through EndSessions.
		if !c.h.claimMember(c, p, c.h.cfg.MaxPerMember) {
			c.close(ClosePolicy, ReasonTooManyForMember, false)
			return false
		}
		ctx, cancel := context.WithTimeout(context.Background(), c.h.cfg.CheckTimeout)
		err := c.h.be.CheckSession(ctx, p)
		cancel()
		switch {
		case errors.Is(err, member.ErrSessionEnded):
			c.close(closeForbidden, "Session ended: sign in again", false)
			return false
		case errors.Is(err, auth.ErrRolesChanged):
			c.close(closeForbidden, auth.EndRolesChanged, false)
			return false
		case err != nil:
			c.close(closeTryAgainLater, "Database unavailable: try again later", false)
			return false
		}
		c.expireAt(p.Expires)
	}
	c.mu.Lock()
	c.principal, c.acked = p, true
	c.mu.Unlock()
	c.enqueue(wsMessage{Type: "connection_ack"})
	return true
}

// offStack runs f on a goroutine of its own and waits for it, so that f
// does not grow the caller's stack. A panic in f is raised again here.
func offStack(f func()) {
	var p any
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { p = recover() }()
		f()
	}()
	<-done
	if p != nil {
		panic(p)
	}
}

// ReasonExpired closes a socket whose access token expired; the client
// reconnects with a fresh one (connectionParams as a function).
const ReasonExpired = "Access token expired: reconnect with a fresh token"

// expireAt closes the socket when its access token expires; serve stops
// the timer when the socket ends.
func (c *wsConn) expireAt(t time.Time) {
	if t.IsZero() {
		return
	}
	timer := time.AfterFunc(time.Until(t), func() { c.close(closeForbidden, ReasonExpired, false) })
	c.mu.Lock()
	c.expiry = timer
	c.mu.Unlock()
}

func (c *wsConn) subscribe(msg wsMessage) bool {
	var params graphql.RawParams
	if msg.ID == "" || len(msg.Payload) == 0 || decodeParams(msg.Payload, &params) != nil || params.Query == "" && params.Extensions == nil {
		c.close(closeBadMessage, "Invalid message received", false)
		return false
	}
	c.mu.Lock()
	if !c.acked {
		c.mu.Unlock()
		c.close(closeUnauthorized, "Unauthorized", false)
		return false
	}
	if _, dup := c.ops[msg.ID]; dup {
		c.mu.Unlock()
		c.close(closeDuplicateID, "Subscriber for "+msg.ID+" already exists", false)
		return false
	}
	if len(c.ops) >= wsMaxOperationsPerWS {
		c.mu.Unlock()
		c.sendErrors(msg.ID, gqlErr("too many operations on this socket", graph.CodeRateLimited))
		return true
	}
	p := c.principal
	if !p.Expires.IsZero() && !time.Now().Before(p.Expires) {
		// The timer has not fired yet; nothing runs on an expired token.
		c.mu.Unlock()
		c.close(closeForbidden, ReasonExpired, false)
		return false
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.ops[msg.ID] = cancel
	c.opsWG.Add(1)
	c.mu.Unlock()

	if ok, retryAfter := c.h.be.Allow(p); !ok {
		e := gqlErr("too many requests", graph.CodeRateLimited)
		e.Extensions["retryAfter"] = retryAfter
		c.finish(msg.ID)
		c.opsWG.Done()
		c.sendErrors(msg.ID, e)
		return true
	}
	go c.run(ctx, msg.ID, &params, p)
	return true
}

// run executes one operation and streams its results.
func (c *wsConn) run(ctx context.Context, id string, params *graphql.RawParams, p member.Principal) {
	defer c.opsWG.Done()
	defer func() {
		if r := recover(); r != nil {
			slog.Error("panic in socket operation", "requestId", c.reqID, "clientIp", c.ip, "panic", r, "stack", string(debug.Stack()))
			c.close(closeInternal, "Internal server error", false)
		}
	}()
	start := time.Now()
	opCtx := ctx
	ctx, rc, errs := c.h.be.Prepare(ctx, p, c.reqID, c.ip, params)
	if errs != nil {
		name := params.OperationName
		if rc != nil && rc.OperationName != "" {
			name = rc.OperationName
		}
		c.h.be.Observe(name, start, &graphql.Response{Errors: errs})
		if c.finish(id) {
			c.sendErrors(id, errs...)
		}
		return
	}
	r := &result{c: c, id: id, name: rc.OperationName, subscription: rc.Operation.Operation == ast.Subscription, start: start}
	var push *pushOp
	if r.subscription {
		// Only the request is kept: the query as gqlgen read it (a
		// persisted query's text included), its operation and variables.
		push = &pushOp{r: r, p: p, ctx: opCtx, params: &graphql.RawParams{Query: rc.RawQuery, OperationName: params.OperationName, Variables: params.Variables}}
		ctx = request.WithStreamHooks(ctx, &request.StreamHooks{Context: opCtx, Ready: push.ready, Detach: push.detach})
	}
	responses, ctx := c.h.be.Dispatch(ctx, rc)
	if push != nil && push.begin() {
		// The stream tells when it has a value and each value's result is
		// made when it is sent: neither a goroutine nor the dispatched
		// operation is kept meanwhile. The operation now counts in opsWG
		// until it has ended.
		c.opsWG.Add(1)
		context.AfterFunc(opCtx, push.end)
		return
	}
	for {
		resp := responses(ctx)
		if resp == nil || !r.send(ctx, resp) {
			break
		}
	}
	r.done()
}

// result sends one operation's results.
type result struct {
	c            *wsConn
	id, name     string
	subscription bool
	start        time.Time
	sent         bool
}

// send sends one result and reports whether more may follow.
func (r *result) send(ctx context.Context, resp *graphql.Response) bool {
	c := r.c
	if !r.sent {
		r.sent = true
		c.h.be.Observe(r.name, r.start, resp)
		// A subscription that could not start (its resolver refused)
		// is an error message, as the protocol says, not a result.
		if r.subscription && len(resp.Errors) > 0 && isNull(resp.Data) {
			if c.finish(r.id) {
				c.sendErrors(r.id, resp.Errors...)
			}
			return false
		}
	}
	// Results wait for room in the queue, which paces a replay to the
	// client's reading; only a client that stops reading is cut off.
	return c.enqueueWait(ctx, wsMessage{ID: r.id, Type: "next", Payload: mustJSON(resp)}) && ctx.Err() == nil
}

// done ends the operation after its last result. A client that completed
// the operation itself gets no complete back.
func (r *result) done() {
	if r.c.finish(r.id) {
		r.c.enqueue(wsMessage{ID: r.id, Type: "complete"})
	}
}

// pushOp is a detached subscription (request.StreamHooks): its stream says
// when it has a value, a goroutine runs only while values wait, and each
// value's result is made from the kept request when it is sent. An idle
// subscription costs its stream and this, and no stack.
type pushOp struct {
	r      *result
	p      member.Principal
	ctx    context.Context // the operation's: ends when it does
	params *graphql.RawParams

	mu       sync.Mutex
	next     func() (any, bool) // the stream's next value; set by detach
	started  bool               // the dispatch returned: a pump may run
	running  bool               // a pump runs
	ended    bool               // the operation's context ended
	released bool               // opsWG was told
	waiting  int                // values (or the end) the stream announced, not yet taken
}

// detach takes the stream the resolver started.
func (p *pushOp) detach(next func() (any, bool)) {
	p.mu.Lock()
	p.next = next
	p.mu.Unlock()
}

// ready counts one value the stream put on its channel.
func (p *pushOp) ready() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.waiting++
	p.wake()
}

// begin starts serving the stream once the dispatch has returned; false
// means the resolver did not detach it (or did not start) and the caller
// must read the dispatched operation.
func (p *pushOp) begin() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.next == nil {
		return false
	}
	p.started = true
	p.wake()
	return true
}

// wake starts a pump if values wait and none runs; p.mu is held.
func (p *pushOp) wake() {
	if p.started && !p.running && !p.ended && p.waiting > 0 {
		p.running = true
		go p.pump()
	}
}

// pump sends the waiting values' results, then ends.
func (p *pushOp) pump() {
	c := p.r.c
	defer func() {
		if r := recover(); r != nil {
			slog.Error("panic in socket operation", "requestId", c.reqID, "clientIp", c.ip, "panic", r, "stack", string(debug.Stack()))
			c.close(closeInternal, "Internal server error", false)
			c.finish(p.r.id)
			p.stop()
		}
	}()
	for {
		p.mu.Lock()
		if p.ended || p.waiting == 0 {
			p.mu.Unlock()
			p.stop()
			return
		}
		p.waiting--
		p.mu.Unlock()
		// The stream put a value (or closed) before counting it, so this
		// does not block.
		v, ok := p.next()
		if !ok || !p.r.send(p.ctx, c.h.be.Execute(p.ctx, p.p, c.reqID, c.ip, p.params, v)) {
			p.r.done() // cancels the context: end follows
			p.stop()
			return
		}
	}
}

// stop marks the pump stopped and releases the operation if it has ended.
func (p *pushOp) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running = false
	p.release()
}

// end runs once the operation's context has ended.
func (p *pushOp) end() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ended = true
	p.release()
}

// release tells opsWG, once, that the operation has ended and no pump
// runs; p.mu is held.
func (p *pushOp) release() {
	if p.ended && !p.running && !p.released {
		p.released = true
		p.r.c.opsWG.Done()
	}
}

// finish forgets operation id and reports whether it was still running.
func (c *wsConn) finish(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	cancel, ok := c.ops[id]
	if ok {
		cancel()
		delete(c.ops, id)
	}
	return ok
}

func (c *wsConn) cancelOps() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, cancel := range c.ops {
		cancel()
		delete(c.ops, id)
	}
}

func (c *wsConn) sendErrors(id string, errs ...*gqlerror.Error) {
	c.enqueue(wsMessage{ID: id, Type: "error", Payload: mustJSON(errs)})
}

func isNull(data json.RawMessage) bool {
	return len(data) == 0 || string(data) == "null"
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal([]*gqlerror.Error{gqlErr("internal error", graph.CodeInternal)})
	}
	return b
}

// enqueue queues a message without ever blocking; a full queue closes the socket.
func (c *wsConn) enqueue(msg wsMessage) {
	b, _ := json.Marshal(msg)
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	if c.isClosed {
		return
	}
	select {
	case c.send <- b:
		c.kick()
	default:
		c.closeLocked(closeRequest{code: closeSendOverflow, reason: "Send queue overflow: reconnect and resume"})
	}
}

// enqueueWait queues a message of the operation running in ctx, waiting
// while the queue is full; a queue full for the whole stall timeout closes
// the socket. It reports whether the message was queued.
func (c *wsConn) enqueueWait(ctx context.Context, msg wsMessage) bool {
	b, _ := json.Marshal(msg)
	select {
	case c.send <- b:
		c.kick()
		return true
	default:
	}
	// The queue is full, so a writer runs: it takes from it.
	timer := time.NewTimer(c.h.cfg.StallTimeout)
	defer timer.Stop()
	select {
	case c.send <- b:
		c.kick()
		return true
	case <-c.closed:
		return false
	case <-ctx.Done():
		return false
	case <-timer.C:
		c.close(closeSendOverflow, "Send queue overflow: reconnect and resume", false)
		// The writer is stuck in a write the client does not read: cut it
		// short so the socket closes now. A client that reads nothing at
		// all sees the connection drop rather than the close frame. The
		// network connection's deadline interrupts a write under way; the
		// WebSocket one only applies to the next.
		_ = c.conn.NetConn().SetWriteDeadline(time.Now())
		return false
	}
}

// close asks the writer to close the socket; the first request wins.
func (c *wsConn) close(code int, reason string, drain bool) {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	c.closeLocked(closeRequest{code: code, reason: reason, drain: drain})
}

func (c *wsConn) closeLocked(r closeRequest) {
	if c.isClosed {
		return
	}
	c.isClosed = true
	close(c.closed)
	c.closing <- r
	c.kick()
}

// kick starts the writer unless one runs or the close was written; call
// it after queueing something for it.
func (c *wsConn) kick() {
	c.wmu.Lock()
	start := !c.writing && !c.finished
	c.writing = c.writing || start
	c.wmu.Unlock()
	if start {
		go c.writeLoop()
	}
}

// startPings asks for a ping every PingInterval. The timer runs no
// goroutine while it waits; the writer sends the ping.
func (c *wsConn) startPings() {
	d := c.h.cfg.PingInterval
	if d <= 0 {
		return
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.ping = time.AfterFunc(d, func() {
		c.wmu.Lock()
		if c.finished {
			c.wmu.Unlock()
			return
		}
		c.pingDue = true
		c.ping.Reset(d)
		c.wmu.Unlock()
		c.kick()
	})
}

var pingMsg, _ = json.Marshal(wsMessage{Type: "ping"})

// writeLoop is the socket's only writer: it writes what waits (the close
// first, then a ping that is due, then the queue) and ends when nothing
// does. kick starts it again.
func (c *wsConn) writeLoop() {
	for {
		select {
		case r := <-c.closing:
			if r.drain {
				c.drain()
			}
			_ = c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(r.code, r.reason), time.Now().Add(time.Second))
			c.endReads()
			c.finishWriting()
			return
		default:
		}
		c.wmu.Lock()
		ping := c.pingDue
		c.pingDue = false
		c.wmu.Unlock()
		if ping {
			c.write(pingMsg)
		}
		select {
		case b := <-c.send:
			if !c.write(b) {
				c.close(closeGoingAway, "", false)
				<-c.closing
				c.endReads()
				c.finishWriting()
				return
			}
			continue
		default:
		}
		// Nothing waits: stop, unless something was queued since (its
		// kick found this writer still running).
		c.wmu.Lock()
		if len(c.send) == 0 && len(c.closing) == 0 && !c.pingDue {
			c.writing = false
			c.wmu.Unlock()
			return
		}
		c.wmu.Unlock()
	}
}

// finishWriting marks the close written: no writer starts again.
func (c *wsConn) finishWriting() {
	c.wmu.Lock()
	c.writing, c.finished = false, true
	c.wmu.Unlock()
	close(c.done)
}

func (c *wsConn) isClosing() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

// closeHandshake is how long the reader waits for the client to answer our
// close frame before giving up on it.
const closeHandshake = time.Second

// endReads makes the reader stop soon: it sees the client's answering close
// frame, or its deadline passes. Closing a hijacked connection does nothing
// until the handler returns, so a deadline is what unblocks the read.
func (c *wsConn) endReads() {
	_ = c.conn.SetReadDeadline(time.Now().Add(closeHandshake))
}

func (c *wsConn) drain() {
	for {
		select {
		case b := <-c.send:
			if !c.write(b) {
				return
			}
		default:
			return
		}
	}
}

func (c *wsConn) write(b []byte) bool {
	_ = c.conn.SetWriteDeadline(time.Now().Add(wsWriteTimeout))
	return c.conn.WriteMessage(websocket.TextMessage, b) == nil
}

func gqlErr(msg, code string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": code}}
}

// decodeParams decodes a subscribe payload, keeping numbers exact as
// gqlgen expects.
func decodeParams(data []byte, v *graphql.RawParams) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}
