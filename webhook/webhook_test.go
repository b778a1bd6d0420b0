package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

func newService(t *testing.T, d Deps) *Service {
	t.Helper()
	s := New(testkit.Database(t), d)
	testkit.EnsureIndexes(t, s.EnsureIndexes)
	return s
}

// run runs the delivery loop until the test ends.
func run(t *testing.T, s *Service) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx, Loop{Tick: 20 * time.Millisecond}) }()
	t.Cleanup(func() { cancel(); <-done })
}

// receiver is a local endpoint: answer decides each request's answer.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []Payload
	heads  []http.Header
	bodies [][]byte
}

func newReceiver(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, body []byte)) *receiver {
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
		}
		var p Payload
		if err := json.Unmarshal(body, &p); err != nil {
			t.Errorf("a delivery that is not a payload: %v: %s", err, body)
		}
		rc.mu.Lock()
		rc.got, rc.heads, rc.bodies = append(rc.got, p), append(rc.heads, r.Header.Clone()), append(rc.bodies, body)
		rc.mu.Unlock()
		answer(w, r, body)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.got)
}

// say writes an endpoint's answer; a failed write fails the test.
func say(t *testing.T, w io.Writer, answer string) {
	if _, err := io.WriteString(w, answer); err != nil {
		t.Error(err)
	}
}

// ok is an endpoint that thanks for every delivery.
func ok(t *testing.T) func(w http.ResponseWriter, _ *http.Request, _ []byte) {
	return func(w http.ResponseWriter, _ *http.Request, _ []byte) { say(t, w, "thanks") }
}

func endpoint(t *testing.T, s *Service, url string, secret string, types ...string) *Endpoint {
	t.Helper()
	return testkit.Must(s.Create(context.Background(), EndpointInput{URL: &url, Events: types, Secret: &secret}))(t)
}

func deliveries(t *testing.T, s *Service, ep *Endpoint) []*Delivery {
	t.Helper()
	ds, _ := testkit.Must2(s.Deliveries(context.Background(), ep.ID, "", bson.ObjectID{}, 100))(t)
	return ds
}

// first is the endpoint's newest delivery (a zero one while there is none).
func first(t *testing.T, s *Service, ep *Endpoint) *Delivery {
	t.Helper()
	if ds := deliveries(t, s, ep); len(ds) > 0 {
		return ds[0]
	}
	return &Delivery{}
}

// A delivery is signed over "timestamp.body" with the endpoint's secret;
// the receiver's check (Verify) accepts it and refuses a tampered body or
// another secret. The payload carries the event's id, type, time and data
// with the API's ids.
func TestDeliveryIsSignedAndVerifies(t *testing.T) {
	const secret = "whsec_test_0123456789abcdef"
	verified := make(chan error, 1)
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		verified <- Verify(secret, r.Header.Get(SignatureHeader), body, time.Now(), 5*time.Minute)
		ok(t)(w, r, body)
	})
	s := newService(t, Deps{APIID: func(typ, id string) string { return "api-" + typ + "-" + id }})
	ep := endpoint(t, s, rc.URL, secret, string(TierChanged))
	ev := Event{Type: TierChanged, Cause: "entry-1", Data: map[string]any{"member": Ref{"Member", "abc"}, "from": "Member", "to": "Silver"}}
	if err := s.Emit(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	run(t, s)
	if err := <-verified; err != nil {
		t.Fatalf("the receiver's check refused the delivery: %v", err)
	}
	testkit.Eventually(t, 10*time.Second, func() bool { return first(t, s, ep).State == StateDelivered }, "delivery not marked DELIVERED")
	d := first(t, s, ep)
	if d.LastStatus != 200 || d.LastResponse != "thanks" || d.DeliveredAt == nil || d.Attempts != 1 {
		t.Errorf("delivery recorded as %+v", d)
	}
	rc.mu.Lock()
	p, h, body := rc.got[0], rc.heads[0], rc.bodies[0]
	rc.mu.Unlock()
	if p.ID != ev.ID() || p.Type != TierChanged || p.Created.IsZero() || p.Data["member"] != "api-Member-abc" || p.Data["to"] != "Silver" {
		t.Errorf("payload %+v", p)
	}
	if h.Get("Regulars-Event-Id") != ev.ID() || h.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", h)
	}
	sig := h.Get(SignatureHeader)
	if Verify("another-secret-of-16", sig, body, time.Now(), 5*time.Minute) == nil {
		t.Error("another secret verifies")
	}
	if Verify(secret, sig, append([]byte(" "), body...), time.Now(), 5*time.Minute) == nil {
		t.Error("a tampered body verifies")
	}
	if Verify(secret, sig, body, time.Now().Add(time.Hour), 5*time.Minute) == nil {
		t.Error("an hour-old signature verifies")
	}
}

