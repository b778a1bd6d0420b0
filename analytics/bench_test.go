package analytics

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/analytics/rollup"
	"github.com/regulars/regulars/game/leaderboard"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/internal/testkit"
)

// BenchmarkRollups measures, on a generated history of
// ANALYTICS_BENCH_MEMBERS members (default 2,000; about 5 purchases and
// refunds each and 3 ledger entries) and an engagement history of as
// many members (activities, streaks, badges, posts, scores, events), the
// first full Refresh, a Refresh after 100 new activities, and a dashboard
// load (overview, retention by month, cohorts, LTV, economics, referrals
// and engagement over one year), reporting p50/p99 and the rollup
// documents one load reads.
//
//	go test ./analytics -run '^$' -bench Rollups -benchtime 1x
func BenchmarkRollups(b *testing.B) {
	members := 2000
	if v, err := strconv.Atoi(os.Getenv("ANALYTICS_BENCH_MEMBERS")); err == nil && v > 0 {
		members = v
	}
	ctx := context.Background()
	for range b.N {
		ds := generate(11, members)
		db := testkit.Database(b)
		p := program.Default()
		p.Timezone = "America/New_York"
		clock := testkit.NewClock(genNow)
		s := New(db, &fixedProgram{p}, clock.Now)
		testkit.EnsureIndexes(b, s.EnsureIndexes)
		ds.load(b, db, genNow.Add(time.Hour), false)
		ew := generateEngagement(11, members)
		ew.load(b, db, genNow.Add(time.Hour), false)

		start := time.Now()
		testkit.Must(s.Refresh(ctx))(b)
		full := time.Since(start)

		var more []any
		for i := range 100 {
			m := ds.members[i%len(ds.members)]
			at := genNow.AddDate(0, -2, 0)
			more = append(more, rollup.Activity{ID: bson.NewObjectID(), Kind: kindPurchase, MemberID: m.ID, AmountMinor: 1000, Currency: "USD", OccurredAt: at, CreatedAt: genNow.Add(time.Minute)})
		}
		if _, err := db.Collection("activities").InsertMany(ctx, more); err != nil {
			b.Fatal(err)
		}
		clock.Set(genNow.Add(10 * time.Minute))
		start = time.Now()
		testkit.Must(s.Refresh(ctx))(b)
		incremental := time.Since(start)

		rg := Range{From: date("2025-03-01"), To: date("2026-02-28")}
		var lat testkit.Latencies
		docs := 0
		for range 30 {
			t0 := time.Now()
			o := testkit.Must(s.Overview(ctx, rg))(b)
			r := testkit.Must(s.Retention(ctx, rg, PeriodMonth))(b)
			c := testkit.Must(s.Cohorts(ctx, ByFirstPurchase, rg))(b)
			l := testkit.Must(s.LTV(ctx, nil, rg))(b)
			e := testkit.Must(s.Economics(ctx, rg))(b)
			f := testkit.Must(s.Referrals(ctx, rg))(b)
			g := testkit.Must(s.Engagement(ctx, rg, leaderboard.PeriodMonthly))(b)
			lat.Add(time.Since(t0))
			docs = o.DocumentsRead + r.DocumentsRead + c.DocumentsRead + l.DocumentsRead + e.DocumentsRead + f.DocumentsRead + g.DocumentsRead
		}
		b.ReportMetric(float64(len(ds.acts)+len(ew.acts)), "activities")
		b.ReportMetric(float64(len(ds.entries)), "ledger-entries")
		b.ReportMetric(full.Seconds(), "s-full-refresh")
		b.ReportMetric(incremental.Seconds(), "s-refresh-100-new")
		b.ReportMetric(float64(docs), "docs/dashboard")
		lat.Report(b, "dashboard-", "")
	}
}
