package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/mongotest"
	"github.com/regulars/regulars/internal/testkit"
	"github.com/regulars/regulars/server/config"
)

func TestMain(m *testing.M) {
	if os.Getenv(serveForTest) == "1" {
		// A subprocess of a fault test: this binary is the server (see
		// spawnServer).
		main()
		return
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	testkit.Main(m)
}

const testAPIKey = "test-service-key-0123456789"

// app is a running server for one test, driven over real sockets.
type app struct {
	*Main
	url string
}

// startApp runs the real program on a random port against a fresh database
// (env may name another with MONGODB_DATABASE); setup may change Main
// before it runs.
func startApp(t testing.TB, env map[string]string, setup ...func(*Main)) *app {
	t.Helper()
	db := testkit.Database(t)
	base := map[string]string{
		"MONGODB_URI":      mongotest.URI(t),
		"MONGODB_DATABASE": db.Name(),
		"HTTP_ADDR":        "127.0.0.1:0",
		"SERVICE_API_KEYS": testAPIKey,
		"JWT_SECRET":       strings.Repeat("s", 32),
		"WS_INIT_TIMEOUT":  "500ms",
		"LOG_LEVEL":        "error",
	}
	for k, v := range env {
		base[k] = v
	}
	cfg, err := config.Load(func(k string) string { return base[k] })
	if err != nil {
		t.Fatal(err)
	}
	m := NewMain(cfg)
	for _, f := range setup {
		f(m)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	select {
	case <-m.Ready():
	case <-time.After(20 * time.Second):
		t.Fatal("database never became ready")
	}
	return &app{Main: m, url: "http://" + m.Addr() + "/graphql"}
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type gqlResponse struct {
	status int
	Data   map[string]json.RawMessage `json:"data"`
	Errors []gqlError                 `json:"errors"`
}

func (r *gqlResponse) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// decode reads field of data into v, failing on any error.
func (r *gqlResponse) decode(t testing.TB, field string, v any) {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("unexpected errors: %+v", r.Errors)
	}
	if err := json.Unmarshal(r.Data[field], v); err != nil {
		t.Fatalf("decode %s: %v (%s)", field, err, r.Data[field])
	}
}

// do posts a GraphQL request with the given Authorization header value.
func (a *app) do(t testing.TB, auth, query string, vars map[string]any) *gqlResponse {
	t.Helper()
	r, err := a.post(auth, query, vars)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// post is do for goroutines: it returns its error instead of failing the
// test, and a GraphQL error in the response as an error too.
func (a *app) post(auth, query string, vars map[string]any) (*gqlResponse, error) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, a.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return roundTrip(req)
}

func send(t testing.TB, req *http.Request) *gqlResponse {
	t.Helper()
	r, err := roundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// newRequest is http.NewRequest, failing t on an error.
func newRequest(t testing.TB, method, url string, body io.Reader) *http.Request {
	t.Helper()
	return testkit.Must(http.NewRequest(method, url, body))(t)
}

// readBody reads and closes a response body.
func readBody(res *http.Response) ([]byte, error) {
	raw, err := io.ReadAll(res.Body)
	if cerr := res.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("read response %d: %w", res.StatusCode, err)
	}
	return raw, nil
}

// roundTrip sends req and reads the GraphQL response, whatever its status.
func roundTrip(req *http.Request) (*gqlResponse, error) {
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	raw, err := readBody(res)
	if err != nil {
		return nil, err
	}
	r := &gqlResponse{status: res.StatusCode}
	if err := json.Unmarshal(raw, r); err != nil {
		return nil, fmt.Errorf("response %d is not GraphQL JSON: %w: %s", res.StatusCode, err, raw)
	}
	return r, nil
}

type session struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	Member       struct {
		ID    string   `json:"id"`
		Email string   `json:"email"`
		Roles []string `json:"roles"`
	} `json:"member"`
}

func (s session) bearer() string { return "Bearer " + s.AccessToken }

const signUpMutation = `mutation($in: SignUpInput!) { signUp(input: $in) { accessToken refreshToken member { id email roles } } }`

func (a *app) signUp(t testing.TB, email string) session {
	t.Helper()
	var s session
	a.do(t, "", signUpMutation, map[string]any{"in": map[string]any{
		"email": email, "password": "correct horse battery", "displayName": "Member " + email, "timezone": "Europe/Paris",
	}}).decode(t, "signUp", &s)
	return s
}

func TestSignUpLogInAndMe(t *testing.T) {
	a := startApp(t, nil)
	s := a.signUp(t, "  Ann@Example.COM ")
	if s.Member.Email != "ann@example.com" || len(s.Member.Roles) != 1 || s.Member.Roles[0] != "CUSTOMER" {
		t.Fatalf("signUp member = %+v", s.Member)
	}

	var logged session
	a.do(t, "", `mutation { logIn(input: {email: "ANN@example.com", password: "correct horse battery"}) { accessToken refreshToken member { id } } }`, nil).
		decode(t, "logIn", &logged)
	if logged.Member.ID != s.Member.ID {
		t.Fatalf("logIn returned member %s, want %s", logged.Member.ID, s.Member.ID)
	}

	var me struct {
		ID          string `json:"id"`
		DisplayName string `json:"displayName"`
		Timezone    string `json:"timezone"`
	}
	a.do(t, logged.bearer(), `{ me { id displayName timezone } }`, nil).decode(t, "me", &me)
	if me.ID != s.Member.ID || me.Timezone != "Europe/Paris" {
		t.Fatalf("me = %+v", me)
	}

	var conn struct {
		Edges []struct {
			Node struct{ Kind, Title string } `json:"node"`
		} `json:"edges"`
	}
	a.do(t, s.bearer(), `{ notifications(first: 10) { edges { node { kind title } } } }`, nil).decode(t, "notifications", &conn)
	if len(conn.Edges) != 1 || conn.Edges[0].Node.Kind != "WELCOME" {
		t.Fatalf("a new member's inbox = %+v, want one WELCOME", conn.Edges)
	}

	if r := a.do(t, "", `mutation { logIn(input: {email: "ann@example.com", password: "wrong password!"}) { accessToken } }`, nil); r.code() != "UNAUTHENTICATED" {
		t.Fatalf("wrong password: code %q", r.code())
	}
	if r := a.do(t, "", signUpMutation, map[string]any{"in": map[string]any{
		"email": "ann@example.com", "password": "another fine one", "displayName": "Ann 2", "timezone": "UTC",
	}}); r.code() != "CONFLICT" {
		t.Fatalf("duplicate email: code %q", r.code())
	}
}

func TestRefreshRotationAndReuse(t *testing.T) {
	a := startApp(t, map[string]string{"REFRESH_REUSE_GRACE": "0"}) // every replay is past the window
	s := a.signUp(t, "rot@example.com")
	const refresh = `mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }`

	var next session
	a.do(t, "", refresh, map[string]any{"t": s.RefreshToken}).decode(t, "refreshToken", &next)
	if next.RefreshToken == s.RefreshToken {
		t.Fatal("refresh did not rotate the token")
	}
	// The old token again: a thief replaying it. The whole family dies.
	if r := a.do(t, "", refresh, map[string]any{"t": s.RefreshToken}); r.code() != "UNAUTHENTICATED" {
		t.Fatalf("reuse: code %q", r.code())
	}
	if r := a.do(t, "", refresh, map[string]any{"t": next.RefreshToken}); r.code() != "UNAUTHENTICATED" {
		t.Fatalf("after reuse the newest token must be revoked too; code %q", r.code())
	}

	// Log out revokes the session.
	s2 := a.signUp(t, "rot2@example.com")
	var ok bool
	a.do(t, "", `mutation($t: String!) { logOut(refreshToken: $t) }`, map[string]any{"t": s2.RefreshToken}).decode(t, "logOut", &ok)
	if !ok {
		t.Fatal("logOut answered false")
	}
	if r := a.do(t, "", refresh, map[string]any{"t": s2.RefreshToken}); r.code() != "UNAUTHENTICATED" {
		t.Fatalf("refresh after logOut: code %q", r.code())
	}
}

func TestRolesAndServiceCaller(t *testing.T) {
	a := startApp(t, nil)
	ann := a.signUp(t, "ann@example.com")
	bob := a.signUp(t, "bob@example.com")
	const grant = `mutation($id: ID!) { grantRole(memberId: $id, role: BRAND) { roles } }`

	if r := a.do(t, ann.bearer(), grant, map[string]any{"id": ann.Member.ID}); r.code() != "FORBIDDEN" || r.Data["grantRole"] != nil && string(r.Data["grantRole"]) != "null" {
		t.Fatalf("customer granting itself BRAND: %+v", r)
	}
	var m struct{ Roles []string }
	a.do(t, "ApiKey "+testAPIKey, grant, map[string]any{"id": ann.Member.ID}).decode(t, "grantRole", &m)
	if fmt.Sprint(m.Roles) != "[CUSTOMER BRAND]" {
		t.Fatalf("roles after grant = %v", m.Roles)
	}
	// The access token carries roles; a refreshed one has the new role.
	var fresh session
	a.do(t, "", `mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }`, map[string]any{"t": ann.RefreshToken}).decode(t, "refreshToken", &fresh)

	var who struct{ Email string }
	a.do(t, fresh.bearer(), `query($id: ID!) { member(id: $id) { email } }`, map[string]any{"id": bob.Member.ID}).decode(t, "member", &who)
	if who.Email != "bob@example.com" {
		t.Fatalf("BRAND reading a member: %+v", who)
	}
	// Bob cannot read Ann.
	if r := a.do(t, bob.bearer(), `query($id: ID!) { member(id: $id) { email } }`, map[string]any{"id": ann.Member.ID}); r.code() != "FORBIDDEN" || strings.Contains(fmt.Sprint(r.Data), "ann@") {
		t.Fatalf("customer reading another member: %+v", r)
	}
	if r := a.do(t, "ApiKey "+testAPIKey, `mutation($id: ID!) { revokeRole(memberId: $id, role: CUSTOMER) { roles } }`, map[string]any{"id": bob.Member.ID}); r.code() != "BAD_USER_INPUT" {
		t.Fatalf("revoking CUSTOMER: code %q", r.code())
	}
	if r := a.do(t, "ApiKey wrong-key-0123456789abcdef", `{ __typename }`, nil); r.status != http.StatusOK || r.code() != "UNAUTHENTICATED" {
		t.Fatalf("bad API key: %d %q", r.status, r.code())
	}
	if r := a.do(t, "ApiKey "+testAPIKey, `{ me { id } }`, nil); r.code() != "FORBIDDEN" {
		t.Fatalf("service caller asking for me: %q", r.code())
	}
}

func TestUpdateProfile(t *testing.T) {
	a := startApp(t, nil)
	s := a.signUp(t, "ann@example.com")
	const update = `mutation($in: UpdateProfileInput!) { updateProfile(input: $in) { displayName timezone birthday avatarUrl marketingConsent } }`
	var m struct {
		DisplayName, Timezone string
		Birthday, AvatarURL   *string
		MarketingConsent      bool
	}
	a.do(t, s.bearer(), update, map[string]any{"in": map[string]any{
		"displayName": "Annie", "timezone": "Pacific/Kiritimati", "birthday": "1991-02-28",
		"avatarUrl": "https://cdn.example.com/a.png", "marketingConsent": true,
	}}).decode(t, "updateProfile", &m)
	if m.DisplayName != "Annie" || m.Timezone != "Pacific/Kiritimati" || *m.Birthday != "1991-02-28" || !m.MarketingConsent || m.AvatarURL == nil {
		t.Fatalf("after update: %+v", m)
	}
	for _, bad := range []struct{ field, value string }{
		{"displayName", strings.Repeat("x", 51)},
		{"timezone", "Mars/Olympus"},
		{"avatarUrl", "javascript:alert(1)"},
	} {
		r := a.do(t, s.bearer(), update, map[string]any{"in": map[string]any{bad.field: bad.value}})
		if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != bad.field {
			t.Errorf("%s=%q: %+v", bad.field, bad.value, r.Errors)
		}
	}
	var after struct{ DisplayName, Timezone string }
	a.do(t, s.bearer(), `{ me { displayName timezone } }`, nil).decode(t, "me", &after)
	if after.DisplayName != "Annie" || after.Timezone != "Pacific/Kiritimati" {
		t.Fatalf("a refused update wrote something: %+v", after)
	}
}

func TestBadInputWritesNothing(t *testing.T) {
	a := startApp(t, nil)
	for _, c := range []struct {
		name, field string
		in          map[string]any
	}{
		{"invalid email", "email", map[string]any{"email": "not-an-email", "password": "correct horse battery", "displayName": "A", "timezone": "UTC"}},
		{"weak password", "password", map[string]any{"email": "a@example.com", "password": "short", "displayName": "A", "timezone": "UTC"}},
		{"common password", "password", map[string]any{"email": "a@example.com", "password": "password123", "displayName": "A", "timezone": "UTC"}},
		{"unknown timezone", "timezone", map[string]any{"email": "a@example.com", "password": "correct horse battery", "displayName": "A", "timezone": "Europe/Atlantis"}},
		{"long display name", "displayName", map[string]any{"email": "a@example.com", "password": "correct horse battery", "displayName": strings.Repeat("é", 51), "timezone": "UTC"}},
	} {
		r := a.do(t, "", signUpMutation, map[string]any{"in": c.in})
		if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != c.field {
			t.Errorf("%s: want BAD_USER_INPUT on %s, got %+v", c.name, c.field, r.Errors)
		}
	}
	n, err := a.mongo.Database(a.Config.MongoDatabase).Collection("members").CountDocuments(context.Background(), map[string]any{})
	if err != nil || n != 0 {
		t.Fatalf("refused sign-ups wrote %d members (%v)", n, err)
	}
}

func TestHTTPProtocol(t *testing.T) {
	a := startApp(t, map[string]string{"MAX_BODY_BYTES": "4096"})
	post := func(ct, accept, body string) *gqlResponse {
		req := newRequest(t, http.MethodPost, a.url, strings.NewReader(body))
		req.Header.Set("Content-Type", ct)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		return send(t, req)
	}
	cases := []struct {
		name   string
		r      *gqlResponse
		status int
		code   string
	}{
		{"malformed JSON", post("application/json", "", `{"query":`), 400, "BAD_USER_INPUT"},
		{"oversized body", post("application/json", "", `{"query":"`+strings.Repeat("a", 5000)+`"}`), 413, "BAD_USER_INPUT"},
		{"wrong media type", post("text/plain", "", `{"query":"{ __typename }"}`), 415, "BAD_USER_INPUT"},
		{"parse error as application/json", post("application/json", "application/json", `{"query":"{ me "}`), 200, "BAD_USER_INPUT"},
		{"parse error as graphql-response+json", post("application/json", "application/graphql-response+json", `{"query":"{ me "}`), 400, "BAD_USER_INPUT"},
		{"no token as graphql-response+json", post("application/json", "application/graphql-response+json", `{"query":"{ me { id } }"}`), 401, "UNAUTHENTICATED"},
		{"unknown field", post("application/json", "", `{"query":"{ nope }"}`), 200, "BAD_USER_INPUT"},
		{"too deep", post("application/json", "", `{"query":"{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } } } }"}`), 200, "BAD_USER_INPUT"},
	}
	for _, c := range cases {
		if c.r.status != c.status || c.r.code() != c.code {
			t.Errorf("%s: got %d %q, want %d %q (%+v)", c.name, c.r.status, c.r.code(), c.status, c.code, c.r.Errors)
		}
	}

	get := func(q string) *gqlResponse {
		req := newRequest(t, http.MethodGet, a.url+"?query="+q, nil)
		return send(t, req)
	}
	if r := get("%7B__typename%7D"); r.status != 200 || string(r.Data["__typename"]) != `"Query"` {
		t.Errorf("GET query: %d %+v", r.status, r)
	}
	if r := get("mutation%7BlogOut(refreshToken:%22x%22)%7D"); r.status != 405 {
		t.Errorf("GET mutation: status %d, want 405", r.status)
	}
	// The method is checked before the caller: with no token or a bad one
	// a mutation over GET is still the wrong method.
	for _, auth := range []string{"", "Bearer not.a.token"} {
		req := newRequest(t, http.MethodGet, a.url+"?query=mutation%7BmarkAllNotificationsRead%7D", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if r := send(t, req); r.status != 405 || r.code() != "BAD_USER_INPUT" {
			t.Errorf("GET mutation with Authorization %q: %d %q, want 405", auth, r.status, r.code())
		}
	}
	if r := a.do(t, "Bearer not.a.token", `{ __typename }`, nil); r.status != 200 || r.code() != "UNAUTHENTICATED" {
		t.Errorf("garbage token: %d %q", r.status, r.code())
	}

	res, err := http.Get("http://" + a.Addr() + "/readyz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("readyz: %v %v", res, err)
	}
	if _, err := readBody(res); err != nil {
		t.Fatal(err)
	}
	res, err = http.Get("http://" + a.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics := testkit.Must(readBody(res))(t)
	for _, want := range []string{"regulars_graphql_operations_total", `regulars_graphql_errors_total{code="BAD_USER_INPUT"}`, "regulars_websockets_open", "regulars_mongodb_operation_seconds"} {
		if !bytes.Contains(metrics, []byte(want)) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestRateLimit(t *testing.T) {
	a := startApp(t, map[string]string{"RATE_LIMIT_IP_RPS": "1", "RATE_LIMIT_IP_BURST": "3"})
	var limited *gqlResponse
	for range 10 {
		if r := a.do(t, "", `{ __typename }`, nil); r.status == http.StatusTooManyRequests {
			limited = r
			break
		}
	}
	if limited == nil || limited.code() != "RATE_LIMITED" || limited.Errors[0].Extensions["retryAfter"] == nil {
		t.Fatalf("burst of 10 against a limit of 3: %+v", limited)
	}
}

// Automatic persisted queries, as Apollo Client sends them: a hash alone is
// unknown at first, then the hash with its query registers it, then the
// hash alone works.
func TestAutomaticPersistedQueries(t *testing.T) {
	a := startApp(t, nil)
	const query = `{ __typename }`
	sum := sha256.Sum256([]byte(query))
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
	post := func(body map[string]any) *gqlResponse {
		req := newRequest(t, http.MethodPost, a.url, bytes.NewReader(testkit.Must(json.Marshal(body))(t)))
		req.Header.Set("Content-Type", "application/json")
		return send(t, req)
	}
	if r := post(map[string]any{"extensions": ext}); r.code() != "PERSISTED_QUERY_NOT_FOUND" || r.Errors[0].Message != "PersistedQueryNotFound" {
		t.Fatalf("unknown hash: %+v", r.Errors)
	}
	if r := post(map[string]any{"query": query, "extensions": ext}); len(r.Errors) != 0 {
		t.Fatalf("registering: %+v", r.Errors)
	}
	if r := post(map[string]any{"extensions": ext}); len(r.Errors) != 0 || string(r.Data["__typename"]) != `"Query"` {
		t.Fatalf("hash alone after registering: %+v", r)
	}
}

// The member rate limit counts the fields a request asks for at its root,
// not the request: aliases do not multiply what one token buys.
func TestRateLimitCountsRootFields(t *testing.T) {
	a := startApp(t, map[string]string{"RATE_LIMIT_MEMBER_RPS": "1", "RATE_LIMIT_MEMBER_BURST": "10"})
	ann := a.signUp(t, "ann@example.com")
	if r := a.do(t, ann.bearer(), `{ me { id } unreadNotificationCount }`, nil); len(r.Errors) > 0 {
		t.Fatalf("two root fields within the burst: %+v", r.Errors)
	}
	aliased := func(n int) string {
		var q strings.Builder
		q.WriteString("{")
		for i := range n {
			fmt.Fprintf(&q, " a%d: unreadNotificationCount", i)
		}
		q.WriteString(" }")
		return q.String()
	}
	// More fields than a whole burst could never run: refused as such, not as a wait.
	if r := a.do(t, ann.bearer(), aliased(11), nil); r.code() != "QUERY_LIMIT_EXCEEDED" || r.status == http.StatusTooManyRequests {
		t.Fatalf("11 fields against a burst of 10: %d %+v", r.status, r.Errors)
	}
	// 2 + 1 + 7 fit the burst of 10; 8 more do not, for now.
	if r := a.do(t, ann.bearer(), aliased(7), nil); len(r.Errors) > 0 {
		t.Fatalf("7 fields within the burst: %+v", r.Errors)
	}
	r := a.do(t, ann.bearer(), aliased(8), nil)
	if r.status != http.StatusTooManyRequests || r.code() != "RATE_LIMITED" || r.Errors[0].Extensions["retryAfter"] == nil {
		t.Fatalf("8 more aliased fields past the burst: %d %+v", r.status, r.Errors)
	}
}
