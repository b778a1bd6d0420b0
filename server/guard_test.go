package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/regulars/regulars/member/auth"
)

// Issue 13 item 5, end to end: one POST with 200 aliased logIn (one of them
// right) is refused as a whole, naming the field, and runs none of them:
// the account's back-off has counted nothing, and failed log-ins then back
// off with RATE_LIMITED and retryAfter.
func TestAliasedLogInsRunNone(t *testing.T) {
	a := startApp(t, nil)
	a.signUp(t, "ann@example.com")
	var b strings.Builder
	b.WriteString("mutation {")
	for i := range 200 {
		pw := fmt.Sprintf("guess number %d", i)
		if i == 137 {
			pw = "correct horse battery"
		}
		fmt.Fprintf(&b, ` a%d: logIn(input: {email: "ann@example.com", password: %q}) { accessToken }`, i, pw)
	}
	b.WriteString(" }")
	r := a.do(t, "", b.String(), nil)
	if len(r.Errors) != 1 || r.code() != "QUERY_LIMIT_EXCEEDED" || r.Errors[0].Extensions["field"] != "logIn" || len(r.Data) != 0 {
		t.Fatalf("200 aliased logIn: %d errors, the first %q, data %v; want one QUERY_LIMIT_EXCEEDED naming logIn", len(r.Errors), r.code(), len(r.Data) != 0)
	}

	const logIn = `mutation($pw: String!) { logIn(input: {email: "ann@example.com", password: $pw}) { accessToken } }`
	for i := range auth.AccountBackoff.Free {
		if r := a.do(t, "", logIn, map[string]any{"pw": "wrong guess"}); r.code() != "UNAUTHENTICATED" {
			t.Fatalf("failure %d: %q, want UNAUTHENTICATED (nothing of the aliased request counted)", i+1, r.code())
		}
	}
	r = a.do(t, "", logIn, map[string]any{"pw": "correct horse battery"})
	if r.code() != "RATE_LIMITED" || r.Errors[0].Extensions["retryAfter"] == nil {
		t.Fatalf("the right password during the back-off: %+v", r)
	}
}
