package edge

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// connLimitListener caps the connections one peer address may hold open
// at once (HTTP_MAX_CONNS_PER_IP), WebSockets included, so that one
// client cannot take the server's file descriptors and memory. A
// connection over the cap is answered 429 and closed before anything of
// it is read. Trusted proxies (TRUSTED_PROXIES) are not capped: every
// client behind one shares its address, so the cap belongs at the proxy.
type connLimitListener struct {
	net.Listener
	max     int
	proxies Proxies

	mu   sync.Mutex
	open map[netip.Addr]int
}

// LimitConns caps the connections one peer address may hold open on ln at
// max (see connLimitListener); ps are not capped.
func LimitConns(ln net.Listener, max int, ps Proxies) net.Listener {
	return &connLimitListener{Listener: ln, max: max, proxies: ps, open: map[netip.Addr]int{}}
}

// tooManyConnections is the whole answer to a connection over the cap.
const tooManyConnections = "HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: 38\r\n\r\nToo many connections from this address"

func (l *connLimitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ap, perr := netip.ParseAddrPort(c.RemoteAddr().String())
		addr := ap.Addr().Unmap()
		if perr != nil || l.proxies.Trusted(addr) {
			return c, nil
		}
		l.mu.Lock()
		if l.open[addr] >= l.max {
			l.mu.Unlock()
			go refuse(c)
			continue
		}
		l.open[addr]++
		l.mu.Unlock()
		return &countedConn{Conn: c, release: func() { l.release(addr) }}, nil
	}
}

func (l *connLimitListener) release(addr netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[addr]--; l.open[addr] <= 0 {
		delete(l.open, addr)
	}
}

// refuse answers a connection over the cap without reading from it; the
// deadline keeps a client that does not read from holding the goroutine.
func refuse(c net.Conn) {
	_ = c.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = c.Write([]byte(tooManyConnections))
	_ = c.Close()
}

// countedConn gives its place back once, at its first Close.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}

// SendBuffer sizes the kernel send buffer of every connection ln accepts,
// in bytes.
func SendBuffer(ln net.Listener, size int) net.Listener { return sendBufferListener{ln, size} }

// sendBufferListener sizes the kernel send buffer of every connection.
type sendBufferListener struct {
	net.Listener
	size int
}

func (l sendBufferListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(l.size)
	}
	return c, err
}
