package loadtest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// An operation whose every answer is a GraphQL error (HTTP 200) shows no
// successful answers per second, and its errors read CODE:n, in the
// table and in the verdict.
func TestFailedAnswersAreNotCountedAsThroughput(t *testing.T) {
	f := newFakeServer(t)
	f.answer = func(field string) string {
		if field == "me" {
			return `{"errors":[{"message":"the database is not answering","extensions":{"code":"UNAVAILABLE"}}]}`
		}
		return ""
	}
	cfg := quietConfig(f.URL)
	cfg.Rates.Me, cfg.Rates.Notifications = 10, 10
	r, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Ops) != 2 {
		t.Fatalf("ops %+v", r.Ops)
	}
	me, notifications := r.Ops[0], r.Ops[1]
	if me.Requests == 0 || me.OKPerSecond != 0 || me.Errors["UNAVAILABLE"] != me.Requests {
		t.Errorf("me, every answer an error: %+v; want 0 ok/s", me)
	}
	if notifications.OKPerSecond <= 0 || len(notifications.Errors) > 0 {
		t.Errorf("notifications, every answer good: %+v", notifications)
	}
	var out strings.Builder
	if err := r.Write(&out); err != nil {
		t.Fatal(err)
	}
	report := out.String()
	if !strings.Contains(report, "ok/s") || strings.Contains(report, "map[") || !strings.Contains(report, "UNAVAILABLE:") {
		t.Errorf("report:\n%s", report)
	}
	if len(r.Failures) != 1 || !strings.HasPrefix(r.Failures[0], "me: ") || !strings.Contains(r.Failures[0], "(UNAVAILABLE:") {
		t.Errorf("failures %q: want me's, with UNAVAILABLE:n", r.Failures)
	}
}

// The JSON report is valid and its durations are milliseconds, named so.
func TestJSONReportGivesMilliseconds(t *testing.T) {
	r := &Report{
		Duration: time.Minute, Members: 3,
		Ops:    []OpReport{{Name: "me", Requests: 4, OKPerSecond: 2, P50: 1500 * time.Microsecond, P99: 7500 * time.Microsecond, Errors: map[string]int{"TRANSPORT": 1}}},
		Offer:  &OfferReport{Members: 3, Published: 2 * time.Second, Last: 2500 * time.Millisecond},
		Server: []ServerSample{{At: 10 * time.Second, Goroutines: 40}},
	}
	b, err := json.Marshal(r)
	if err != nil || !json.Valid(b) {
		t.Fatalf("%s, %v", b, err)
	}
	var got struct {
		DurationMs float64
		Duration   any
		Ops        []map[string]any
		Offer      map[string]any
		Server     []map[string]any
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	op := got.Ops[0]
	if got.DurationMs != 60000 || got.Duration != nil || op["P50Ms"] != 1.5 || op["P99Ms"] != 7.5 || op["P99"] != nil || op["OKPerSecond"] != 2.0 {
		t.Errorf("report %s", b)
	}
	if got.Offer["PublishedMs"] != 2000.0 || got.Offer["LastMs"] != 2500.0 || got.Server[0]["AtMs"] != 10000.0 || got.Server[0]["Goroutines"] != 40.0 {
		t.Errorf("offer and server %s", b)
	}
	if !strings.Contains(string(b), `"Failures":[]`) {
		t.Errorf("a run that passed: want Failures [], got %s", b)
	}
	if strings.Contains(string(b), "InterruptedAtMs") {
		t.Errorf("a run not interrupted: %s", b)
	}
}

// ok/s is over the time the operation ran: one slow answer in a 1-second
// mix is at most 1/s, not one over its own latency.
func TestOKPerSecondIsOverTheMix(t *testing.T) {
	f := newFakeServer(t)
	f.slow["me"] = 300 * time.Millisecond
	cfg := quietConfig(f.URL)
	cfg.Rates.Me = 1
	r, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Ops) != 1 || r.Ops[0].Requests != 1 || r.Ops[0].OKPerSecond <= 0 || r.Ops[0].OKPerSecond > 1 {
		t.Errorf("one answer in a 1 s mix: %+v; want ok/s in (0, 1]", r.Ops)
	}
	for v, want := range map[float64]string{0: "0", 0.0166: "0.017", 11.11: "11.1", 523.4: "523"} {
		if got := perSecond(v); got != want {
			t.Errorf("perSecond(%v) = %q, want %q", v, got, want)
		}
	}
}
