package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/regulars/regulars/internal/testkit"
	"github.com/regulars/regulars/server/gateway"
)

// errorLog records the ERROR records logged while a test runs.
type errorLog struct {
	mu      sync.Mutex
	records []string
}

func (l *errorLog) Enabled(_ context.Context, lv slog.Level) bool { return lv >= slog.LevelError }
func (l *errorLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, r.Message)
	return nil
}
func (l *errorLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *errorLog) WithGroup(string) slog.Handler      { return l }

func (l *errorLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.records...)
}

func captureErrorLog(t *testing.T) *errorLog {
	l := &errorLog{}
	prev := slog.Default()
	slog.SetDefault(slog.New(l))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return l
}

// In production introspection is off: asking for it is the client's
// mistake, answered with INTROSPECTION_DISABLED (400 under
// application/graphql-response+json, 200 under application/json), over
// HTTP and the socket, with nothing logged as an error and no internal
// error counted. Validation errors name no field the client did not write.
func TestProductionIntrospectionIsAClientError(t *testing.T) {
	logged := captureErrorLog(t)
	a := startApp(t, map[string]string{"APP_ENV": "production"})
	post := func(accept, query string) *gqlResponse {
		req := newRequest(t, http.MethodPost, a.url, strings.NewReader(jsonString(map[string]any{"query": query})))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", accept)
		return send(t, req)
	}
	for _, q := range []string{`{ __schema { types { name } } }`, `{ t: __type(name: "Query") { name } }`, `query { ...F } fragment F on Query { __schema { queryType { name } } }`} {
		for accept, status := range map[string]int{gateway.MediaGraphQLResponse: 400, gateway.MediaJSON: 200} {
			if r := post(accept, q); r.status != status || r.code() != "INTROSPECTION_DISABLED" || r.Data != nil {
				t.Errorf("%s under %s: %d %+v", q, accept, r.status, r.Errors)
			}
		}
	}
	c := a.dial(t)
	c.Init("")
	c.Send("subscribe", "i", map[string]any{"query": `{ __schema { types { name } } }`})
	if m := c.Expect("error"); !bytes.Contains(m.Payload, []byte(`"INTROSPECTION_DISABLED"`)) {
		t.Errorf("introspection over the socket: %s", m.Payload)
	}
	if r := post(gateway.MediaJSON, `{ __typename }`); string(r.Data["__typename"]) != `"Query"` {
		t.Errorf("__typename: %+v", r)
	}

	for _, q := range []string{`{ mee { id } }`, `{ leaderboard(period: ALL_TIMES, first: 1) { key } }`, `{ me { displayNam } }`} {
		r := post(gateway.MediaJSON, q)
		if r.code() != "BAD_USER_INPUT" {
			t.Errorf("%s: %+v", q, r.Errors)
		}
		for _, e := range r.Errors {
			if strings.Contains(e.Message, "Did you mean") {
				t.Errorf("%s: %q suggests a name", q, e.Message)
			}
		}
	}

	if l := logged.all(); len(l) > 0 {
		t.Errorf("logged as errors: %q", l)
	}
	res := testkit.Must(http.Get("http://" + a.Addr() + "/metrics"))(t)
	metrics := testkit.Must(readBody(res))(t)
	if bytes.Contains(metrics, []byte(`regulars_graphql_errors_total{code="INTERNAL"}`)) || !bytes.Contains(metrics, []byte(`regulars_graphql_errors_total{code="INTROSPECTION_DISABLED"}`)) {
		t.Errorf("error metrics:\n%s", bytes.Join(grepLines(metrics, "regulars_graphql_errors_total"), []byte("\n")))
	}
}

func grepLines(b []byte, s string) [][]byte {
	var out [][]byte
	for _, l := range bytes.Split(b, []byte("\n")) {
		if bytes.Contains(l, []byte(s)) {
			out = append(out, l)
		}
	}
	return out
}
