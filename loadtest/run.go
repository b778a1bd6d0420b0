package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Report is what a run measured.
//
// As JSON (MarshalJSON) every duration is a number of milliseconds, in a
// field named for it with "Ms" added: DurationMs, P99Ms, AtMs, ….
type Report struct {
	Duration time.Duration `json:"-"`
	Members  int
	Ops      []OpReport
	Sockets  SocketReport
	Offer    *OfferReport
	// Server is the server's gauges through the run: at the start of the
	// mix, at intervals, and at its end.
	Server []ServerSample
	// Failures lists every threshold the run broke, in words; empty: the
	// run passed.
	Failures []string
	// Interrupted is set when the run's context ended (Ctrl-C) before the
	// run did: the figures cover what was answered until then, the
	// requests still under way were abandoned, and the thresholds are
	// judged on that part alone. InterruptedAt is how far into the mix it
	// came (more than Duration: during the drain).
	Interrupted   bool          `json:",omitempty"`
	InterruptedAt time.Duration `json:"-"`
}

// ErrInterrupted is Run's error when its context ends during the set-up,
// before there is anything to report.
var ErrInterrupted = errors.New("interrupted")

// OpReport is one operation's figures.
type OpReport struct {
	Name     string
	Requests int
	// OKPerSecond is the successful answers per second: an answer with a
	// GraphQL error (which comes with HTTP 200) is not one.
	OKPerSecond float64
	P50, P95    time.Duration `json:"-"`
	P99, Max    time.Duration `json:"-"`
	// Errors counts failed requests by GraphQL extensions.code, HTTP
	// status (HTTP_503) or transport failure (TRANSPORT).
	Errors map[string]int
}

// Failed is the number of requests that failed for another reason than
// the rate limit.
func (o OpReport) Failed() int {
	n := 0
	for code, c := range o.Errors {
		if code != "RATE_LIMITED" {
			n += c
		}
	}
	return n
}

// op is one operation of the mix: its rate and how to make its request.
type op struct {
	name   string
	rate   float64
	target func(n uint64) (body []byte, h http.Header)
}

