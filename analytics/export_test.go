package analytics

import (
	"bytes"
	"context"
	"encoding/csv"
	"strconv"
	"testing"
	"time"

	"github.com/regulars/regulars/game/leaderboard"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/testkit"
)

// TestEveryExportRepeatsItsFigure: each table of Tables is well-formed CSV
// (every row as wide as the header), its numbers are the API's, and an
// unknown table or a bad argument is refused naming the field.
func TestEveryExportRepeatsItsFigure(t *testing.T) {
	// Purchases and engagement (badges, boards, events) in one database.
	db := testkit.Database(t)
	p := program.Default()
	p.Timezone = "America/New_York"
	s := New(db, &fixedProgram{p}, func() time.Time { return genNow })
	testkit.EnsureIndexes(t, s.EnsureIndexes)
	generate(4, 40).load(t, db, genNow.Add(time.Hour), false)
	generateEngagement(4, 30).load(t, db, genNow.Add(time.Hour), false)
	ctx := context.Background()
	testkit.Must(s.Refresh(ctx))(t)
	rg := Range{From: date("2025-06-01"), To: date("2026-02-28")}
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
	en := testkit.Must(s.Engagement(ctx, rg, leaderboard.PeriodWeekly))(t)
	tb = testkit.Must(s.Export(ctx, "leaderboards", ExportQuery{Range: rg, Boards: leaderboard.PeriodWeekly}))(t)
	if len(tb.Rows) != len(en.Leaderboards) || tb.Rows[len(tb.Rows)-1][0] != en.Leaderboards[len(en.Leaderboards)-1].Board {
		t.Errorf("leaderboards: CSV %v, API %+v", tb.Rows, en.Leaderboards)
	}
	tb = testkit.Must(s.Export(ctx, "badge-unlocks", q))(t)
	for i, b := range en.Badges {
		if got := tb.Rows[i]; got[0] != b.Name || got[1] != b.Level || got[2] != strconv.FormatInt(b.Unlocks, 10) {
			t.Errorf("badge-unlocks row %d: CSV %v, API %+v", i, got, b)
		}
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
		{"leaderboards", ExportQuery{Range: rg, Boards: leaderboard.PeriodAllTime}, "boards"},
	} {
		_, err := s.Export(ctx, c.name, c.q)
		if e, ok := input.As(err); !ok || e.Field != c.field {
			t.Errorf("%s: %v, want an error on %s", c.name, err, c.field)
		}
	}
}
