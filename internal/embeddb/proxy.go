package embeddb

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// The driver's pool of one connection serializes a client's commands only
// while that connection lives. When a command times out the driver closes
// the connection (at once on cancellation, after 400 ms of waiting for the
// reply on a deadline) and opens another, while FerretDB goes on running
// the abandoned command on the old one: the next commands ran beside it,
// and two updates of one document could lose one (FerretDB 1.x applies
// them as read, then write). Several clients (instances, tests) on one
// database were never serialized at all.
//
// proxy sits between every client and FerretDB. It forwards each command
// over ONE upstream connection, in the order received, and always reads
// FerretDB's reply to the end, discarding it when its client has gone
// away: an abandoned command finishes before the next one starts, and
// FerretDB never sees a client leave mid-command. Hello (the handshake and
// the driver's heartbeats) goes over an upstream connection of the client
// connection's own, so that heartbeats are not queued behind a long scan
// and the server is not marked down for it, and so that each connection's
// handshake is the first hello FerretDB sees on its connection (FerretDB
// refuses client metadata sent twice). Cursors opened by a client
// connection that ends are killed, as FerretDB did when its connection
// ended.

// maxMessage is the largest wire message accepted, MongoDB's
// maxMessageSizeBytes; a longer one ends its connection.
const maxMessage = 48_000_000

const (
	opQuery = 2004
	opMsg   = 2013

	flagMoreToCome = 1 << 1
)

// proxy forwards wire messages between clients and FerretDB (see above).
type proxy struct {
	ln       net.Listener
	upstream string // FerretDB's host:port
	queue    chan *command
	done     chan struct{}
	received atomic.Int64 // commands read in full from clients (for tests)
	prof     *profiler    // nil unless EMBEDDB_PROFILE is set (profile.go)
	wg       sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]struct{} // client connections and their hello ones, closed by close
	up    net.Conn              // the serial upstream connection, or nil
}

// command is one message on its way through the serial upstream.
type command struct {
	msg     []byte
	noReply bool // OP_MSG with moreToCome: FerretDB sends nothing back
	result  chan commandResult
}

type commandResult struct {
	reply []byte
	err   error
}

// startProxy listens on a free loopback port and forwards to upstream.
func startProxy(upstream string) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{ln: ln, upstream: upstream, queue: make(chan *command), done: make(chan struct{}), conns: map[net.Conn]struct{}{}, prof: newProfiler()}
	if p.prof != nil {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			t := time.NewTicker(time.Minute)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					p.prof.write()
				case <-p.done:
					p.prof.write()
					return
				}
			}
		}()
	}
	p.wg.Add(2)
	go func() {
		defer p.wg.Done()
		p.serial()
	}()
	go func() {
		defer p.wg.Done()
		p.accept()
	}()
	return p, nil
}

// receivedCommands counts the commands, other than hello, read in full.
func (p *proxy) receivedCommands() int64 { return p.received.Load() }

// addr is the address clients connect to.
func (p *proxy) addr() string { return p.ln.Addr().String() }

// close stops accepting, ends every client connection and the upstream
// ones, and waits for the proxy's goroutines.
func (p *proxy) close() {
	close(p.done)
	_ = p.ln.Close() // ends accept
	p.mu.Lock()
	for c := range p.conns {
		_ = c.Close() // ends its reader
	}
	if p.up != nil {
		_ = p.up.Close() // ends a command in flight
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.mu.Lock()
		select {
		case <-p.done:
			p.mu.Unlock()
			_ = c.Close()
			return
		default:
		}
		p.conns[c] = struct{}{}
		p.wg.Add(1)
		p.mu.Unlock()
		go func() {
			defer p.wg.Done()
			p.client(c)
		}()
	}
}

// client serves one client connection: hello over its own upstream
// connection, everything else through the serial queue, one message at a
// time (the wire protocol's request and reply).
func (p *proxy) client(c net.Conn) {
	cursors := map[int64]string{} // open cursor → its namespace "db.collection"
	var hello net.Conn
	var helloR *bufio.Reader
	defer func() {
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
		_ = c.Close()
		if hello != nil {
			p.mu.Lock()
			delete(p.conns, hello)
			p.mu.Unlock()
			_ = hello.Close()
		}
		p.killCursors(cursors)
	}()
	r := bufio.NewReader(c)
	for {
		msg, err := readMessage(r)
		if err != nil {
			return
		}
		var reply []byte
		if isHello(msg) {
			if hello == nil {
				if hello, err = net.DialTimeout("tcp", p.upstream, 10*time.Second); err != nil {
					return
				}
				// Closed by close too, like the client connections.
				p.mu.Lock()
				p.conns[hello] = struct{}{}
				p.mu.Unlock()
				helloR = bufio.NewReader(hello)
			}
			if _, err := hello.Write(msg); err != nil {
				return
			}
			if reply, err = readReply(helloR); err != nil {
				return
			}
		} else {
			p.received.Add(1)
			cmd := &command{msg: msg, noReply: moreToCome(msg), result: make(chan commandResult, 1)}
			select {
			case p.queue <- cmd:
			case <-p.done:
				return
			}
			res := <-cmd.result
			if res.err != nil {
				return // the driver sees a network error, as with FerretDB gone
			}
			if cmd.noReply {
				continue
			}
			reply = res.reply
			trackCursors(msg, reply, func(id int64, ns string) { cursors[id] = ns }, func(id int64) { delete(cursors, id) })
		}
		if _, err := c.Write(reply); err != nil {
			return
		}
	}
}