// Run sets the brand up (members, their history), then runs the mix for
// cfg.Duration and reports. The error is for a run that could not be
// carried out (the server unreachable, a set-up call refused; ErrInterrupted
// when ctx ended during the set-up); thresholds broken are in
// Report.Failures. When ctx ends during the mix or the drain, Run stops
// sending at once, abandons the requests under way and reports what it
// measured until then, with Report.Interrupted set.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	hc := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	c := &client{url: cfg.URL, http: hc}
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	brand := "ApiKey " + cfg.ServiceKey

	cfg.logf("signing up %d members", cfg.Members)
	members, err := signUp(ctx, c, run, cfg.Members, cfg.logf)
	if err != nil {
		return nil, setupError(ctx, "signing up", err)
	}
	refunds := 0
	if cfg.Rates.Refund > 0 {
		refunds = min(int(math.Ceil(cfg.Rates.Refund*cfg.Duration.Seconds())), 2000)
	}
	if n := cfg.SeedPurchases*len(members) + refunds; n > 0 {
		cfg.logf("recording %d purchases of history", n)
		if err := seed(ctx, c, brand, run, members, cfg.SeedPurchases, refunds); err != nil {
			return nil, setupError(ctx, "recording history", err)
		}
	}

	// The subscriptions and the offer outlive the mix by up to cfg.Drain,
	// so an offer still publishing when the mix ends is measured whole.
	holdCtx, release := context.WithCancel(ctx)
	defer release()
	// runCtx ends with the mix. Its clock starts when the mix does, once
	// the tokens are renewed and the subscriptions open: setting up a
	// thousand members takes minutes, which must not come off -duration
	// (nor leave the offer unpublished).
	runCtx, endMix := context.WithCancel(holdCtx)
	defer endMix()
	var wg sync.WaitGroup

	// Signing up a thousand members takes longer than an access token
	// lives (ACCESS_TOKEN_TTL, 15 minutes by default): the tokens are
	// renewed before the sockets open, then every 5 minutes (those that
	// failed again after 30 s), so that a socket closed when the token it
	// opened with expires reconnects with a live one.
	if failed, err := refreshAll(ctx, c, members); err != nil {
		cfg.logf("refreshing tokens: %v", err)
		if len(failed) == len(members) {
			return nil, setupError(ctx, "refreshing tokens", err)
		}
	}
	wg.Go(func() {
		t := time.NewTicker(5 * time.Minute)
		defer t.Stop()
		var failed []*member
		retry := time.NewTimer(time.Hour)
		retry.Stop()
		renew := func(ms []*member) {
			var err error
			if failed, err = refreshAll(runCtx, c, ms); err != nil && runCtx.Err() == nil {
				cfg.logf("refreshing tokens: %v", err)
			}
			if len(failed) > 0 {
				retry.Reset(30 * time.Second)
			}
		}
		for {
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
				renew(members)
			case <-retry.C:
				renew(failed)
			}
		}
	})

	socks := newSockets(cfg.URL, members[:cfg.Sockets])
	cfg.logf("opening %d subscriptions", cfg.Sockets)
	if err := socks.open(holdCtx); err != nil {
		return nil, setupError(ctx, "opening subscriptions", err)
	}
	if ctx.Err() != nil {
		return nil, setupError(ctx, "opening subscriptions", ctx.Err())
	}

	cfg.logf("running the mix for %s", cfg.Duration)
	started := time.Now()
	mixEnds := time.AfterFunc(cfg.Duration, endMix)
	defer mixEnds.Stop()
	var interruptedAt atomic.Int64
	defer context.AfterFunc(ctx, func() { interruptedAt.Store(int64(time.Since(started))) })()

	var offer *OfferReport
	offerDone := make(chan struct{})
	go func() {
		defer close(offerDone)
		if cfg.OfferAt <= 0 {
			return
		}
		select {
		case <-runCtx.Done():
			if ctx.Err() != nil {
				offer = &OfferReport{Interrupted: true, Error: "interrupted before it was due"}
			}
			return // not due (judge reports it if it was)
		case <-time.After(time.Until(started.Add(cfg.OfferAt))):
		}
		octx, done := context.WithTimeout(holdCtx, cfg.Duration-cfg.OfferAt+cfg.Drain)
		defer done()
		var err error
		if offer, err = publishOffer(octx, c, brand, run, socks); err != nil {
			if ctx.Err() != nil {
				offer = &OfferReport{Interrupted: true, Error: "interrupted while publishing (" + err.Error() + ")"}
				return
			}
			cfg.logf("offer: %v", err)
			offer = &OfferReport{Error: err.Error()}
		}
	}()

	var samples []ServerSample
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		every := max(cfg.Duration/6, 10*time.Second)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			sc, done := context.WithTimeout(holdCtx, 10*time.Second)
			if smp, err := sampleServer(sc, c, started); err == nil {
				samples = append(samples, smp)
			} else {
				cfg.logf("sampling the server: %v", err)
			}
			done()
			select {
			case <-runCtx.Done():
				sc, done := context.WithTimeout(holdCtx, 10*time.Second)
				if smp, err := sampleServer(sc, c, started); err == nil {
					samples = append(samples, smp)
				}
				done()
				return
			case <-t.C:
			}
		}
	}()
	ops := mix(cfg, run, members, refunds)
	reports := make([]OpReport, len(ops))
	for i, o := range ops {
		wg.Go(func() { reports[i] = attack(ctx, cfg, o) })
	}
	wg.Wait()
	<-sampled
	<-offerDone
	release()

	r := &Report{Duration: cfg.Duration, Members: len(members), Sockets: socks.report(), Offer: offer, Server: samples}
	if ctx.Err() != nil {
		at := time.Duration(interruptedAt.Load())
		if at == 0 { // the hook has not run yet
			at = time.Since(started)
		}
		r.Interrupted, r.InterruptedAt = true, at.Round(time.Millisecond)
	}
	for _, o := range reports {
		if o.Name != "" {
			r.Ops = append(r.Ops, o)
		}
	}
	r.judge(cfg)
	return r, nil
}

// setupError is err from the set-up step what, or ErrInterrupted when ctx
// has ended (the set-up's calls then fail with it, which says nothing of
// the server).
func setupError(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w while %s", ErrInterrupted, what)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// seed records each member's history (perMember purchases each) and the
// purchases the run's refunds take back.
func seed(ctx context.Context, c *client, brand, run string, members []*member, perMember, refunds int) error {
	type job struct {
		m  *member
		id string
	}
	jobs := make(chan job)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for j := range jobs {
				if err := c.do(ctx, recordActivity, purchase(j.m.id, j.id, 2500), brand, "", nil); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		})
	}
	send := func(j job) bool {
		select {
		case jobs <- j:
			return true
		case <-ctx.Done():
			return false
		}
	}
