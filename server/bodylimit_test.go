package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/regulars/regulars/internal/testkit"
)

// A 2 MB body against the default MAX_BODY_BYTES (1 MiB), streamed by a
// real HTTP client as a phone would upload it, with and without a
// Content-Length: the client reads a 413 with a GraphQL error, not a reset
// connection, and the server goes on serving.
func TestOversizedBodyAnswers413(t *testing.T) {
	a := startApp(t, nil)
	const size = 2 << 20
	for _, known := range []bool{true, false} {
		body := io.MultiReader(strings.NewReader(`{"query": "{ __typename }", "pad": "`), strings.NewReader(strings.Repeat("x", size)), strings.NewReader(`"}`))
		pr, pw := io.Pipe()
		sent := make(chan error, 1)
		go func() {
			// Written in 64 KiB pieces, as a stream; the error ends the pipe.
			buf := make([]byte, 64<<10)
			_, err := io.CopyBuffer(pw, body, buf)
			pw.CloseWithError(err)
			sent <- err
		}()
		req := newRequest(t, http.MethodPost, a.url, pr)
		req.Header.Set("Content-Type", "application/json")
		if known {
			req.ContentLength = int64(len(`{"query": "{ __typename }", "pad": "`) + size + 2)
		}
		client := &http.Client{Transport: &http.Transport{}}
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("Content-Length known %v: %v", known, err)
		}
		raw := testkit.Must(readBody(res))(t)
		var r gqlResponse
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatalf("Content-Length known %v: %d %q is not a GraphQL error", known, res.StatusCode, raw)
		}
		if res.StatusCode != http.StatusRequestEntityTooLarge || r.code() != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, "MAX_BODY_BYTES") {
			t.Errorf("Content-Length known %v: %d %s", known, res.StatusCode, raw)
		}
		// The server read the whole body before answering, so the client
		// finished sending: what a client that reads the answer only after
		// sending (Node's fetch) needs, instead of a reset.
		if err := <-sent; err != nil {
			t.Errorf("Content-Length known %v: the server stopped reading the body: %v", known, err)
		}
	}
	if r := a.do(t, "", `{ __typename }`, nil); string(r.Data["__typename"]) != `"Query"` {
		t.Fatalf("after the refused bodies: %+v", r)
	}
}
