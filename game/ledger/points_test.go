package ledger

import (
	"testing"
	"time"
)

// Expiring points are read against the game's clock, not the machine's.
func TestExpiringWithinFollowsTheGameClock(t *testing.T) {
	asOf := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	sum := &PointsSummary{AsOf: asOf, Expiring: []ExpiringPoints{
		{Amount: 5, At: asOf.AddDate(0, 0, 10)}, {Amount: 7, At: asOf.AddDate(0, 0, 40)},
	}}
	got, err := sum.ExpiringWithin(30)
	if err != nil || len(got) != 1 || got[0].Amount != 5 {
		t.Fatalf("within 30 days of %s: %+v %v", asOf, got, err)
	}
	if _, err := sum.ExpiringWithin(0); err == nil {
		t.Fatal("withinDays 0 accepted")
	}
}