produce:
	for i, m := range members {
		for k := range perMember {
			if !send(job{m, fmt.Sprintf("seed-%s-%d-%d", run, i, k)}) {
				break produce
			}
		}
	}
	for k := range refunds {
		if ctx.Err() != nil || !send(job{members[k%len(members)], refundable(run, k)}) {
			break
		}
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return ctx.Err()
	}
}

func refundable(run string, k int) string { return fmt.Sprintf("refundable-%s-%d", run, k) }

// brandAddr spreads the brand backend's calls over a few addresses, as a
// few till servers would.
func brandAddr(n uint64) string { return fmt.Sprintf("192.0.2.%d", n%16+1) }

// mix is the run's operations.
func mix(cfg Config, run string, members []*member, refunds int) []op {
	brand := "ApiKey " + cfg.ServiceKey
	pick := func(n uint64) *member { return members[n%uint64(len(members))] }
	asMember := func(query string) func(uint64) ([]byte, http.Header) {
		return func(n uint64) ([]byte, http.Header) {
			m := pick(n)
			return request(query, nil, m.bearer(), m.addr)
		}
	}
	return []op{
		{"logIn", cfg.Rates.LogIn, func(n uint64) ([]byte, http.Header) {
			m := pick(n)
			return request(`mutation($in: LogInInput!) { logIn(input: $in) { accessToken } }`,
				map[string]any{"in": map[string]any{"email": m.email, "password": password}}, "", m.addr)
		}},
		{"me", cfg.Rates.Me, asMember(`{ me { displayName points { balance available } tier { current { name } } } }`)},
		{"notifications", cfg.Rates.Notifications, asMember(`{ notifications(first: 20) { edges { node { id title read } } } }`)},
		{"leaderboard", cfg.Rates.Leaderboard, asMember(`{ leaderboard(period: WEEKLY, first: 10) { edges { node { rank score member { displayName } } } } }`)},
		{"checkIn", cfg.Rates.CheckIn, asMember(`mutation { checkIn { entries { amount } } }`)},
		{"purchase", cfg.Rates.Purchase, func(n uint64) ([]byte, http.Header) {
			return request(recordActivity, purchase(pick(n).id, fmt.Sprintf("order-%s-%d", run, n), 1000+int(n%9000)), brand, brandAddr(n))
		}},
		{"refund", cfg.Rates.Refund, func(n uint64) ([]byte, http.Header) {
			k := int(n) % max(refunds, 1)
			in := purchase(members[k%len(members)].id, "refund-"+refundable(run, k), 2500)["in"].(map[string]any)
			in["kind"], in["refundOf"] = "REFUND", refundable(run, k)
			return request(recordActivity, map[string]any{"in": in}, brand, brandAddr(n))
		}},
	}
}

