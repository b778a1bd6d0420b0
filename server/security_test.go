package main

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/internal/testkit"
	"github.com/regulars/regulars/server/live"
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
		got := testkit.Must(json.Marshal(r.Errors))(t)
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
	} {
		r := a.do(t, "", signUpMutation, signUpVars(c.email, "correct horse battery", c.code))
		if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "referralCode" {
			t.Fatalf("%s with %q: %+v", c.email, c.code, r.Errors)
		}
		got := testkit.Must(json.Marshal(r.Errors))(t)
		if first == nil {
			first = got
		} else if string(got) != string(first) {
			t.Fatalf("answers differ:\n%s\n%s", first, got)
		}
		if strings.Contains(strings.ToLower(string(got)), "ann") || strings.Contains(string(got), "yourself") {
			t.Fatalf("the answer speaks of the owner: %s", got)
		}
	}
	// A taken address answers the same with the owner's code, another
	// member's and an unknown one: the owner's address is not told apart.
	a.signUp(t, "bob@example.com")
	first = nil
	for _, c := range []struct{ email, code string }{
		{"ann.lee@example.com", code},
		{"ANN.LEE@EXAMPLE.COM", strings.ToLower(code)},
		{"bob@example.com", code},
		{"bob@example.com", "NOPE234"},
		{"ann.lee@example.com", "NOPE234"},
	} {
		r := a.do(t, "", signUpMutation, signUpVars(c.email, "correct horse battery", c.code))
		got := testkit.Must(json.Marshal(r.Errors))(t)
		if r.code() != "CONFLICT" {
			t.Fatalf("%s (taken) with %q: %s", c.email, c.code, got)
		}
		if first == nil {
			first = got
		} else if string(got) != string(first) {
			t.Fatalf("answers for taken addresses differ:\n%s\n%s", first, got)
		}
	}

	// The owner under another spelling of their address joins like any new
	// address with the code (refusing would tell whose code it is), with no
	// referrer.
	for _, email := range []string{"ann.lee+2@example.com", "dora@example.com"} {
		var s session
		a.do(t, "", signUpMutation, signUpVars(email, "correct horse battery", strings.ToLower(code))).decode(t, "signUp", &s)
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
	got := make([]*gqlResponse, 2)
	testkit.Race(t, len(got), func(i int) error {
		got[i] = a.do(t, "", refresh, map[string]any{"t": s.RefreshToken})
		return nil
	}).Expect(t)
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

// dialHeader opens a socket with extra request headers; it returns the
// HTTP status when the upgrade is refused.
func (a *app) dialHeader(t *testing.T, h http.Header) (*testkit.WSClient, int) {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{testkit.Subprotocol}, HandshakeTimeout: 5 * time.Second}
	conn, res, err := d.Dial("ws://"+a.Addr()+"/graphql", h)
	if err != nil {
		if res == nil {
			t.Fatalf("dial: %v", err)
		}
		return nil, res.StatusCode
	}
	t.Cleanup(func() {
		if err := conn.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			t.Errorf("close: %v", err) // often closed by the server already: not an error
		}
	})
	return &testkit.WSClient{T: t, Conn: conn}, http.StatusSwitchingProtocols
}