// serial runs the queued commands over one upstream connection, dialled
// when needed and dropped when it fails (the command then fails; the next
// one dials again).
func (p *proxy) serial() {
	var up net.Conn
	var upR *bufio.Reader
	open := map[int64]openCursor{} // every cursor left open in FerretDB, by any client
	drop := func() {
		p.mu.Lock()
		_ = up.Close()
		p.up = nil
		p.mu.Unlock()
		up = nil
	}
	for {
		var cmd *command
		select {
		case cmd = <-p.queue:
		case <-p.done:
			if up != nil {
				drop()
			}
			return
		}
		if up == nil {
			conn, err := net.DialTimeout("tcp", p.upstream, 10*time.Second)
			if err != nil {
				cmd.result <- commandResult{err: err}
				continue
			}
			p.mu.Lock()
			select {
			case <-p.done:
				p.mu.Unlock()
				_ = conn.Close()
				cmd.result <- commandResult{err: net.ErrClosed}
				continue
			default:
			}
			up, upR, p.up = conn, bufio.NewReader(conn), conn
			p.mu.Unlock()
		}
		began := time.Now()
		if err := reapCursors(up, upR, open, cmd.msg, began); err != nil {
			drop()
			cmd.result <- commandResult{err: err}
			continue
		}
		if _, err := up.Write(cmd.msg); err != nil {
			drop()
			cmd.result <- commandResult{err: err}
			continue
		}
		if cmd.noReply {
			cmd.result <- commandResult{}
			continue
		}
		// Read to the end whether or not the client is still there.
		reply, err := readReply(upR)
		if err != nil {
			drop()
		} else {
			trackCursors(cmd.msg, reply, func(id int64, ns string) { open[id] = openCursor{ns: ns, used: began} }, func(id int64) { delete(open, id) })
			if p.prof != nil {
				p.prof.record(cmd.msg, reply, time.Since(began))
			}
		}
		cmd.result <- commandResult{reply: reply, err: err}
	}
}

// killCursors kills the cursors a client connection left open, through the
// serial queue, discarding FerretDB's replies.
func (p *proxy) killCursors(cursors map[int64]string) {
	byNS := map[string][]int64{}
	for id, ns := range cursors {
		byNS[ns] = append(byNS[ns], id)
	}
	for ns, ids := range byNS {
		msg := killCursorsMsg(ns, ids)
		if msg == nil {
			continue
		}
		cmd := &command{msg: msg, result: make(chan commandResult, 1)}
		select {
		case p.queue <- cmd:
			<-cmd.result
		case <-p.done:
			return
		}
	}
}

// maxOpenCursors bounds the cursors left open in FerretDB, and cursorIdle
// how long one may wait for its next getMore. Each open cursor holds one
// of the 100 connections of FerretDB's SQLite pool, and a query that finds
// the pool empty waits for one for good: the getMore or killCursors that
// would free one waits behind it in the serial queue, so the database
// hangs (TestLeftCursorsDoNotHangTheDatabase; a 30-minute soak ended so).
// A client leaves a cursor open when its Close finds its context already
// ended, which overload does to many. MongoDB kills a cursor idle for 10
// minutes; here, before each command, those idle for cursorIdle and the
// least recently used past maxOpenCursors are killed. A getMore on one
// then fails with CursorNotFound, as on MongoDB.
const (
	maxOpenCursors = 64
	cursorIdle     = time.Minute
)

// openCursor is a cursor left open in FerretDB: its namespace, and when a
// command last opened or advanced it.
type openCursor struct {
	ns   string
	used time.Time
}