// An endpoint that answers 500 is tried again later, with the answer
// kept; one that starts answering 200 gets it once.
func TestFailedAttemptIsRetriedUntilDelivered(t *testing.T) {
	var fail atomic.Bool
	fail.Store(true)
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		if fail.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			say(t, w, "database down")
			return
		}
		say(t, w, "ok")
	})
	clock := testkit.NewClock(time.Now())
	s := newService(t, Deps{Now: clock.Now})
	ep := endpoint(t, s, rc.URL, "secret-secret-secret", string(MemberCreated))
	if err := s.Emit(context.Background(), Event{Type: MemberCreated, Cause: "m1"}); err != nil {
		t.Fatal(err)
	}
	run(t, s)
	testkit.Eventually(t, 10*time.Second, func() bool { d := first(t, s, ep); return d.LastStatus == 500 && d.Attempts == 1 },
		"the first attempt was not recorded")
	d := first(t, s, ep)
	if d.State != StatePending || d.LastResponse != "database down" || d.LastError != "HTTP 500" || !d.NextAttemptAt.After(clock.Now()) {
		t.Fatalf("after a 500: %+v", d)
	}
	fail.Store(false)
	clock.Add(2 * time.Hour) // past any backoff
	s.Kick()
	testkit.Eventually(t, 10*time.Second, func() bool { return first(t, s, ep).State == StateDelivered }, "not delivered after the retry")
	if d := first(t, s, ep); d.Attempts != 2 || d.LastStatus != 200 || d.LastError != "" {
		t.Errorf("after the retry: %+v", d)
	}
	if rc.count() != 2 {
		t.Errorf("the endpoint was called %d times, want 2", rc.count())
	}
}

// After 24 hours of failures a delivery is FAILED with the last answer, and
// not tried again; redeliver sends it again.
func TestDeliveryFailsAfterADayAndCanBeRedelivered(t *testing.T) {
	var fail atomic.Bool
	fail.Store(true)
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		if fail.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			say(t, w, strings.Repeat("x", 5000))
			return
		}
		say(t, w, "ok")
	})
	clock := testkit.NewClock(time.Now())
	s := newService(t, Deps{Now: clock.Now})
	ep := endpoint(t, s, rc.URL, "secret-secret-secret", string(ActivityRecorded))
	if err := s.Emit(context.Background(), Event{Type: ActivityRecorded, Cause: "a1"}); err != nil {
		t.Fatal(err)
	}
	run(t, s)
	testkit.Eventually(t, 10*time.Second, func() bool { return first(t, s, ep).Attempts == 1 && first(t, s, ep).LastStatus == 503 }, "first attempt")
	clock.Add(RetryFor + time.Minute)
	s.Kick()
	testkit.Eventually(t, 10*time.Second, func() bool { return first(t, s, ep).State == StateFailed }, "not FAILED after a day")
	d := first(t, s, ep)
	if d.Attempts != 2 || d.LastStatus != 503 || len(d.LastResponse) != MaxExcerpt {
		t.Errorf("failed delivery: attempts %d, status %d, excerpt %d bytes", d.Attempts, d.LastStatus, len(d.LastResponse))
	}
	if failed, _ := testkit.Must2(s.Deliveries(context.Background(), ep.ID, StateFailed, bson.ObjectID{}, 10))(t); len(failed) != 1 {
		n := len(failed)
		t.Errorf("%d FAILED deliveries listed, want 1", n)
	}
	fail.Store(false)
	if _, err := s.Redeliver(context.Background(), d.ID); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, func() bool { return first(t, s, ep).State == StateDelivered }, "redelivery not delivered")
	if _, err := s.Redeliver(context.Background(), bson.NewObjectID()); !errors.Is(err, ErrDeliveryNotFound) {
		t.Errorf("redeliver of nothing: %v", err)
	}
}

