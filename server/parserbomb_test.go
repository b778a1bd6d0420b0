package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/regulars/regulars/internal/testkit"
)

// bombs are the worst documents of each family that fit under the default
// 1 MiB body, and documents just over each bound while under the others.
// Each must be refused with QUERY_LIMIT_EXCEEDED naming its setting.
var bombs = []struct {
	name, limit string
	query       func() string
}{
	// 330,000 unknown directives on one field: once 660,000 errors and 0.9 GB.
	{"directives, 1 MB", "QUERY_MAX_TOKENS", func() string { return "{ __typename" + strings.Repeat(" @a", 330_000) + " }" }},
	{"directives, under the token bound", "QUERY_MAX_DIRECTIVES", func() string { return "{ __typename" + strings.Repeat(" @a", 11) + " }" }},
	{"repeated fields, 1 MB", "QUERY_MAX_TOKENS", func() string { return "{" + strings.Repeat(" __typename", 90_000) + " }" }},
	// Validation compares fields that share a selection set pairwise: once
	// 1.4–2 s for 4,998 fields, 1.2 s for two fragments of 2,400.
	{"repeated fields, under the token bound", "QUERY_MAX_FIELDS", func() string { return "{" + strings.Repeat(" __typename", 4998) + " }" }},
	{"repeated sub-fields, under the token bound", "QUERY_MAX_FIELDS", func() string { return "{ me {" + strings.Repeat(" id", 4990) + " } }" }},
	{"two fragments of repeated fields", "QUERY_MAX_FIELDS", func() string {
		f := strings.Repeat(" __typename", 2400)
		return "{ ...A ...B } fragment A on Query {" + f + " } fragment B on Query {" + f + " }"
	}},
	{"repeated fields in an unused fragment", "QUERY_MAX_FIELDS", func() string {
		return "{ __typename } fragment A on Query {" + strings.Repeat(" __typename", 4990) + " }"
	}},
	// 27 levels of doubling fragments: 2^27 spreads from 1 KB; once 11 s.
	{"doubling fragments", "QUERY_MAX_FRAGMENT_SPREADS", func() string { return doublingFragments(27) }},
	{"long fragment chain, 1 MB", "QUERY_MAX_TOKENS", func() string { return fragmentChain(25_000) }},
	{"long fragment chain, under the token bound", "QUERY_MAX_FRAGMENT_SPREADS", func() string { return fragmentChain(600) }},
	{"deep nesting, 1 MB", "QUERY_MAX_TOKENS", func() string { return "{" + strings.Repeat("a{", 300_000) + "b" + strings.Repeat("}", 300_000) + "}" }},
	{"deep nesting, under the token bound", "QUERY_MAX_NESTING", func() string { return nested(33) }},
	{"unknown fields, one error each", "QUERY_MAX_ERRORS", func() string {
		var b strings.Builder
		b.WriteString("{")
		for i := range 400 { // under QUERY_MAX_FIELDS
			fmt.Fprintf(&b, " f%d", i)
		}
		return b.String() + " }"
	}},
}

func doublingFragments(levels int) string {
	var b strings.Builder
	b.WriteString("query { ...F0 }\n")
	for i := range levels - 1 {
		fmt.Fprintf(&b, "fragment F%d on Query { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on Query { __typename }\n", levels-1)
	return b.String()
}

func fragmentChain(n int) string {
	var b strings.Builder
	b.WriteString("query { ...F0 }\n")
	for i := range n - 1 {
		fmt.Fprintf(&b, "fragment F%d on Query { ...F%d }\n", i, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on Query { __typename }\n", n-1)
	return b.String()
}

// nested is n inline fragments inside each other.
func nested(n int) string {
	return "{" + strings.Repeat("...on Query{", n) + "__typename" + strings.Repeat("}", n) + "}"
}

// postGraphQLResponse posts query asking for application/graphql-response+json.
func (a *app) postGraphQLResponse(t testing.TB, query string) *gqlResponse {
	t.Helper()
	body := testkit.Must(json.Marshal(map[string]any{"query": query}))(t)
	req := testkit.Must(http.NewRequest(http.MethodPost, a.url, bytes.NewReader(body)))(t)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/graphql-response+json")
	return send(t, req)
}

func TestParserBombsRefused(t *testing.T) {
	a := startApp(t, map[string]string{"RATE_LIMIT_IP_BURST": "1000"})
	for _, b := range bombs {
		t.Run(b.name, func(t *testing.T) {
			q := b.query()
			if len(q) > a.Config.MaxBodyBytes-100 {
				t.Fatalf("the document is %d bytes, over the body limit: it tests nothing", len(q))
			}
			r := a.postGraphQLResponse(t, q)
			if r.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", r.status)
			}
			if len(r.Errors) > a.Config.Document.Errors+1 {
				t.Fatalf("%d errors, want at most %d", len(r.Errors), a.Config.Document.Errors+1)
			}
			last := r.Errors[len(r.Errors)-1]
			if last.Extensions["code"] != "QUERY_LIMIT_EXCEEDED" || last.Extensions["limit"] != b.limit {
				t.Fatalf("last error %+v, want QUERY_LIMIT_EXCEEDED by %s", last, b.limit)
			}
		})
	}
	// The bounds leave ordinary documents alone, fragments included.
	r := a.postGraphQLResponse(t, doublingFragments(8)+"query Named { ...F7 }")
	if r.status != http.StatusBadRequest || r.code() == "QUERY_LIMIT_EXCEEDED" {
		t.Fatalf("two anonymous/named operations: want an ordinary validation error, got %d %+v", r.status, r.Errors)
	}
	if r := a.postGraphQLResponse(t, doublingFragments(8)); r.status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("256 spreads: %d %+v", r.status, r.Errors)
	}
	if r := a.postGraphQLResponse(t, nested(30)); r.status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("30 levels: %d %+v", r.status, r.Errors)
	}
	if r := a.postGraphQLResponse(t, "{"+strings.Repeat(" __typename", 500)+" }"); r.status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("500 fields: %d %+v", r.status, r.Errors)
	}
}

