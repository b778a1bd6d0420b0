package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/embeddb"
	"github.com/regulars/regulars/internal/testkit"
	"github.com/regulars/regulars/server/gateway"
)

// The database stops under a running server. Requests are answered at once
// with UNAVAILABLE and a retryAfter (503 under
// application/graphql-response+json), not after MONGODB_TIMEOUT; /readyz
// says where the database is and why it does not answer.
func TestDatabaseDownFailsFast(t *testing.T) {
	db, err := embeddb.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	testkit.Defer(t, func() error {
		if stopped {
			return nil
		}
		return db.Close()
	})
	// A deadline no test would wait out: an operation that waits for the
	// database hangs the test instead of answering.
	a := startApp(t, map[string]string{"MONGODB_URI": db.URI(), "MONGODB_DATABASE": "regulars", "MONGODB_TIMEOUT": "10m"})
	a.signUp(t, "ann@example.com")
	c := a.dial(t)
	c.Init("ApiKey " + testAPIKey)

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	stopped = true
	var ready []byte
	testkit.Eventually(t, 20*time.Second, func() bool {
		res, err := http.Get("http://" + a.Addr() + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		ready = testkit.Must(readBody(res))(t)
		return res.StatusCode == http.StatusServiceUnavailable
	}, "readyz never answered 503 with the database stopped")
	t.Logf("readyz: %s", ready)
	host := strings.TrimPrefix(strings.Split(db.URI(), "/?")[0], "mongodb://")
	if !bytes.Contains(ready, []byte("unavailable at "+host)) || bytes.Contains(ready, []byte("mongodb://")) {
		t.Errorf("readyz: %q, want where (%s) and why, without the URI", ready, host)
	}

	logIn := `{"query": "mutation { logIn(input: {email: \"ann@example.com\", password: \"correct horse battery\"}) { accessToken } }"}`
	for _, c := range []struct {
		accept string
		status int
	}{{gateway.MediaGraphQLResponse, 503}, {gateway.MediaJSON, 200}} {
		req := newRequest(t, http.MethodPost, a.url, strings.NewReader(logIn))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", c.accept)
		// The client's timeout only keeps a hang from lasting 10 minutes.
		res := testkit.Must((&http.Client{Timeout: time.Minute}).Do(req))(t)
		r := &gqlResponse{status: res.StatusCode}
		if err := json.Unmarshal(testkit.Must(readBody(res))(t), r); err != nil {
			t.Fatal(err)
		}
		if res.Header.Get("Retry-After") == "" {
			t.Errorf("no Retry-After under %s", c.accept)
		}
		if r.status != c.status || r.code() != "UNAVAILABLE" || r.Errors[0].Extensions["retryAfter"] == nil {
			t.Errorf("logIn under %s with the database down: %d %+v, want %d UNAVAILABLE with retryAfter", c.accept, r.status, r.Errors, c.status)
		}
	}
	c.Send("subscribe", "q", map[string]any{"query": `{ rewards(first: 1) { edges { node { id } } } }`})
	if m := c.Expect("error"); !bytes.Contains(m.Payload, []byte(`"UNAVAILABLE"`)) {
		t.Errorf("query over the socket with the database down: %s", m.Payload)
	}
}
