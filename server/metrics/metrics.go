// Package metrics keeps the Prometheus figures served on /metrics:
// GraphQL operations by transport and name, their latency, error codes
// and MongoDB commands, open sockets, and the latency of every MongoDB
// command.
package metrics

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.mongodb.org/mongo-driver/v2/event"
)

// Metrics are served on /metrics; each has its own registry so tests can
// run several servers in one process.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	errors   *prometheus.CounterVec
	sockets  prometheus.Gauge
	mongo    *prometheus.HistogramVec
	commands *prometheus.HistogramVec

	mu    sync.Mutex
	names map[string]bool
}

// maxOperationNames caps the operation label: names come from clients, and an
// unbounded label would let any client grow the metrics without limit.
const maxOperationNames = 200

var operationName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// New returns Metrics with every figure at zero.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "regulars_graphql_operations_total", Help: "GraphQL operations by transport and operation name.",
		}, []string{"transport", "operation"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "regulars_graphql_operation_seconds", Help: "Time to the first response of a GraphQL operation.",
			Buckets: prometheus.DefBuckets,
		}, []string{"operation"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "regulars_graphql_errors_total", Help: "GraphQL errors sent, by extensions.code.",
		}, []string{"code"}),
		sockets: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "regulars_websockets_open", Help: "Open WebSocket connections.",
		}),
		mongo: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "regulars_mongodb_operation_seconds", Help: "MongoDB command latency by command name and outcome.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
		}, []string{"command", "outcome"}),
		commands: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "regulars_graphql_operation_mongodb_commands", Help: "MongoDB commands (round trips) a GraphQL operation over HTTP sent, by operation name.",
			Buckets: []float64{0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64},
		}, []string{"operation"}),
		names: map[string]bool{},
	}
	m.reg.MustRegister(m.requests, m.latency, m.errors, m.sockets, m.mongo, m.commands,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *Metrics) label(name string) string {
	if name == "" {
		return "(anonymous)"
	}
	if !operationName.MatchString(name) {
		return "(other)"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.names[name] {
		if len(m.names) >= maxOperationNames {
			return "(other)"
		}
		// A label outlives its request: never keep a caller's string,
		// which may point into a buffer the next request reuses.
		name = strings.Clone(name)
		m.names[name] = true
	}
	return name
}

// Observe records one operation over transport ("http", "ws") and the
// codes of the errors it answered with; operation names past the first
// 200, or not GraphQL names, count as "(other)".
func (m *Metrics) Observe(transport, operation string, start time.Time, resp *graphql.Response) {
	op := m.label(operation)
	m.requests.WithLabelValues(transport, op).Inc()
	m.latency.WithLabelValues(op).Observe(time.Since(start).Seconds())
	if resp == nil {
		return
	}
	for _, e := range resp.Errors {
		code, _ := e.Extensions["code"].(string)
		m.errors.WithLabelValues(code).Inc()
	}
}

// SocketsOpen adds delta to the open WebSockets.
func (m *Metrics) SocketsOpen(delta int) { m.sockets.Add(float64(delta)) }

// Handler serves the figures in Prometheus' text format.
func (m *Metrics) Handler() http.Handler { return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}) }

// commandsKey keys the count of CountCommands in a context.
type commandsKey struct{}

// CountCommands returns ctx counting the MongoDB commands sent under it
// (MongoMonitor counts them), for ObserveCommands.
func CountCommands(ctx context.Context) context.Context {
	return context.WithValue(ctx, commandsKey{}, new(atomic.Int64))
}

// ObserveCommands records the MongoDB commands counted in ctx (see
// CountCommands) for one operation, named as in Observe. Commands sent
// after it, by work the operation left running, are not in the figure.
func (m *Metrics) ObserveCommands(ctx context.Context, operation string) {
	if n, ok := ctx.Value(commandsKey{}).(*atomic.Int64); ok {
		m.commands.WithLabelValues(m.label(operation)).Observe(float64(n.Load()))
	}
}

// MongoMonitor times every command the driver sends, and counts it in
// the context's count, if any (CountCommands): pass it to the client's
// options.
func (m *Metrics) MongoMonitor() *event.CommandMonitor {
	return &event.CommandMonitor{
		Started: func(ctx context.Context, _ *event.CommandStartedEvent) {
			if n, ok := ctx.Value(commandsKey{}).(*atomic.Int64); ok {
				n.Add(1)
			}
		},
		Succeeded: func(_ context.Context, e *event.CommandSucceededEvent) {
			m.mongo.WithLabelValues(e.CommandName, "ok").Observe(e.Duration.Seconds())
		},
		Failed: func(_ context.Context, e *event.CommandFailedEvent) {
			m.mongo.WithLabelValues(e.CommandName, "error").Observe(e.Duration.Seconds())
		},
	}
}
