package main

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/regulars/regulars/server/gateway"
)

// Every refusal, under both response media types, has the status GraphQL
// over HTTP gives it: under application/json a well-formed request gets
// 200 whatever went wrong once it was read (the body says what); under
// application/graphql-response+json a request that did not run gets the
// 4xx of its code. Rate limiting refuses before the request is read: 429
// under both, with Retry-After.
func TestStatusCodesFollowGraphQLOverHTTP(t *testing.T) {
	a := startApp(t, map[string]string{"QUERY_MAX_COMPLEXITY": "50", "RATE_LIMIT_MEMBER_RPS": "1", "RATE_LIMIT_MEMBER_BURST": "30"})
	ann := a.signUp(t, "ann@example.com")
	const brandOnly = `{ member(id: "TWVtYmVyOjY1YTAwMDAwMDAwMDAwMDAwMDAwMDAwMA") { email } }`
	cases := []struct {
		name, auth, body string
		codes            []string
		json, gqlJSON    int
	}{
		{"bad bearer token", "Bearer not.a.token", `{"query": "{ me { id } }"}`, []string{"UNAUTHENTICATED"}, 200, 401},
		{"unknown API key", "ApiKey wrong-key-0123456789abcdef", `{"query": "{ __typename }"}`, []string{"UNAUTHENTICATED"}, 200, 401},
		{"no token for a member's field", "", `{"query": "{ me { id } }"}`, []string{"UNAUTHENTICATED"}, 200, 401},
		{"forbidden", ann.bearer(), `{"query": ` + jsonString(brandOnly) + `}`, []string{"FORBIDDEN"}, 200, 403},
		{"too complex", ann.bearer(), `{"query": "{ notifications(first: 100) { edges { node { id title body } } } }"}`, []string{"BAD_USER_INPUT", "QUERY_LIMIT_EXCEEDED"}, 200, 400},
		{"invalid document", "", `{"query": "{ nope }"}`, []string{"BAD_USER_INPUT"}, 200, 400},
		{"malformed JSON", "", `{"query": `, []string{"BAD_USER_INPUT"}, 400, 400},
		{"no query", "", `{}`, []string{"BAD_USER_INPUT"}, 400, 400},
		{"an empty query", "", `{"query": ""}`, []string{"BAD_USER_INPUT"}, 400, 400},
		{"a null query", "", `{"query": null}`, []string{"BAD_USER_INPUT"}, 400, 400},
	}
	for _, c := range cases {
		for _, media := range []string{gateway.MediaJSON, gateway.MediaGraphQLResponse} {
			req := newRequest(t, http.MethodPost, a.url, strings.NewReader(c.body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", media)
			if c.auth != "" {
				req.Header.Set("Authorization", c.auth)
			}
			r := send(t, req)
			want := c.json
			if media == gateway.MediaGraphQLResponse {
				want = c.gqlJSON
			}
			if r.status != want || !slices.Contains(c.codes, r.code()) || r.Data != nil {
				t.Errorf("%s under %s: %d %+v, want %d %v and no data", c.name, media, r.status, r.Errors, want, c.codes)
			}
		}
	}

	// Ann's requests until the member limit refuses one, under each type.
	for _, media := range []string{gateway.MediaJSON, gateway.MediaGraphQLResponse} {
		var limited *gqlResponse
		var retryAfter string
		for range 40 {
			req := newRequest(t, http.MethodPost, a.url, strings.NewReader(`{"query": "{ __typename }"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", media)
			req.Header.Set("Authorization", ann.bearer())
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			retryAfter = res.Header.Get("Retry-After")
			raw, err := readBody(res)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != http.StatusOK {
				limited = &gqlResponse{status: res.StatusCode}
				if err := json.Unmarshal(raw, limited); err != nil {
					t.Fatalf("%d %s", res.StatusCode, raw)
				}
				break
			}
		}
		if limited == nil || limited.status != http.StatusTooManyRequests || limited.code() != "RATE_LIMITED" || retryAfter == "" {
			t.Errorf("rate limited under %s: %+v (Retry-After %q)", media, limited, retryAfter)
		}
	}
}