// attack sends o at its rate for cfg.Duration. When ctx ends first (the
// run interrupted), it stops sending at once, abandons the requests under
// way (their answers are not counted) and reports what was answered
// until then.
func attack(ctx context.Context, cfg Config, o op) OpReport {
	if o.rate <= 0 {
		return OpReport{}
	}
	var n atomic.Uint64
	url := cfg.URL + "/graphql"
	targeter := func(t *vegeta.Target) error {
		body, h := o.target(n.Add(1) - 1)
		t.Method, t.URL, t.Body, t.Header = http.MethodPost, url, body, h
		return nil
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &abortable{ctx: ctx, rt: &http.Transport{
		Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second,
	}}}
	a := vegeta.NewAttacker(vegeta.Client(hc))
	rate := vegeta.Rate{Freq: int(math.Round(o.rate * 1000)), Per: time.Second * 1000}
	if o.rate >= 1 && o.rate == math.Trunc(o.rate) {
		rate = vegeta.Rate{Freq: int(o.rate), Per: time.Second}
	}
	var m vegeta.Metrics
	errs := map[string]int{}
	succeeded := 0
	began := time.Now()
	results := a.Attack(targeter, rate, cfg.Duration, o.name)
	stop := func() {
		a.Stop()
		go func() {
			for range results { // the abandoned requests, failing at once
			}
		}()
	}
collect:
	for {
		select {
		case <-ctx.Done():
			stop()
			break collect
		case res, ok := <-results:
			if !ok {
				break collect
			}
			if ctx.Err() != nil {
				stop() // res may be a request abandoned: not counted
				break collect
			}
			m.Add(res)
			if code := failure(res); code != "" {
				errs[code]++
			} else {
				succeeded++
			}
		}
	}
	m.Close()
	// Over the time the operation ran, to its last answer (or the
	// interrupt): vegeta's Throughput counts every 2xx, GraphQL errors
	// included, and over the span of the answers alone, which makes one
	// request in a minute read as about 1/s.
	okPerSecond := 0.0
	if span := time.Since(began).Seconds(); span > 0 {
		okPerSecond = float64(succeeded) / span
	}
	return OpReport{
		Name: o.name, Requests: int(m.Requests), OKPerSecond: okPerSecond,
		P50: m.Latencies.P50, P95: m.Latencies.P95, P99: m.Latencies.P99, Max: m.Latencies.Max, Errors: errs,
	}
}

// abortable sends each request with a context that also ends with ctx,
// so that the requests under way are abandoned when the run is
// interrupted instead of holding it up to their timeout (vegeta's
// requests carry no context of their own).
type abortable struct {
	ctx context.Context
	rt  http.RoundTripper
}

func (t *abortable) RoundTrip(req *http.Request) (*http.Response, error) {
	rctx, cancel := context.WithCancel(req.Context())
	unhook := context.AfterFunc(t.ctx, cancel)
	resp, err := t.rt.RoundTrip(req.WithContext(rctx))
	if err != nil {
		unhook()
		cancel()
		return nil, err
	}
	resp.Body = &releasingBody{ReadCloser: resp.Body, release: func() { unhook(); cancel() }}
	return resp, nil
}

// releasingBody releases its request's context once closed.
type releasingBody struct {
	io.ReadCloser
	release func()
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}

// failure names why a request failed, or is empty for a success.
func failure(res *vegeta.Result) string {
	if res.Error != "" && res.Code == 0 {
		return "TRANSPORT"
	}
	var a gqlAnswer
	if err := json.Unmarshal(res.Body, &a); err == nil && len(a.Errors) > 0 {
		return a.Errors[0].code()
	}
	if res.Code < 200 || res.Code > 299 {
		return "HTTP_" + strconv.Itoa(int(res.Code))
	}
	return ""
}

// judge fills r.Failures from the thresholds.
func (r *Report) judge(cfg Config) {
	for _, o := range r.Ops {
		if cfg.P99 > 0 && o.P99 > cfg.P99 {
			r.Failures = append(r.Failures, fmt.Sprintf("%s: p99 %s over %s", o.Name, o.P99.Round(time.Millisecond), cfg.P99))
		}
		if o.Requests > 0 && float64(o.Failed())/float64(o.Requests) > cfg.MaxErrorRate {
			r.Failures = append(r.Failures, fmt.Sprintf("%s: %d of %d requests failed (%s)", o.Name, o.Failed(), o.Requests, codes(o.Errors)))
		}
	}
	if r.Sockets.Opened > 0 && r.Sockets.Dropped > 0 {
		r.Failures = append(r.Failures, fmt.Sprintf("sockets: %d of %d dropped and not reopened", r.Sockets.Dropped, r.Sockets.Opened))
	}
	if r.Offer == nil && cfg.OfferAt > 0 && cfg.OfferAt < cfg.Duration && !r.Interrupted {
		r.Failures = append(r.Failures, "offer: not published")
	}
	if r.Offer != nil && !r.Offer.Interrupted {
		switch {
		case r.Offer.Error != "":
			r.Failures = append(r.Failures, "offer: "+r.Offer.Error)
		case r.Offer.Received != r.Sockets.Opened || r.Offer.Duplicates > 0:
			r.Failures = append(r.Failures, fmt.Sprintf("offer: %d of %d subscribers received it, %d twice", r.Offer.Received, r.Sockets.Opened, r.Offer.Duplicates))
		}
	}
	sort.Strings(r.Failures)
}
