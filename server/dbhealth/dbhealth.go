// Package dbhealth follows whether MongoDB can take operations, from the
// driver's topology events and the server's own pings, so that requests
// fail at once while it cannot, and /readyz says where it is and why not,
// never with the URI's password.
package dbhealth

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/regulars/regulars/fault"
)

// Monitor follows the driver's view of the deployment, so that requests
// fail fast while no server can take them instead of each waiting out
// MONGODB_TIMEOUT in server selection.
type Monitor struct {
	secrets []string // parts of MONGODB_URI never shown (the password)

	mu      sync.Mutex
	up      bool
	addrs   []string // the servers the driver knows, host:port
	lastErr string   // why the last heartbeat, ping or command failed
	since   time.Time
}

// New returns the Monitor of the deployment at uri (whose password it
// keeps out of every message).
func New(uri string) *Monitor {
	h := &Monitor{since: time.Now()}
	if u, err := url.Parse(uri); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			h.secrets = append(h.secrets, pw, url.QueryEscape(pw))
		}
	}
	return h
}

// ServerMonitor feeds h from the driver's topology events: pass it to the
// client's options.
func (h *Monitor) ServerMonitor() *event.ServerMonitor {
	return &event.ServerMonitor{
		TopologyDescriptionChanged: func(e *event.TopologyDescriptionChangedEvent) {
			up, addrs := false, make([]string, 0, len(e.NewDescription.Servers))
			for _, s := range e.NewDescription.Servers {
				addrs = append(addrs, s.Addr.String())
				switch s.Kind {
				case "Standalone", "RSPrimary", "Mongos", "LoadBalancer":
					up = true
				}
			}
			h.mu.Lock()
			defer h.mu.Unlock()
			if up != h.up {
				h.since = time.Now()
			}
			h.up, h.addrs = up, addrs
		},
		ServerHeartbeatFailed: func(e *event.ServerHeartbeatFailedEvent) { h.Failed(e.Failure) },
	}
}

// Failed records why the database did not answer; nil is ignored.
func (h *Monitor) Failed(err error) {
	if err == nil {
		return
	}
	msg := h.Redact(err.Error())
	h.mu.Lock()
	h.lastErr = msg
	h.mu.Unlock()
}

// Redact removes the URI's password from msg.
func (h *Monitor) Redact(msg string) string {
	for _, s := range h.secrets {
		msg = strings.ReplaceAll(msg, s, "***")
	}
	return msg
}

// Available reports whether some server can take operations now.
func (h *Monitor) Available() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.up
}

// ErrUnavailable is the reason given while no server can take operations
// (code UNAVAILABLE).
var ErrUnavailable = fault.New(fault.Unavailable, "the database cannot be reached; retry shortly")

// RetryAfter is the retryAfter given while the database is down: Watch
// asks the driver to look again about this often.
const RetryAfter = 2 * time.Second

// Explain says, for /readyz, where the database is (host:port, never the
// URI with its credentials) and the last error the driver or a ping saw;
// err is the reason when none was seen.
func (h *Monitor) Explain(err error) string {
	h.mu.Lock()
	where, why := strings.Join(h.addrs, ","), h.lastErr
	h.mu.Unlock()
	if why == "" {
		why = err.Error()
	}
	if where == "" {
		where = "(no server found yet)"
	}
	return "mongodb: unavailable at " + where + ": " + h.Redact(why)
}

// Ping asks the database through c whether it answers, within 3 s, and
// records why not.
func (h *Monitor) Ping(ctx context.Context, c *mongo.Client) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	err := c.Ping(ctx, nil)
	h.Failed(err)
	return err
}

// Watch pings through c, once ready says the database was reached, while
// no server is available, until ctx ends: requests are refused at once
// meanwhile and ask the driver nothing, so without this it would look
// again only at its next heartbeat.
func (h *Monitor) Watch(ctx context.Context, c *mongo.Client, ready func() bool) {
	t := time.NewTicker(RetryAfter / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if ready() && !h.Available() {
			_ = h.Ping(ctx, c) // recorded by Failed
		}
	}
}
