package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeServer answers the GraphQL calls a run makes, as a server with
// nothing wrong would, and counts them by their first field. Its hooks,
// when set, run before an answer (to make a call slow) or replace it.
type fakeServer struct {
	*httptest.Server
	mu    sync.Mutex
	calls map[string]int
	// slow delays the answers to the calls it names.
	slow map[string]time.Duration
	// answer, when it returns non-empty, is the answer to a call.
	answer func(field string) string
}

func newFakeServer(t *testing.T) *fakeServer {
	f := &fakeServer{calls: map[string]int{}, slow: map[string]time.Duration{}}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/graphql" {
			http.NotFound(w, r)
			return
		}
		var req struct {
			Query string `json:"query"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		field := firstField(req.Query)
		f.mu.Lock()
		f.calls[field]++
		delay, answer := f.slow[field], f.answer
		f.mu.Unlock()
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		out := ""
		if answer != nil {
			out = answer(field)
		}
		if out == "" {
			out = okAnswer(field)
		}
		_, _ = fmt.Fprint(w, out) // a client gone is the client's business
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeServer) count(field string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[field]
}

// firstField is the first field a GraphQL document selects.
func firstField(q string) string {
	q = q[strings.Index(q, "{")+1:]
	q = strings.TrimSpace(q)
	end := strings.IndexAny(q, " ({")
	if end < 0 {
		return q
	}
	return q[:end]
}

func okAnswer(field string) string {
	tokens := `{"accessToken":"a","refreshToken":"r","member":{"id":"m"}}`
	data := map[string]string{
		"signUp": tokens, "refreshToken": tokens, "logIn": tokens,
		"createOffer":  `{"id":"o1"}`,
		"publishOffer": `{"id":"o1"}`,
		"offer":        `{"progress":{"processed":2,"total":2}}`,
		"me":           `{"displayName":"x"}`,
	}[field]
	if data == "" {
		data = "{}"
	}
	return fmt.Sprintf(`{"data":{%q:%s}}`, field, data)
}

// quietConfig is a small run against url with nothing but what a test
// switches on.
func quietConfig(url string) Config {
	return Config{URL: url, ServiceKey: "k", Duration: time.Second, Members: 2, Drain: 10 * time.Second}
}

// Setting up (renewing tokens, opening subscriptions) can take minutes;
// none of it may come off -duration. When it did, a slow set-up left the
// mix a fraction of its time and the offer was never published, yet the
// run passed.
func TestTheMixRunsItsWholeDurationAfterASlowSetUp(t *testing.T) {
	f := newFakeServer(t)
	f.slow["refreshToken"] = 1500 * time.Millisecond // longer than the run
	cfg := quietConfig(f.URL)
	cfg.OfferAt = 500 * time.Millisecond
	cfg.Rates.Me = 20
	r, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if f.count("createOffer") != 1 || r.Offer == nil || r.Offer.Error != "" {
		t.Errorf("offer due at 0.5 s of a 1 s mix: %d createOffer, report %+v", f.count("createOffer"), r.Offer)
	}
	// The mix sends 20 a second for 1 s, open-loop: all of them, or
	// nearly on a busy machine; not the 1 or 2 of a mix cut short.
	if len(r.Ops) != 1 || r.Ops[0].Requests < 10 {
		t.Errorf("me at 20/s for 1 s: %+v", r.Ops)
	}
	if len(r.Failures) > 0 {
		t.Errorf("failures: %v", r.Failures)
	}
}

// An offer due within the run but never published fails the run.
func TestAnOfferDueButNotPublishedFails(t *testing.T) {
	cfg := quietConfig("http://x")
	cfg.OfferAt = 500 * time.Millisecond
	r := &Report{}
	r.judge(cfg)
	if !slices.Contains(r.Failures, "offer: not published") {
		t.Errorf("failures %q: want offer: not published", r.Failures)
	}
	cfg.OfferAt = 0
	r = &Report{}
	if r.judge(cfg); len(r.Failures) > 0 {
		t.Errorf("no offer asked for: failures %q", r.Failures)
	}
}
