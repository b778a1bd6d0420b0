package main

import (
	"context"
	"regexp"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.mongodb.org/mongo-driver/v2/event"
)

// metrics are served on /metrics; each Main has its own registry so tests
// can run several in one process.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	errors   *prometheus.CounterVec
	sockets  prometheus.Gauge
	mongo    *prometheus.HistogramVec

	mu    sync.Mutex
	names map[string]bool
}

// maxOperationNames caps the operation label: names come from clients, and an
// unbounded label would let any client grow the metrics without limit.
const maxOperationNames = 200

var operationName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

func newMetrics() *metrics {
	m := &metrics{
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
		names: map[string]bool{},
	}
	m.reg.MustRegister(m.requests, m.latency, m.errors, m.sockets, m.mongo,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) label(name string) string {
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
		m.names[name] = true
	}
	return name
}

// observe records one operation and the codes of the errors it answered with.
func (m *metrics) observe(transport, operation string, start time.Time, resp *graphql.Response) {
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

// mongoMonitor times every command the driver sends.
func (m *metrics) mongoMonitor() *event.CommandMonitor {
	return &event.CommandMonitor{
		Succeeded: func(_ context.Context, e *event.CommandSucceededEvent) {
			m.mongo.WithLabelValues(e.CommandName, "ok").Observe(e.Duration.Seconds())
		},
		Failed: func(_ context.Context, e *event.CommandFailedEvent) {
			m.mongo.WithLabelValues(e.CommandName, "error").Observe(e.Duration.Seconds())
		},
	}
}
