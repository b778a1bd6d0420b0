package dryrun

import (
	"testing"
	"time"
)

// A dry run's progress total: what has been replayed, scaled to the range
// by date; never below what was replayed.
func TestDryRunEstimate(t *testing.T) {
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 0, 90)
	if got := estimate(10_000, from, to, from.AddDate(0, 0, 30)); got != 30_000 {
		t.Errorf("a third of the range in 10,000: estimate %d, want 30,000", got)
	}
	if got := estimate(10, from, to, from); got != 10 {
		t.Errorf("at the start: %d, want 10", got)
	}
}
