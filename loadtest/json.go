package loadtest

import (
	"encoding/json"
	"time"
)

// A report's durations are written as JSON in milliseconds, in fields
// named for them with "Ms" added (P99 → P99Ms), so that a reader, or jq,
// needs no knowledge of Go's nanosecond time.Duration.

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// MarshalJSON writes r with its durations in milliseconds.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report
	if r.Failures == nil {
		r.Failures = []string{} // [], not null: a list to read either way
	}
	return json.Marshal(struct {
		plain
		DurationMs      float64
		InterruptedAtMs float64 `json:",omitempty"`
	}{plain(r), ms(r.Duration), ms(r.InterruptedAt)})
}

// MarshalJSON writes o with its latencies in milliseconds.
func (o OpReport) MarshalJSON() ([]byte, error) {
	type plain OpReport
	return json.Marshal(struct {
		plain
		P50Ms, P95Ms, P99Ms, MaxMs float64
	}{plain(o), ms(o.P50), ms(o.P95), ms(o.P99), ms(o.Max)})
}

// MarshalJSON writes o with its times in milliseconds.
func (o OfferReport) MarshalJSON() ([]byte, error) {
	type plain OfferReport
	return json.Marshal(struct {
		plain
		PublishedMs, P50Ms, P99Ms, LastMs float64
	}{plain(o), ms(o.Published), ms(o.P50), ms(o.P99), ms(o.Last)})
}

// MarshalJSON writes s with its time in milliseconds.
func (s ServerSample) MarshalJSON() ([]byte, error) {
	type plain ServerSample
	return json.Marshal(struct {
		plain
		AtMs float64
	}{plain(s), ms(s.At)})
}