// An endpoint that does not answer within the timeout is an attempt
// failed with the reason, tried again later.
func TestTimeoutIsAFailedAttempt(t *testing.T) {
	release := make(chan struct{})
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) })
	s := newService(t, Deps{Timeout: 100 * time.Millisecond})
	ep := endpoint(t, s, rc.URL, "secret-secret-secret", string(BadgeUnlocked))
	if err := s.Emit(context.Background(), Event{Type: BadgeUnlocked, Cause: "b1"}); err != nil {
		t.Fatal(err)
	}
	run(t, s)
	testkit.Eventually(t, 10*time.Second, func() bool { return first(t, s, ep).LastError != "" }, "timeout not recorded")
	d := first(t, s, ep)
	if d.State != StatePending || d.LastStatus != 0 || !strings.Contains(strings.ToLower(d.LastError), "timeout") && !strings.Contains(d.LastError, "deadline exceeded") {
		t.Errorf("after a timeout: %+v", d)
	}
}

// Emitting an event again (a replayed cause) and fanning out again never
// makes a second delivery; each endpoint subscribed gets it once, others none.
func TestEmitIsKeyedByCause(t *testing.T) {
	rc := newReceiver(t, ok(t))
	s := newService(t, Deps{})
	a := endpoint(t, s, rc.URL+"/a", "secret-secret-secret", string(RSVPChanged), string(MemberCreated))
	b := endpoint(t, s, rc.URL+"/b", "secret-secret-secret", string(RSVPChanged))
	c := endpoint(t, s, rc.URL+"/c", "secret-secret-secret", string(MemberCreated))
	ctx := context.Background()
	ev := Event{Type: RSVPChanged, Cause: "rsvp:1", Data: map[string]any{"status": "CONFIRMED"}}
	for range 3 {
		if err := s.Emit(ctx, ev); err != nil {
			t.Fatal(err)
		}
		if _, err := s.FanOut(ctx, 10); err != nil {
			t.Fatal(err)
		}
	}
	// A fan-out cut short before clearing the mark repeats its inserts.
	if _, err := s.events.UpdateOne(ctx, bson.D{{Key: "_id", Value: ev.ID()}}, bson.D{{Key: "$set", Value: bson.D{{Key: "pending", Value: true}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FanOut(ctx, 10); err != nil {
		t.Fatal(err)
	}
	if n := testkit.Count(t, s.events, nil); n != 1 {
		t.Errorf("%d events stored, want 1", n)
	}
	for ep, want := range map[*Endpoint]int{a: 1, b: 1, c: 0} {
		if got := len(deliveries(t, s, ep)); got != want {
			t.Errorf("%s: %d deliveries, want %d", ep.URL, got, want)
		}
	}
	run(t, s)
	testkit.Eventually(t, 10*time.Second, func() bool { return rc.count() == 2 }, "two deliveries")
	if s.Emit(ctx, Event{Type: "order.shipped", Cause: "x"}) == nil {
		t.Error("an unknown type was emitted")
	}
}

// An endpoint that takes long (here: until the test ends) holds only its
// own slots: every delivery to another endpoint is made meanwhile.
func TestSlowEndpointDoesNotDelayOthers(t *testing.T) {
	release := make(chan struct{})
	var slowStarted atomic.Int32
	slow := newReceiver(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		slowStarted.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) })
	fast := newReceiver(t, ok(t))
	s := newService(t, Deps{PerEndpoint: 2, Timeout: time.Minute})
	endpoint(t, s, slow.URL, "secret-secret-secret", string(ActivityRecorded))
	endpoint(t, s, fast.URL, "secret-secret-secret", string(ActivityRecorded))
	const n = 20
	for i := range n {
		if err := s.Emit(context.Background(), Event{Type: ActivityRecorded, Cause: string(rune('a' + i))}); err != nil {
			t.Fatal(err)
		}
	}
	run(t, s)
	testkit.Eventually(t, 20*time.Second, func() bool { return fast.count() == n }, "the fast endpoint got %d of %d while the slow one hung", fast.count(), n)
	if got := slowStarted.Load(); got > 2 {
		t.Errorf("%d requests in flight to the slow endpoint, want at most its 2 slots", got)
	}
}

// Bad endpoint input is refused naming the field, and nothing is written.
func TestEndpointInputIsChecked(t *testing.T) {
	ctx := context.Background()
	s := newService(t, Deps{Guard: Guard{Production: true}})
	long := "https://example.com/" + strings.Repeat("a", MaxURL)
	for _, c := range []struct {
		url, secret string
		events      []string
		field       string
	}{
		{"http://example.com/hook", "secret-secret-secret", []string{"member.created"}, "url"},
		{"https://127.0.0.1/hook", "secret-secret-secret", []string{"member.created"}, "url"},
		{"https://10.1.2.3/hook", "secret-secret-secret", []string{"member.created"}, "url"},
		{"https://169.254.169.254/latest/meta-data", "secret-secret-secret", []string{"member.created"}, "url"},
		{"https://[::1]/hook", "secret-secret-secret", []string{"member.created"}, "url"},
		{"https://[64:ff9b::7f00:1]/hook", "secret-secret-secret", []string{"member.created"}, "url"},
		{"https://[64:ff9b::a9fe:a9fe]/hook", "secret-secret-secret", []string{"member.created"}, "url"},
		{"https://[2002:7f00:1::]/hook", "secret-secret-secret", []string{"member.created"}, "url"},
		{"https://0.1.2.3/hook", "secret-secret-secret", []string{"member.created"}, "url"},
		{"https://198.18.0.1/hook", "secret-secret-secret", []string{"member.created"}, "url"},
		{"https://240.0.0.1/hook", "secret-secret-secret", []string{"member.created"}, "url"},
		{"https://255.255.255.255/hook", "secret-secret-secret", []string{"member.created"}, "url"},
		{"https://[::ffff:127.0.0.1]/hook", "secret-secret-secret", []string{"member.created"}, "url"},
		{"https://localhost/hook", "secret-secret-secret", []string{"member.created"}, "url"},
		{"https://user:pw@example.com/hook", "secret-secret-secret", []string{"member.created"}, "url"},
		{long, "secret-secret-secret", []string{"member.created"}, "url"},
		{"not a url", "secret-secret-secret", []string{"member.created"}, "url"},
		{"https://93.184.215.14:99999/hook", "secret-secret-secret", []string{"member.created"}, "url"},
		{"https://93.184.215.14:0/hook", "secret-secret-secret", []string{"member.created"}, "url"},
		{"https://93.184.215.14/hook", "secret-secret-secret", []string{"member.created", "order.shipped"}, "events[1]"},
		{"https://93.184.215.14/hook", "secret-secret-secret", []string{}, "events"},
		{"https://93.184.215.14/hook", "short", []string{"member.created"}, "secret"},
		{"https://93.184.215.14/hook", strings.Repeat("s", MaxSecret+1), []string{"member.created"}, "secret"},
		{"https://93.184.215.14/hook", "secret with spaces in it", []string{"member.created"}, "secret"},
	} {
		_, err := s.Create(ctx, EndpointInput{URL: &c.url, Events: c.events, Secret: &c.secret})
		if e, bad := input.As(err); !bad || e.Field != c.field {
			t.Errorf("%.60s %v %q: want a refusal of %s, got %v", c.url, c.events, c.secret, c.field, err)
		}
	}
	if n := testkit.Count(t, s.endpoints, nil); n != 0 {
		t.Errorf("%d endpoints written", n)
	}
	// A public address passes; without a secret one is made.
	url := "https://93.184.215.14/hook"
	ep := testkit.Must(s.Create(ctx, EndpointInput{URL: &url, Events: []string{"member.created", "member.created"}}))(t)
	if !strings.HasPrefix(ep.Secret, "whsec_") || len(ep.Events) != 1 || strings.Contains(ep.SecretHint(), ep.Secret[6:len(ep.Secret)-4]) {
		t.Errorf("created %+v (hint %s)", ep, ep.SecretHint())
	}
	// A short secret of the brand's own shows no more than its last 4 characters.
	own := "1234567890123456"
	if hint := (&Endpoint{Secret: own}).SecretHint(); hint != "…3456" {
		t.Errorf("hint of %s: %s, want …3456", own, hint)
	}
	// In development http and local addresses are fine.
	dev := newService(t, Deps{})
	local := "http://127.0.0.1:9/hook"
	if _, err := dev.Create(ctx, EndpointInput{URL: &local, Events: []string{"member.created"}}); err != nil {
		t.Errorf("development refused a local receiver: %v", err)
	}
}

// In production the dial itself refuses private addresses, whatever the
// stored URL says (a name that resolved elsewhere when registered).
func TestProductionDialRefusesPrivateAddresses(t *testing.T) {
	rc := newReceiver(t, ok(t))
	s := newService(t, Deps{Guard: Guard{Production: true}})
	// Stored as if it had passed the check (a rebinding name would).
	ep := &Endpoint{ID: bson.NewObjectID(), URL: rc.URL, Events: []Type{MemberCreated}, Secret: "secret-secret-secret"}
	if _, err := s.endpoints.InsertOne(context.Background(), ep); err != nil {
		t.Fatal(err)
	}
	if err := s.Emit(context.Background(), Event{Type: MemberCreated, Cause: "m"}); err != nil {
		t.Fatal(err)
	}
	run(t, s)
	testkit.Eventually(t, 10*time.Second, func() bool { return first(t, s, ep).LastError != "" }, "dial refusal not recorded")
	if d := first(t, s, ep); !strings.Contains(d.LastError, errPrivate.Error()) || rc.count() != 0 {
		t.Errorf("delivery %+v, receiver called %d times", d, rc.count())
	}
}

func TestBackoffGrowsWithJitterUpToAnHour(t *testing.T) {
	prevMax := time.Duration(0)
	for a := 1; a <= 40; a++ {
		d := Backoff(a)
		full := min(10*time.Second<<min(a-1, 20), time.Hour)
		if d < full/2 || d > full {
			t.Errorf("attempt %d: %s outside [%s, %s]", a, d, full/2, full)
		}
		if full < prevMax {
			t.Errorf("attempt %d: the ceiling shrank", a)
		}
		prevMax = full
	}
	total := time.Duration(0)
	n := 0
	for total < RetryFor {
		n++
		total += Backoff(n)
	}
	if n < 20 || n > 60 {
		t.Errorf("%d attempts in a day", n)
	}
}

func TestIndexes(t *testing.T) {
	s := newService(t, Deps{})
	testkit.RequireIndexes(t, s.deliveries, indexDeliveryKey, indexDeliveryList, indexDeliveryDue)
	testkit.RequireIndexes(t, s.events, indexEventPending)
	testkit.RequireIndexes(t, s.endpoints, indexEndpointType)
}
