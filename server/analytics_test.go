package main

import (
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"strconv"
	"strings"
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

// exportCSV fetches an export with the given Authorization header.
func (a *app) exportCSV(t *testing.T, auth, path string) (int, [][]string) {
	t.Helper()
	req := testkit.Must(http.NewRequest(http.MethodGet, strings.TrimSuffix(a.url, "/graphql")+path, nil))(t)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res := testkit.Must(http.DefaultClient.Do(req))(t)
	testkit.Defer(t, res.Body.Close)
	if res.StatusCode != http.StatusOK {
		return res.StatusCode, nil
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("%s: Content-Type %q", path, ct)
	}
	return res.StatusCode, testkit.Must(csv.NewReader(res.Body).ReadAll())(t)
}

// The CSV export has the API's numbers: the overview and the economics of
// the same range, cell by cell; members are refused, and bad input names
// its field.
func TestAnalyticsExportMatchesTheAPI(t *testing.T) {
	a := startApp(t, nil)
	ann := a.signUp(t, "ann@example.com")
	bob := a.signUp(t, "bob@example.com")
	a.service(t, recordActivity, purchaseVars(ann.Member.ID, "order-1", 4250))
	a.service(t, recordActivity, purchaseVars(ann.Member.ID, "order-2", 1999))
	a.service(t, recordActivity, purchaseVars(bob.Member.ID, "order-3", 700))
	testkit.Must(a.analytics.Refresh(context.Background()))(t)

	from, to := time.Now().UTC().AddDate(0, -2, 0).Format(time.DateOnly), time.Now().UTC().Format(time.DateOnly)
	var got struct {
		Overview struct {
			Purchases, PurchasingMembers, RepeatPurchasers int
			RepeatPurchaseRate, PurchaseFrequency          float64
			Currencies                                     []struct {
				Currency               string
				Purchases              int
				RevenueMinor, AovMinor float64
			}
		}
		Economics struct {
			Issued, OutstandingAtEnd, LiabilityMinor float64
		}
	}
	a.service(t, `query($r: AnalyticsRange!) { analytics {
	  overview(range: $r) { purchases purchasingMembers repeatPurchasers repeatPurchaseRate purchaseFrequency currencies { currency purchases revenueMinor aovMinor } }
	  economics(range: $r) { issued outstandingAtEnd liabilityMinor } } }`,
		map[string]any{"r": map[string]any{"from": from, "to": to}}).decode(t, "analytics", &got)
	o := got.Overview
	if o.Purchases != 3 || len(o.Currencies) != 1 {
		t.Fatalf("overview: %+v", o)
	}

	code, rows := a.exportCSV(t, "ApiKey "+testAPIKey, "/analytics/export/overview.csv?from="+from+"&to="+to)
	if code != http.StatusOK || len(rows) != 2 {
		t.Fatalf("overview.csv: %d %v", code, rows)
	}
	cell := map[string]string{}
	for i, h := range rows[0] {
		cell[h] = rows[1][i]
	}
	num := func(s string) float64 { return testkit.Must(strconv.ParseFloat(s, 64))(t) }
	c := o.Currencies[0]
	for _, w := range []struct {
		col  string
		want float64
	}{
		{"purchases", float64(o.Purchases)}, {"purchasing_members", float64(o.PurchasingMembers)}, {"repeat_purchasers", float64(o.RepeatPurchasers)},
		{"repeat_purchase_rate", o.RepeatPurchaseRate}, {"purchase_frequency", o.PurchaseFrequency},
		{"currency_purchases", float64(c.Purchases)}, {"revenue_minor", c.RevenueMinor}, {"aov_minor", c.AovMinor},
	} {
		if got := num(cell[w.col]); got != w.want {
			t.Errorf("overview.csv %s = %v, the API says %v", w.col, got, w.want)
		}
	}
	if cell["currency"] != c.Currency || cell["from"] != from || cell["to"] != to {
		t.Errorf("overview.csv row %v", cell)
	}
	_, rows = a.exportCSV(t, "ApiKey "+testAPIKey, "/analytics/export/economics.csv?from="+from+"&to="+to)
	e := got.Economics
	if len(rows) != 2 || num(rows[1][2]) != e.Issued || num(rows[1][7]) != e.OutstandingAtEnd || num(rows[1][10]) != e.LiabilityMinor {
		t.Errorf("economics.csv %v, API %+v", rows, e)
	}

	if code, _ := a.exportCSV(t, ann.bearer(), "/analytics/export/overview.csv?from="+from+"&to="+to); code != http.StatusForbidden {
		t.Errorf("a member's export: %d, want 403", code)
	}
	if code, _ := a.exportCSV(t, "", "/analytics/export/overview.csv?from="+from+"&to="+to); code != http.StatusUnauthorized {
		t.Errorf("an anonymous export: %d, want 401", code)
	}
	if code, _ := a.exportCSV(t, "ApiKey "+testAPIKey, "/analytics/export/nothing.csv?from="+from+"&to="+to); code != http.StatusNotFound {
		t.Errorf("an unknown table: %d, want 404", code)
	}
	for _, path := range []string{"/analytics/export/overview.csv?from=2025-02-01&to=2025-01-01", "/analytics/export/campaign-results.csv?from=" + from + "&to=" + to + "&campaign=WIN_BACK&withinDays=91"} {
		req := testkit.Must(http.NewRequest(http.MethodGet, strings.TrimSuffix(a.url, "/graphql")+path, nil))(t)
		req.Header.Set("Authorization", "ApiKey "+testAPIKey)
		res := testkit.Must(http.DefaultClient.Do(req))(t)
		body := testkit.Must(io.ReadAll(res.Body))(t)
		if err := res.Body.Close(); err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != http.StatusBadRequest || !strings.HasPrefix(string(body), map[bool]string{true: "range.to", false: "withinDays"}[strings.Contains(path, "overview")]) {
			t.Errorf("%s: %d %q", path, res.StatusCode, body)
		}
	}
}