// With CORS set for a web console, phones (no Origin) still get live
// notifications; the console's origin gets in; any other page does not.
func TestWebSocketOrigins(t *testing.T) {
	a := startApp(t, map[string]string{"CORS_ORIGINS": "https://app.example.com, https://console.example.com"})
	s := a.signUp(t, "phone@example.com")
	for _, c := range []struct {
		origin string
		want   int
	}{
		{"", http.StatusSwitchingProtocols},
		{"https://app.example.com", http.StatusSwitchingProtocols},
		{"HTTPS://Console.Example.com", http.StatusSwitchingProtocols},
		{"https://evil.example.net", http.StatusForbidden},
		{"https://app.example.com.evil.net", http.StatusForbidden},
		{"null", http.StatusForbidden},
	} {
		h := http.Header{}
		if c.origin != "" {
			h.Set("Origin", c.origin)
		}
		ws, status := a.dialHeader(t, h)
		if status != c.want {
			t.Fatalf("origin %q: status %d, want %d", c.origin, status, c.want)
		}
		if ws != nil {
			ws.Init(s.bearer())
			if err := ws.Conn.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Without CORS_ORIGINS no browser page is allowed but the server's own
	// (the console), and apps still are.
	b := startApp(t, nil)
	if _, status := b.dialHeader(t, http.Header{"Origin": {"http://" + b.Addr()}}); status != http.StatusSwitchingProtocols {
		t.Fatalf("the server's own page (the console): %d", status)
	}
	if _, status := b.dialHeader(t, http.Header{"Origin": {"http://" + b.Addr() + ".evil.net"}}); status != http.StatusForbidden {
		t.Fatalf("a look-alike host: %d", status)
	}
	if _, status := b.dialHeader(t, http.Header{"Origin": {"https://app.example.com"}}); status != http.StatusForbidden {
		t.Fatalf("a page's origin with no CORS_ORIGINS: %d", status)
	}
	if _, status := b.dialHeader(t, nil); status != http.StatusSwitchingProtocols {
		t.Fatalf("no origin, no CORS_ORIGINS: %d", status)
	}
}

// expectCloseReason reads until c is closed and fails t unless the close
// has code and reason.
func expectCloseReason(t *testing.T, c *testkit.WSClient, code int, reason string) {
	t.Helper()
	for {
		_, err := c.Next(10 * time.Second)
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != code || ce.Text != reason {
			t.Fatalf("got %v, want close %d %q", err, code, reason)
		}
		return
	}
}

// waitSockets polls the server's own count of sockets held by member (or,
// with an empty member, by the address 127.0.0.1) until it is n.
func (a *app) waitSockets(t *testing.T, memberID string, n int) {
	t.Helper()
	var id bson.ObjectID
	if memberID != "" {
		id = memberObjectID(t, memberID)
	}
	testkit.Eventually(t, 5*time.Second, func() bool {
		return a.sockets.Open("127.0.0.1", id) == n
	}, "never %d sockets (member %q)", n, memberID)
}

// Sockets are capped per member and per client address; the newest over a
// cap is closed 1008 with a reason naming the cap, and a closed socket
// frees its place.
func TestSocketCaps(t *testing.T) {
	a := startApp(t, map[string]string{"WS_MAX_PER_MEMBER": "2", "WS_MAX_PER_IP": "4", "TRUSTED_PROXIES": "127.0.0.1"})
	ann := a.signUp(t, "caps@example.com")
	first := a.dial(t)
	first.Init(ann.bearer())
	second := a.dial(t)
	second.Init(ann.bearer())
	third := a.dial(t)
	third.Send("connection_init", "", map[string]any{"authorization": ann.bearer()})
	expectCloseReason(t, third, live.ClosePolicy, live.ReasonTooManyForMember)
	// The brand's backend has no member cap; the same address may open more.
	svc := a.dial(t)
	svc.Init("ApiKey " + testAPIKey)

	if err := first.Conn.Close(); err != nil {
		t.Fatal(err)
	}
	a.waitSockets(t, ann.Member.ID, 1)
	again := a.dial(t)
	again.Init(ann.bearer())

	// 127.0.0.1 now holds 3 (second, svc, again), then 4; a fifth is refused at once.
	a.waitSockets(t, "", 3)
	fourth := a.dial(t)
	fourth.Init("")
	fifth := a.dial(t)
	expectCloseReason(t, fifth, live.ClosePolicy, live.ReasonTooManyFromIP)
	// Behind the trusted proxy, another client is another address.
	other, status := a.dialHeader(t, http.Header{"X-Forwarded-For": {"203.0.113.7"}})
	if status != http.StatusSwitchingProtocols {
		t.Fatalf("another client behind the proxy: %d", status)
	}
	other.Init("")
}

// Behind a trusted proxy each client has its own rate-limit bucket; with
// no trusted proxy (the default) X-Forwarded-For is ignored, so a client
// cannot pick a fresh bucket per request.
func TestTrustedProxies(t *testing.T) {
	get := func(a *app, xff ...string) int {
		req := testkit.Must(http.NewRequest(http.MethodGet, a.url+"?query=%7B__typename%7D", nil))(t)
		for _, v := range xff {
			req.Header.Add("X-Forwarded-For", v)
		}
		return send(t, req).status
	}
	limits := map[string]string{"RATE_LIMIT_IP_RPS": "0.001", "RATE_LIMIT_IP_BURST": "2"}

	direct := startApp(t, limits)
	for i, xff := range []string{"203.0.113.1", "203.0.113.2", "203.0.113.3"} {
		want := http.StatusOK
		if i == 2 {
			want = http.StatusTooManyRequests
		}
		if got := get(direct, xff); got != want {
			t.Fatalf("no trusted proxy, request %d as %s: %d, want %d", i+1, xff, got, want)
		}
	}

	limits["TRUSTED_PROXIES"] = "127.0.0.0/8, ::1"
	proxied := startApp(t, limits)
	for i, c := range []struct {
		xff  []string
		want int
	}{
		{[]string{"203.0.113.1"}, http.StatusOK},
		{[]string{"203.0.113.1"}, http.StatusOK},
		{[]string{"203.0.113.1"}, http.StatusTooManyRequests},
		{[]string{"203.0.113.2"}, http.StatusOK},
		// The client wrote the left part itself; the proxy appended its peer.
		{[]string{"198.51.100.9, 203.0.113.1"}, http.StatusTooManyRequests},
		{[]string{"198.51.100.9", "203.0.113.1"}, http.StatusTooManyRequests},
		// A chain of trusted proxies is walked through.
		{[]string{"203.0.113.3, 127.0.0.5"}, http.StatusOK},
	} {
		if got := get(proxied, c.xff...); got != c.want {
			t.Fatalf("trusted proxy, request %d with %q: %d, want %d", i+1, c.xff, got, c.want)
		}
	}
}
