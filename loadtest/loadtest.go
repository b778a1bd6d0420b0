// Package loadtest drives a realistic mix of traffic against a running
// Regulars server and reports throughput, latency percentiles and errors
// by code per operation: app users signing in and opening the app (me,
// notifications, leaderboard), checking in, holding a notifications
// subscription open; the brand's backend reporting purchases and refunds;
// the brand publishing an offer to everyone mid-run.
//
// Requests are sent open-loop at fixed rates (github.com/tsenart/vegeta),
// so a slow server shows as latency rather than as fewer requests. Each
// simulated member comes from an address of its own (X-Forwarded-For), so
// the server's per-address limits treat them as the separate phones they
// stand for: start the server with TRUSTED_PROXIES naming the load
// generator's address (see the README's "Load testing").
package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config is one run. Rates are requests per second; 0 switches an
// operation off.
type Config struct {
	URL        string // the server's base URL, e.g. http://127.0.0.1:8080
	ServiceKey string // a SERVICE_API_KEYS key (the brand's backend)
	Duration   time.Duration

	Members int // members signed up for the run (each with its own address)
	Sockets int // members holding a notifications subscription open (≤ Members)
	// SeedPurchases is how many purchases each member gets before the
	// run, to grow the brand's history; 0: none.
	SeedPurchases int

	Rates Rates
	// OfferAt publishes an offer to everyone this far into the run; 0: no
	// offer.
	OfferAt time.Duration
	// Drain is how long the run waits after the mix for the offer to
	// finish publishing and reach every subscriber.
	Drain time.Duration

	// Thresholds: a run fails when an operation's p99 exceeds P99, or
	// when more than MaxErrorRate of its requests fail with anything but
	// RATE_LIMITED.
	P99          time.Duration
	MaxErrorRate float64

	// Log receives progress lines; nil: none.
	Log io.Writer
}

// Rates per operation, in requests per second.
type Rates struct {
	LogIn         float64
	Me            float64
	Notifications float64
	Leaderboard   float64
	CheckIn       float64
	Purchase      float64
	Refund        float64
}

// DefaultConfig is the mix the README runs: a few hundred members, most of
// the traffic app opens, the brand's till reporting purchases.
func DefaultConfig() Config {
	return Config{
		URL: "http://127.0.0.1:8080", Duration: time.Minute, Members: 200, Sockets: 100,
		Rates:   Rates{LogIn: 1, Me: 20, Notifications: 10, Leaderboard: 5, CheckIn: 5, Purchase: 10, Refund: 1},
		OfferAt: 20 * time.Second, Drain: 2 * time.Minute, P99: 250 * time.Millisecond, MaxErrorRate: 0,
	}
}

// client sends GraphQL over HTTP as one simulated member or the brand.
type client struct {
	url  string
	http *http.Client
}

// gqlError is one error of a GraphQL answer.
type gqlError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

type gqlAnswer struct {
	Data   map[string]json.RawMessage `json:"data"`
	Errors []gqlError                 `json:"errors"`
}

func (e gqlError) code() string {
	if c, ok := e.Extensions["code"].(string); ok {
		return c
	}
	return "UNKNOWN"
}

// request is the body and headers of one GraphQL call.
func request(query string, vars map[string]any, auth, addr string) ([]byte, http.Header) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		panic(err) // only maps of plain values are marshalled
	}
	h := http.Header{"Content-Type": {"application/json"}}
	if auth != "" {
		h.Set("Authorization", auth)
	}
	if addr != "" {
		h.Set("X-Forwarded-For", addr)
	}
	return body, h
}

// do runs one call outside the measured mix (setup and the offer).
func (c *client) do(ctx context.Context, query string, vars map[string]any, auth, addr string, out any) error {
	body, h := request(query, vars, auth, addr)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url+"/graphql", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header = h
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }() // the answer is read whole; a failed close loses nothing
	var a gqlAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		return fmt.Errorf("HTTP %d: %w", resp.StatusCode, err)
	}
	if len(a.Errors) > 0 {
		return &apiError{Code: a.Errors[0].code(), Message: a.Errors[0].Message}
	}
	if out == nil {
		return nil
	}
	for _, v := range a.Data {
		return json.Unmarshal(v, out)
	}
	return errors.New("an answer without data")
}