// Every document-size bound is a setting, and lowering it refuses what the
// default lets through; the budget refuses anything new when it is tiny.
func TestDocumentBoundsConfigurable(t *testing.T) {
	a := startApp(t, map[string]string{
		"QUERY_MAX_TOKENS": "30", "QUERY_MAX_DIRECTIVES": "1", "QUERY_MAX_FRAGMENT_SPREADS": "2",
		"QUERY_MAX_NESTING": "2", "QUERY_MAX_ERRORS": "2", "QUERY_MAX_FIELDS": "28",
	})
	for q, limit := range map[string]string{
		"{" + strings.Repeat(" __typename", 30) + " }": "QUERY_MAX_TOKENS",
		"{ __typename @a @b }":                         "QUERY_MAX_DIRECTIVES",
		doublingFragments(2):                           "QUERY_MAX_FRAGMENT_SPREADS",
		nested(2):                                      "QUERY_MAX_NESTING",
		"{ a b c }":                                    "QUERY_MAX_ERRORS",
		"{ ...A ...A } fragment A on Query {" + strings.Repeat(" __typename", 15) + " }": "QUERY_MAX_FIELDS", // 30 fields expanded
	} {
		r := a.postGraphQLResponse(t, q)
		if r.status != http.StatusBadRequest || len(r.Errors) == 0 || r.Errors[len(r.Errors)-1].Extensions["limit"] != limit {
			t.Errorf("%s: %d %+v, want 400 by %s", q, r.status, r.Errors, limit)
		}
	}
	if r := a.postGraphQLResponse(t, "{"+strings.Repeat(" __typename", 28)+" }"); r.status != http.StatusOK {
		t.Fatalf("exactly QUERY_MAX_TOKENS tokens: %d %+v", r.status, r.Errors)
	}

	// The clock refuses only documents of 1,000 tokens or more: a small one
	// under load would be refused for the wait for a CPU.
	slow := startApp(t, map[string]string{"QUERY_VALIDATION_BUDGET": "1ns"})
	r := slow.postGraphQLResponse(t, `{ nodes(ids: [`+strings.Repeat(`"a" `, 1000)+`]) { id } }`)
	if r.status != http.StatusBadRequest || r.Errors[0].Extensions["limit"] != "QUERY_VALIDATION_BUDGET" {
		t.Fatalf("1ns budget: %d %+v", r.status, r.Errors)
	}
	if r := slow.postGraphQLResponse(t, "{ __typename }"); r.status != http.StatusOK {
		t.Fatalf("a small document under a 1ns budget: %d %+v", r.status, r.Errors)
	}
}

// BenchmarkParserBombs times the answer to the worst document of each
// family over HTTP, end to end (client and server in this process, so B/op
// counts both); heap-growth-KB is the live heap after the run minus before,
// both after a GC: what the requests left behind. "new" makes every
// document new to the server (the iteration's number in spaces and tabs
// before its last character: no token more), so each is checked in full;
// "repeated" posts the same one, answered from the refusals kept by hash.
// See BENCHMARKS.md.
func BenchmarkParserBombs(b *testing.B) {
	a := startApp(b, map[string]string{"RATE_LIMIT_IP_RPS": "1000000", "RATE_LIMIT_IP_BURST": "1000000"})
	for _, bomb := range bombs {
		for _, mode := range []string{"new", "repeated"} {
			benchBomb(b, a, bomb.query(), bomb.limit, strings.NewReplacer(" ", "_", ",", "").Replace(bomb.name)+"/"+mode, mode == "new")
		}
	}
}

func benchBomb(b *testing.B, a *app, q, limit, name string, fresh bool) {
	b.Run(name, func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(q)))
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		i := 0
		for b.Loop() {
			doc := q
			if fresh {
				i++
				blanks := strings.NewReplacer("0", " ", "1", "\t").Replace(strconv.FormatInt(int64(i), 2))
				doc = q[:len(q)-1] + blanks + q[len(q)-1:]
			}
			r := a.postGraphQLResponse(b, doc)
			if r.status != http.StatusBadRequest || r.Errors[len(r.Errors)-1].Extensions["limit"] != limit {
				b.Fatalf("status %d %+v, want 400 by %s", r.status, r.Errors, limit)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(int64(after.HeapInuse)-int64(before.HeapInuse))/1024, "heap-growth-KB")
	})
}

// Over the socket the same bounds hold, and the socket lives on.
func TestParserBombOverSocket(t *testing.T) {
	a := startApp(t, nil)
	ws := a.dial(t)
	ws.Init("")
	ws.Send("subscribe", "bomb", map[string]any{"query": doublingFragments(27)})
	m := ws.Expect("error")
	var errs []gqlError
	if err := json.Unmarshal(m.Payload, &errs); err != nil || len(errs) != 1 || errs[0].Extensions["limit"] != "QUERY_MAX_FRAGMENT_SPREADS" {
		t.Fatalf("error payload %s (%v)", m.Payload, err)
	}
	ws.Send("subscribe", "ok", map[string]any{"query": "{ __typename }"})
	ws.Expect("next")
}
