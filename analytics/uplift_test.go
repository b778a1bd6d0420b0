package analytics

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/regulars/regulars/analytics/rollup"
	"github.com/regulars/regulars/game/holdout"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/testkit"
)

// upliftData sends a campaign to members drawn at 50% on 2026-03-01 and
// gives each a purchase within the 14 days after with probability treated
// or held (plus purchases outside the window, which must not count);
// it returns the reference counts computed from what it wrote.
func upliftData(t *testing.T, db *mongo.Database, s *Service, seed uint64, members int, treated, held float64) (want map[holdout.Group][2]int64) {
	t.Helper()
	ctx := context.Background()
	hs := holdout.New(db)
	testkit.EnsureIndexes(t, hs.EnsureIndexes)
	r := rand.New(rand.NewPCG(seed, 7))
	send := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	want = map[holdout.Group][2]int64{}
	var acts []any
	buy := func(m bson.ObjectID, at time.Time, amount int64) {
		acts = append(acts, rollup.Activity{ID: bson.NewObjectID(), Kind: "PURCHASE", MemberID: m, AmountMinor: amount, Currency: "USD", OccurredAt: at, CreatedAt: at})
	}
	for range members {
		// Ids from the seed: the same draw every run, so the intervals below
		// are those of one fixed sample, not a 5% chance of a false alarm.
		var m bson.ObjectID
		for i := range m {
			m[i] = byte(r.IntN(256))
		}
		g := testkit.Must(hs.Assign(ctx, "win-back", "winback:2026-01-01", m, 50, send))(t)
		rate := treated
		if g == holdout.Held {
			rate = held
		}
		w := want[g]
		w[0]++
		if r.Float64() < rate {
			buy(m, send.Add(time.Duration(r.IntN(13*24))*time.Hour), 5000)
			w[1]++
		}
		if r.IntN(4) == 0 {
			buy(m, send.AddDate(0, 0, -3), 700) // before the send's day
			buy(m, send.AddDate(0, 0, 15), 900) // after the window
		}
		want[g] = w
	}
	// A send whose window has not ended yet.
	testkit.Must(hs.Assign(ctx, "win-back", "winback:2026-02-10", bson.NewObjectID(), 50, send.AddDate(0, 0, 25)))(t)
	if _, err := db.Collection("activities").InsertMany(ctx, acts); err != nil {
		t.Fatal(err)
	}
	testkit.Must(s.Refresh(ctx))(t)
	return want
}

func TestCampaignResultsFindAnInjectedEffect(t *testing.T) {
	for _, tc := range []struct {
		name          string
		treated, held float64
		effect        bool
		seed          uint64
	}{
		{"effect", 0.40, 0.20, true, 1},
		{"no effect", 0.30, 0.30, false, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := testkit.Database(t)
			clock := testkit.NewClock(time.Date(2026, 3, 30, 12, 0, 0, 0, time.UTC))
			s := New(db, &fixedProgram{program.Default()}, clock.Now)
			testkit.EnsureIndexes(t, s.EnsureIndexes)
			want := upliftData(t, db, s, tc.seed, 1000, tc.treated, tc.held)
			res := testkit.Must(s.CampaignResults(context.Background(), "win-back", Range{From: date("2026-03-01"), To: date("2026-03-31")}, 14))(t)
			for g, got := range map[holdout.Group]GroupResult{holdout.Treated: res.Recipients, holdout.Held: res.Holdout} {
				w := want[g]
				if got.Members != w[0] || got.Purchasers != w[1] || got.RevenueMinor != float64(w[1]*5000) {
					t.Errorf("%s: %d members, %d purchasers, revenue %.0f; want %d, %d, %d", g, got.Members, got.Purchasers, got.RevenueMinor, w[0], w[1], w[1]*5000)
				}
			}
			if res.Pending != 1 {
				t.Errorf("pending %d, want 1", res.Pending)
			}
			d := res.RateDifference
			truth := tc.treated - tc.held
			if d == nil || d.Low > truth || d.High < truth {
				t.Fatalf("rate difference %+v does not cover the injected %.2f", d, truth)
			}
			if got := d.excludes0(); got != tc.effect {
				t.Errorf("interval %+v excludes zero: %v, want %v (verdict %q)", d, got, tc.effect, res.Verdict)
			}
			if tc.effect == (res.Verdict == NoEffectYet) {
				t.Errorf("verdict %q", res.Verdict)
			}
			// Revenue: each purchase in the window is 5000, so the Welch
			// interval's centre is 5000 × the rate difference.
			rv := res.RevenueDifference
			if rv == nil || math.Abs(rv.Estimate-5000*d.Estimate) > 1e-6 || rv.Low > 5000*truth || rv.High < 5000*truth {
				t.Errorf("revenue difference %+v, rate difference %+v", rv, d)
			}
		})
	}
}

// Welch's interval against a worked example (two samples of 3 and 4).
func TestWelchInterval(t *testing.T) {
	group := func(xs ...float64) GroupResult {
		g := GroupResult{Members: int64(len(xs))}
		for _, x := range xs {
			g.RevenueMinor += x
			g.sumSq += x * x
		}
		return g
	}
	// means 2 and 5.5; variances 1 and 1.6667; se² = 1/3 + 1.6667/4 = 0.75;
	// ν = 0.75² ÷ ((1/3)²/2 + (0.41667)²/3) = 4.9275; t(0.975, 4.93) ≈ 2.5773.
	iv := welchInterval(group(1, 2, 3), group(4, 5, 6, 7))
	se := math.Sqrt(0.75)
	if math.Abs(iv.Estimate+3.5) > 1e-9 || math.Abs(iv.High-(-3.5+2.5773*se)) > 2e-3 {
		t.Fatalf("welch %+v", iv)
	}
}

func TestCampaignResultsBadWindow(t *testing.T) {
	s := New(testkit.Database(t), &fixedProgram{program.Default()}, nil)
	for _, n := range []int{0, MaxWithinDays + 1} {
		_, err := s.CampaignResults(context.Background(), "win-back", Range{From: date("2026-03-01"), To: date("2026-03-31")}, n)
		if e, ok := input.As(err); !ok || e.Field != "withinDays" {
			t.Errorf("withinDays %d: %v", n, err)
		}
	}
}