// member is one simulated app user.
type member struct {
	id, email, addr string
	mu              sync.Mutex
	access, refresh string
}

func (m *member) bearer() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return "Bearer " + m.access
}

func (m *member) setTokens(access, refresh string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.access, m.refresh = access, refresh
}

// addrOf is the i-th simulated member's address, in 10.0.0.0/8.
func addrOf(i int) string { return fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255) }

// password is every simulated member's password.
const password = "load-test-password-1"

type tokens struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	Member       struct {
		ID string `json:"id"`
	} `json:"member"`
}

const authFields = `accessToken refreshToken member { id }`

// signUp creates the run's members, a few at a time. The first sign-up
// that fails stops the others (the run cannot go on without its members,
// and an unreachable server would fail each in the same words): its error
// is returned, with how many were signed up before it. Progress is logged
// as members are signed up.
func signUp(ctx context.Context, c *client, run string, n int, logf func(string, ...any)) ([]*member, error) {
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	members := make([]*member, n)
	var (
		wg     sync.WaitGroup
		signed atomic.Int64
	)
	sem := make(chan struct{}, 8)
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			m := &member{email: fmt.Sprintf("load-%s-%d@example.com", run, i), addr: addrOf(i)}
			var t tokens
			if err := c.do(ctx, `mutation($in: SignUpInput!) { signUp(input: $in) { `+authFields+` } }`, map[string]any{"in": map[string]any{
				"email": m.email, "password": password, "displayName": fmt.Sprintf("Load %d", i), "timezone": "UTC",
			}}, "", m.addr, &t); err != nil {
				stop(fmt.Errorf("member %d of %d: %w", i+1, n, err)) // the first failure is the cause
				return
			}
			m.id = t.Member.ID
			m.setTokens(t.AccessToken, t.RefreshToken)
			members[i] = m
			if k := signed.Add(1); k%100 == 0 || int(k) == n {
				logf("signed up %d of %d members", k, n)
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, fmt.Errorf("%w (%d of %d signed up before it)", err, signed.Load(), n)
	}
	return members, nil
}

// apiError is a GraphQL error the server answered, with its extensions.code.
type apiError struct{ Code, Message string }

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

// renewing is how many renewals refreshAll has in flight: a thousand
// members renewed one after another take longer than a token lives when
// each call waits a second on a busy database.
const renewing = 8

// refreshAll renews the tokens of members before their access tokens
// expire, for runs longer than ACCESS_TOKEN_TTL, a few at a time. A member
// whose session has ended (UNAUTHENTICATED: its refresh token was spent
// by a renewal whose answer was lost, so the server revoked the session)
// signs in again, as an app asks its user to. A member whose renewal
// fails otherwise does not stop the others': it is returned with the
// errors, for the caller to try again soon.
func refreshAll(ctx context.Context, c *client, members []*member) ([]*member, error) {
	var (
		mu     sync.Mutex
		failed []*member
		errs   []error
		wg     sync.WaitGroup
	)
	sem := make(chan struct{}, renewing)
	for _, m := range members {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := renew(ctx, c, m); err != nil {
				mu.Lock()
				defer mu.Unlock()
				failed = append(failed, m)
				if len(errs) < 3 {
					errs = append(errs, fmt.Errorf("refreshing %s: %w", m.email, err))
				}
			}
		})
	}
	wg.Wait()
	if len(failed) > 0 {
		errs = append(errs, fmt.Errorf("%d of %d members' tokens not renewed", len(failed), len(members)))
	}
	return failed, errors.Join(errs...)
}

