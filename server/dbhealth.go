package main

import (
	"net/url"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"

	"github.com/regulars/regulars/fault"
)

// dbHealth follows the driver's view of the deployment, so that requests
// fail fast while no server can take them instead of each waiting out
// MONGODB_TIMEOUT in server selection.
type dbHealth struct {
	secrets []string // parts of MONGODB_URI never shown (the password)

	mu      sync.Mutex
	up      bool
	addrs   []string // the servers the driver knows, host:port
	lastErr string   // why the last heartbeat, ping or command failed
	since   time.Time
}

func newDBHealth(uri string) *dbHealth {
	h := &dbHealth{since: time.Now()}
	if u, err := url.Parse(uri); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			h.secrets = append(h.secrets, pw, url.QueryEscape(pw))
		}
	}
	return h
}

// serverMonitor feeds h from the driver's topology events.
func (h *dbHealth) serverMonitor() *event.ServerMonitor {
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
		ServerHeartbeatFailed: func(e *event.ServerHeartbeatFailedEvent) { h.failed(e.Failure) },
	}
}

// failed records why the database did not answer.
func (h *dbHealth) failed(err error) {
	if err == nil {
		return
	}
	msg := h.redact(err.Error())
	h.mu.Lock()
	h.lastErr = msg
	h.mu.Unlock()
}

// redact removes the URI's password from msg.
func (h *dbHealth) redact(msg string) string {
	for _, s := range h.secrets {
		msg = strings.ReplaceAll(msg, s, "***")
	}
	return msg
}

// available reports whether some server can take operations now.
func (h *dbHealth) available() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.up
}

// errUnavailable is the reason given while no server can take operations.
var errUnavailable = fault.New(fault.Unavailable, "the database cannot be reached; retry shortly")

// unavailableRetry is the retryAfter given while the database is down:
// watchDatabase asks the driver to look again about this often.
const unavailableRetry = 2 * time.Second

// status says where the database is and, when down, why.
func (h *dbHealth) status() (up bool, where, why string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.up, strings.Join(h.addrs, ","), h.lastErr
}
