package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
)

func signUpVars(email, password, code string) map[string]any {
	in := map[string]any{"email": email, "password": password, "displayName": "X", "timezone": "UTC"}
	if code != "" {
		in["referralCode"] = code
	}
	return map[string]any{"in": in}
}

// A referral code is public; its answers must not tie it to an address.
// Other fields are checked first, and an unknown code, a malformed one and
// the owner's own (under any spelling of their address) get one answer.
func TestReferralCodeIsNoOracle(t *testing.T) {
	a := startApp(t, map[string]string{"RATE_LIMIT_IP_BURST": "1000"})
	a.setProgram(t)
	ann := a.signUp(t, "ann.lee@example.com")
	var me struct{ Referral struct{ Code string } }
	a.do(t, ann.bearer(), `{ me { referral { code } } }`, nil).decode(t, "me", &me)
	code := me.Referral.Code

	// With another field wrong, the code is not looked at: the same answer
	// whether it is real, unknown or malformed.
	var first []byte
	for _, c := range []string{code, "NOPE234", "!!"} {
		r := a.do(t, "", signUpMutation, signUpVars("someone@example.com", "short", c))
		if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "password" {
			t.Fatalf("bad password with code %q: %+v", c, r.Errors)
		}
		got, _ := json.Marshal(r.Errors)
		if first == nil {
			first = got
		} else if string(got) != string(first) {
			t.Fatalf("answers differ by code:\n%s\n%s", first, got)
		}
	}

	// All else valid: unknown, malformed and self-referral answer alike.
	first = nil
	for _, c := range []struct{ email, code string }{
		{"carl@example.com", "NOPE234"},
		{"carl@example.com", "x"},
		{"ann.lee+2@example.com", code},
		{"ANN.LEE@EXAMPLE.COM", strings.ToLower(code)},
		{"ann.lee@example.com", code},
	} {
		r := a.do(t, "", signUpMutation, signUpVars(c.email, "correct horse battery", c.code))
		if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "referralCode" {
			t.Fatalf("%s with %q: %+v", c.email, c.code, r.Errors)
		}
		got, _ := json.Marshal(r.Errors)
		if first == nil {
			first = got
		} else if string(got) != string(first) {
			t.Fatalf("answers differ:\n%s\n%s", first, got)
		}
		if strings.Contains(strings.ToLower(string(got)), "ann") || strings.Contains(string(got), "yourself") {
			t.Fatalf("the answer speaks of the owner: %s", got)
		}
	}
	// Nothing was written: carl can still sign up.
	a.signUp(t, "carl@example.com")
}

// The examples of the issue, end to end: NFC and NFD spellings of one
// address are one member; a long password is not matched by its first 72
// bytes.
func TestOneIdentityOnePassword(t *testing.T) {
	a := startApp(t, nil)
	nfc := a.signUp(t, "jos\u00e9.t@example.com")
	if r := a.do(t, "", signUpMutation, signUpVars("jose\u0301.t@example.com", "correct horse battery", "")); r.code() != "CONFLICT" {
		t.Fatalf("NFD twin signed up: %+v", r.Errors)
	}
	var s session
	a.do(t, "", `mutation($e: String!) { logIn(input: {email: $e, password: "correct horse battery"}) { member { id } } }`,
		map[string]any{"e": "JOSE\u0301.T@example.com"}).decode(t, "logIn", &s)
	if s.Member.ID != nfc.Member.ID {
		t.Fatalf("NFD log-in reached %s, want %s", s.Member.ID, nfc.Member.ID)
	}

	long := strings.Repeat("0123456789abcdef", 5)[:72] + "-the-real-end"
	a.do(t, "", signUpMutation, signUpVars("long@example.com", long, "")).decode(t, "signUp", &session{})
	const logIn = `mutation($p: String!) { logIn(input: {email: "long@example.com", password: $p}) { accessToken } }`
	if r := a.do(t, "", logIn, map[string]any{"p": long[:72] + "-anything"}); r.code() != "UNAUTHENTICATED" {
		t.Fatalf("72 bytes plus another suffix: %+v", r.Errors)
	}
	if r := a.do(t, "", logIn, map[string]any{"p": long}); r.status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("the right password: %+v", r.Errors)
	}
}

// Two refreshes with one token at once, as a phone retrying on a flaky
// network sends them: both succeed with the same new refresh token, and the
// member stays signed in.
func TestConcurrentRefreshKeepsSession(t *testing.T) {
	a := startApp(t, nil)
	s := a.signUp(t, "twice@example.com")
	const refresh = `mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }`
	start := make(chan struct{})
	got := make([]*gqlResponse, 2)
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() {
			<-start
			got[i] = a.do(t, "", refresh, map[string]any{"t": s.RefreshToken})
		})
	}
	close(start)
	wg.Wait()
	var first, second session
	got[0].decode(t, "refreshToken", &first)
	got[1].decode(t, "refreshToken", &second)
	if first.RefreshToken != second.RefreshToken {
		t.Fatal("the two refreshes got different refresh tokens")
	}
	var next session
	a.do(t, "", refresh, map[string]any{"t": first.RefreshToken}).decode(t, "refreshToken", &next)
	a.do(t, next.bearer(), `{ me { id } }`, nil).decode(t, "me", &struct{ ID string }{})
}