// renew renews m's tokens, signing in again if its session has ended.
func renew(ctx context.Context, c *client, m *member) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	rt := m.refresh
	m.mu.Unlock()
	var t tokens
	err := c.do(ctx, `mutation($t: String!) { refreshToken(refreshToken: $t) { `+authFields+` } }`, map[string]any{"t": rt}, "", m.addr, &t)
	var ae *apiError
	if errors.As(err, &ae) && ae.Code == "UNAUTHENTICATED" {
		err = c.do(ctx, `mutation($in: LogInInput!) { logIn(input: $in) { `+authFields+` } }`,
			map[string]any{"in": map[string]any{"email": m.email, "password": password}}, "", m.addr, &t)
	}
	if err != nil {
		return err
	}
	m.setTokens(t.AccessToken, t.RefreshToken)
	return nil
}

// purchase is the variables of a purchase of amount minor units.
func purchase(memberID, externalID string, minor int) map[string]any {
	return map[string]any{"in": map[string]any{
		"memberId": memberID, "kind": "PURCHASE", "externalId": externalID,
		"amountMinor": minor, "currency": "USD", "occurredAt": time.Now().UTC().Format(time.RFC3339),
	}}
}

const recordActivity = `mutation($in: RecordActivityInput!) { recordActivity(input: $in) { entries { amount } } }`

func (c Config) logf(format string, args ...any) {
	if c.Log != nil {
		_, _ = fmt.Fprintf(c.Log, format+"\n", args...) // progress lines only
	}
}

// Validate reports what is wrong with c, naming each setting by its
// command-line flag.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !strings.HasPrefix(c.URL, "http://") && !strings.HasPrefix(c.URL, "https://") {
		bad("url: %q is not an http(s) URL", c.URL)
	}
	if c.ServiceKey == "" && (c.Rates.Purchase > 0 || c.Rates.Refund > 0 || c.SeedPurchases > 0 || c.OfferAt > 0) {
		bad("service-key: needed for purchases, refunds and the offer")
	}
	if c.Members < 1 {
		bad("members: %d, at least 1", c.Members)
	}
	switch {
	case c.Sockets < 0:
		bad("sockets: %d, must not be negative", c.Sockets)
	case c.Members >= 1 && c.Sockets > c.Members: // with no members, that is the problem
		bad("sockets: %d, 0 to members (%d)", c.Sockets, c.Members)
	}
	if c.SeedPurchases < 0 {
		bad("seed-purchases: %d, must not be negative", c.SeedPurchases)
	}
	if c.Duration <= 0 {
		bad("duration: %s, must be positive", c.Duration)
	}
	switch {
	case c.OfferAt < 0:
		bad("offer-at: %s, must not be negative (0: no offer)", c.OfferAt)
	case c.OfferAt > 0 && c.Duration > 0 && c.OfferAt >= c.Duration:
		bad("offer-at: %s must fall inside the run (-duration %s)", c.OfferAt, c.Duration)
	}
	if c.Drain < 0 {
		bad("drain: %s, must not be negative", c.Drain)
	}
	if c.P99 < 0 {
		bad("p99: %s, must not be negative (0: no limit)", c.P99)
	}
	if !(c.MaxErrorRate >= 0 && c.MaxErrorRate <= 1) { // NaN too
		bad("max-error-rate: %v, a share from 0 to 1", c.MaxErrorRate)
	}
	for _, r := range []struct {
		flag string
		rate float64
	}{
		{"login-rps", c.Rates.LogIn}, {"me-rps", c.Rates.Me}, {"notifications-rps", c.Rates.Notifications},
		{"leaderboard-rps", c.Rates.Leaderboard}, {"checkin-rps", c.Rates.CheckIn},
		{"purchase-rps", c.Rates.Purchase}, {"refund-rps", c.Rates.Refund},
	} {
		// A rate under 0.001 would be paced as 0, which vegeta sends as
		// fast as it can.
		if !(r.rate == 0 || r.rate >= minRate && r.rate <= maxRate) { // NaN and infinities too
			bad("%s: %v, requests per second: 0 (off), or %v to %d", r.flag, r.rate, minRate, maxRate)
		}
	}
	return errors.Join(errs...)
}

// minRate is the lowest rate an operation may be given (vegeta paces
// rates in thousandths of a request per second).
const minRate = 0.001

// maxRate is the highest rate an operation may be given: far past what
// one generator sends, and within what vegeta's pacing counts.
const maxRate = 100_000
