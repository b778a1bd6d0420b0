package analytics

import (
	"bytes"
	"context"
	"encoding/csv"
	"strconv"
	"testing"

	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/testkit"
)

// TestEveryExportRepeatsItsFigure: each table of Tables is well-formed CSV
// (every row as wide as the header), its numbers are the API's, and an
// unknown table or a bad argument is refused naming the field.
func TestEveryExportRepeatsItsFigure(t *testing.T) {
	s := rolledUp(t, generate(4, 40))
	ctx := context.Background()
	rg := Range{From: date("2025-01-01"), To: date("2025-12-31")}
	q := ExportQuery{Range: rg, Campaign: "win-back"}
	for _, name := range Tables {
		tb, err := s.Export(ctx, name, q)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(tb.Rows) == 0 {
			t.Errorf("%s: no rows", name)
		}
		var buf bytes.Buffer
		if err := tb.WriteCSV(&buf); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatalf("%s: not CSV: %v", name, err)
		}
		if len(recs) != len(tb.Rows)+1 {
			t.Errorf("%s: %d records for %d rows", name, len(recs), len(tb.Rows))
		}
		for _, r := range tb.Rows {
			if len(r) != len(tb.Header) {
				t.Errorf("%s: a row of %d cells under %d columns: %v", name, len(r), len(tb.Header), r)
			}
		}
	}
	// The numbers are the API's.
	o := testkit.Must(s.Overview(ctx, rg))(t)
	tb := testkit.Must(s.Export(ctx, "overview", q))(t)
	if got, want := tb.Rows[0][2], strconv.FormatInt(o.Purchases, 10); got != want {
		t.Errorf("overview purchases: CSV %s, API %s", got, want)
	}
	e := testkit.Must(s.Economics(ctx, rg))(t)
	tb = testkit.Must(s.Export(ctx, "economics", q))(t)
	if got, want := tb.Rows[0][2], strconv.FormatFloat(e.Issued, 'f', -1, 64); got != want {
		t.Errorf("economics issued: CSV %s, API %s", got, want)
	}
	for _, c := range []struct {
		name  string
		q     ExportQuery
		field string
	}{
		{"nothing", q, "table"},
		{"retention", ExportQuery{Range: rg, Period: "DAY"}, "period"},
		{"cohorts", ExportQuery{Range: rg, By: "BIRTHDAY"}, "by"},
		{"ltv", ExportQuery{Range: rg, Horizons: []int{0}}, "horizons"},
		{"campaign-results", ExportQuery{Range: rg, Campaign: "win-back", WithinDays: 91}, "withinDays"},
		{"referrals", ExportQuery{Range: Range{From: rg.To, To: rg.From}}, "range.to"},
	} {
		_, err := s.Export(ctx, c.name, c.q)
		if e, ok := input.As(err); !ok || e.Field != c.field {
			t.Errorf("%s: %v, want an error on %s", c.name, err, c.field)
		}
	}
}