// reapCursors kills, over the serial upstream connection, the cursors of
// open that are idle or past the bound (see maxOpenCursors), but never the
// one req asks a getMore of.
func reapCursors(up net.Conn, upR *bufio.Reader, open map[int64]openCursor, req []byte, now time.Time) error {
	next := int64(0)
	if b := body(req); b != nil {
		if first, err := b.IndexErr(0); err == nil && first.Key() == "getMore" {
			next, _ = first.Value().Int64OK()
		}
	}
	var ids []int64
	for id := range open {
		if id != next {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b int64) int { return open[a].used.Compare(open[b].used) }) // least recently used first
	byNS := map[string][]int64{}
	for i, id := range ids {
		if c := open[id]; now.Sub(c.used) >= cursorIdle || len(ids)-i >= maxOpenCursors {
			byNS[c.ns] = append(byNS[c.ns], id)
			delete(open, id)
		}
	}
	for ns, ids := range byNS {
		msg := killCursorsMsg(ns, ids)
		if msg == nil {
			continue
		}
		if _, err := up.Write(msg); err != nil {
			return err
		}
		if _, err := readReply(upR); err != nil {
			return err
		}
	}
	return nil
}

// killCursorsMsg is an OP_MSG killing ids in namespace ns ("db.collection"),
// or nil when ns is not one.
func killCursorsMsg(ns string, ids []int64) []byte {
	db, coll, ok := strings.Cut(ns, ".")
	if !ok {
		return nil
	}
	body, err := bson.Marshal(bson.D{{Key: "killCursors", Value: coll}, {Key: "cursors", Value: ids}, {Key: "$db", Value: db}})
	if err != nil {
		return nil
	}
	msg := make([]byte, 21, 21+len(body))
	binary.LittleEndian.PutUint32(msg[0:], uint32(21+len(body)))
	binary.LittleEndian.PutUint32(msg[12:], opMsg)
	return append(msg, body...) // flags 0, section kind 0 (already zero)
}

// readMessage reads one length-prefixed wire message.
func readMessage(r *bufio.Reader) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint32(size[:])
	if n < 16 || n > maxMessage {
		return nil, fmt.Errorf("embedded database proxy: a message of %d bytes", n)
	}
	msg := make([]byte, n)
	copy(msg, size[:])
	if _, err := io.ReadFull(r, msg[4:]); err != nil {
		return nil, err
	}
	return msg, nil
}

// readReply reads a reply and, if it says more are to come (an exhaust
// cursor), those too, up to the last.
func readReply(r *bufio.Reader) ([]byte, error) {
	var all []byte
	for {
		msg, err := readMessage(r)
		if err != nil {
			return nil, err
		}
		all = append(all, msg...)
		if !moreToCome(msg) {
			return all, nil
		}
		if len(all) > maxMessage {
			return nil, errors.New("embedded database proxy: an exhaust reply over the message limit")
		}
	}
}

func moreToCome(msg []byte) bool {
	return len(msg) >= 20 && binary.LittleEndian.Uint32(msg[12:]) == opMsg && binary.LittleEndian.Uint32(msg[16:])&flagMoreToCome != 0
}

// body is an OP_MSG's command document (its section of kind 0), or nil.
func body(msg []byte) bson.Raw {
	if len(msg) < 21 || binary.LittleEndian.Uint32(msg[12:]) != opMsg {
		return nil
	}
	for s := msg[20:]; len(s) > 5; {
		kind := s[0]
		n := int(binary.LittleEndian.Uint32(s[1:]))
		if n < 5 || n > len(s)-1 {
			return nil
		}
		if kind == 0 {
			return bson.Raw(s[1 : 1+n])
		}
		s = s[1+n:] // a document sequence: its size counts itself
	}
	return nil
}

// isHello says whether a message is a handshake or heartbeat: the legacy
// OP_QUERY handshake, or hello/isMaster.
func isHello(msg []byte) bool {
	if binary.LittleEndian.Uint32(msg[12:]) == opQuery {
		return true
	}
	b := body(msg)
	if b == nil {
		return false
	}
	e, err := b.IndexErr(0)
	if err != nil {
		return false
	}
	switch strings.ToLower(e.Key()) {
	case "hello", "ismaster":
		return true
	}
	return false
}

// trackCursors reports the cursors a reply leaves open (opened: a find's,
// or a getMore's that is not exhausted) and those a getMore exhausted or a
// killCursors killed (closed).
func trackCursors(req, reply []byte, opened func(id int64, ns string), closed func(id int64)) {
	rq, rp := body(req), body(reply)
	if rq == nil || rp == nil {
		return
	}
	first, err := rq.IndexErr(0)
	if err != nil {
		return
	}
	switch first.Key() {
	case "getMore":
		if id, ok := first.Value().Int64OK(); ok {
			closed(id)
		}
	case "killCursors":
		if ids, ok := rq.Lookup("cursors").ArrayOK(); ok {
			vals, _ := ids.Values()
			for _, v := range vals {
				if id, ok := v.Int64OK(); ok {
					closed(id)
				}
			}
		}
		return
	}
	id, ok := rp.Lookup("cursor", "id").Int64OK()
	if !ok || id == 0 {
		return
	}
	if ns, ok := rp.Lookup("cursor", "ns").StringValueOK(); ok {
		opened(id, ns)
	}
}
