package main

import (
	"context"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/testkit"
)

const analyticsOverview = `query($r: AnalyticsRange!) { analytics { overview(range: $r) {
  asOf purchases purchasingMembers currencies { currency revenueMinor aovMinor } } } }`

// The brand reads analytics from the rollups the job writes; members are
// refused, and a bad range names its field.
func TestAnalyticsForTheBrandOnly(t *testing.T) {
	a := startApp(t, nil)
	ann := a.signUp(t, "ann@example.com")
	a.service(t, recordActivity, purchaseVars(ann.Member.ID, "order-1", 4250))
	testkit.Must(a.analytics.Refresh(context.Background()))(t)

	today := time.Now().UTC().Format(time.DateOnly)
	rg := map[string]any{"r": map[string]any{"from": time.Now().UTC().AddDate(-1, 0, 0).Format(time.DateOnly), "to": today, "currency": "USD", "timezone": "UTC"}}
	var got struct {
		Overview struct {
			AsOf              *time.Time
			Purchases         int
			PurchasingMembers int
			Currencies        []struct {
				Currency     string
				RevenueMinor float64
				AovMinor     float64
			}
		}
	}
	a.service(t, analyticsOverview, rg).decode(t, "analytics", &got)
	o := got.Overview
	if o.AsOf == nil || o.Purchases != 1 || o.PurchasingMembers != 1 || len(o.Currencies) != 1 || o.Currencies[0].RevenueMinor != 4250 || o.Currencies[0].AovMinor != 4250 {
		t.Fatalf("overview: %+v", o)
	}
	if r := a.do(t, ann.bearer(), analyticsOverview, rg); r.code() != "FORBIDDEN" {
		t.Fatalf("a member reading analytics: %+v", r)
	}
	for _, c := range []struct {
		r     map[string]any
		field string
	}{
		{map[string]any{"from": "2020-01-01", "to": "2025-01-01"}, "range.to"},
		{map[string]any{"from": "2025-02-01", "to": "2025-01-01"}, "range.to"},
		{map[string]any{"from": "2025-01-01", "to": "2025-02-01", "timezone": "Mars/Base"}, "range.timezone"},
		{map[string]any{"from": "2025-01-01", "to": "2025-02-01", "currency": "ZZZ"}, "range.currency"},
	} {
		r := a.service(t, analyticsOverview, map[string]any{"r": c.r})
		if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != c.field {
			t.Errorf("%v: %+v, want BAD_USER_INPUT on %s", c.r, r, c.field)
		}
	}
}
