package analytics

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/regulars/regulars/analytics/rollup"
	"github.com/regulars/regulars/game/holdout"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/internal/testkit"
)

// campaignWorld is a campaign's raw history: assignments and purchases,
// kept so the reference can count straight from them.
type campaignWorld struct {
	loc     *time.Location
	assigns []holdout.Assignment
	acts    []rollup.Activity
}

// reference is campaignResults the plain way: each member's first
// assignment in r (by time, then id), their purchases net of refunds in
// the window, from the raw documents.
func (w *campaignWorld) reference(campaign string, from, to string, within int, currency string, asOf time.Time) (rec, held GroupResult, pending int64) {
	a, b := day(from), day(to).AddDate(0, 0, 1)
	lo := time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, w.loc)
	hi := time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, w.loc)
	first := map[bson.ObjectID]holdout.Assignment{}
	for _, as := range w.assigns {
		if as.Campaign != campaign || as.At.Before(lo) || !as.At.Before(hi) {
			continue
		}
		f, ok := first[as.MemberID]
		if !ok || as.At.Before(f.At) || (as.At.Equal(f.At) && as.ID < f.ID) {
			first[as.MemberID] = as
		}
	}
	refunded := map[bson.ObjectID]int64{}
	for _, x := range w.acts {
		if x.Kind == kindRefund {
			refunded[*x.RefundOf] += x.AmountMinor
		}
	}
	asOfDay := rollup.DayOf(asOf, w.loc)
	byMember := map[bson.ObjectID][]rollup.Activity{}
	for _, x := range w.acts {
		byMember[x.MemberID] = append(byMember[x.MemberID], x)
	}
	for m, as := range first {
		d := rollup.DayOf(as.At, w.loc)
		if d+within > asOfDay {
			pending++
			continue
		}
		g := &rec
		if as.Group == holdout.Held {
			g = &held
		}
		bought, rev := false, int64(0)
		for _, x := range byMember[m] {
			if x.Kind != kindPurchase || x.AmountMinor-refunded[x.ID] <= 0 {
				continue
			}
			if pd := rollup.DayOf(x.OccurredAt, w.loc); pd >= d && pd < d+within {
				bought = true
				if x.Currency == currency {
					rev += x.AmountMinor - refunded[x.ID]
				}
			}
		}
		g.Members++
		if bought {
			g.Purchasers++
		}
		g.RevenueMinor += float64(rev)
		g.sumSq += float64(rev) * float64(rev)
	}
	return rec, held, pending
}

func closeInterval(a, b *Interval) bool {
	if a == nil || b == nil {
		return a == b
	}
	near := func(x, y float64) bool { return math.Abs(x-y) <= 1e-6*math.Max(1, math.Abs(y)) }
	return near(a.Estimate, b.Estimate) && near(a.Low, b.Low) && near(a.High, b.High)
}

// TestCampaignRollupsMatchTheRawData: repeated sends to the same members
// (counted once, at their first send in the range, in that send's group),
// two campaigns, two currencies, then late purchases, refunds and new
// sends after a first run: campaignResults over the rollups equals the
// reference from the raw documents for every range, window and currency.
func TestCampaignRollupsMatchTheRawData(t *testing.T) {
	for _, seed := range []uint64{1, 2} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			db := testkit.Database(t)
			p := program.Default()
			p.Timezone = "America/New_York"
			loc := p.Location()
			// The first run as March 10 ends in New York: what the second
			// part records is dated after it, as records are dated when
			// written (a run's marks move to its start less the overlap).
			clock := testkit.NewClock(time.Date(2026, 3, 11, 0, 0, 0, 0, loc))
			s := New(db, &fixedProgram{p}, clock.Now)
			testkit.EnsureIndexes(t, s.EnsureIndexes)
			hs := holdout.New(db)
			testkit.EnsureIndexes(t, hs.EnsureIndexes)
			ctx := context.Background()
			r := rand.New(rand.NewPCG(seed, 3))
			w := &campaignWorld{loc: loc}
			members := make([]bson.ObjectID, 120)
			for i := range members {
				members[i] = bson.NewObjectID()
			}
			var pending []any
			flush := func(db *mongo.Database) {
				if len(pending) > 0 {
					if _, err := db.Collection("activities").InsertMany(ctx, pending); err != nil {
						t.Fatal(err)
					}
				}
				pending = nil
			}
			buy := func(m bson.ObjectID, at, created time.Time) {
				cur := "USD"
				if r.IntN(4) == 0 {
					cur = "EUR"
				}
				a := rollup.Activity{ID: bson.NewObjectID(), Kind: kindPurchase, MemberID: m, AmountMinor: int64(100 + r.IntN(9000)), Currency: cur, OccurredAt: at, CreatedAt: created}
				w.acts, pending = append(w.acts, a), append(pending, a)
			}
			// Sends on days firstDay..lastDay of March (local, near midnight
			// half the time), some percent changing between sends.
			send := func(firstDay, lastDay int) {
				for _, m := range members {
					for range r.IntN(3) {
						campaign := []string{"win-back", "birthday"}[r.IntN(2)]
						d := firstDay + r.IntN(lastDay-firstDay+1)
						at := time.Date(2026, 3, d, 0, 0, 0, 0, loc).Add(time.Duration(r.IntN(24*60)) * time.Minute)
						if r.IntN(2) == 0 {
							at = time.Date(2026, 3, d, 0, 0, 0, 0, loc).Add(time.Duration(r.IntN(120)) * time.Second)
						}
						at = at.UTC().Truncate(time.Millisecond)
						key := fmt.Sprintf("%s:%d", campaign, d)
						g := testkit.Must(hs.Assign(ctx, campaign, key, m, 10+r.IntN(41), at))(t)
						w.assigns = append(w.assigns, holdout.Assignment{ID: key + "|" + m.Hex(), Campaign: campaign, Key: key, MemberID: m, Group: g, At: at})
						if r.IntN(2) == 0 {
							buy(m, at.Add(time.Duration(r.IntN(20*24))*time.Hour), at)
						}
					}
					if r.IntN(5) == 0 { // before any send
						buy(m, time.Date(2026, 2, 20, 12, 0, 0, 0, loc), time.Date(2026, 2, 20, 12, 0, 0, 0, loc))
					}
				}
			}
			send(1, 10)
			flush(db)
			testkit.Must(s.Refresh(ctx))(t)

			// Later: sends of days 11 to 20, purchases reported late into
			// old windows, refunds of old purchases.
			clock.Set(time.Date(2026, 3, 21, 6, 0, 0, 0, time.UTC))
			send(11, 20)
			late := clock.Now().Add(-time.Minute)
			for _, m := range members[:40] {
				buy(m, time.Date(2026, 3, 1+r.IntN(15), 13, 0, 0, 0, loc), late)
			}
			var olds []rollup.Activity
			for _, a := range w.acts {
				if a.Kind == kindPurchase && a.CreatedAt.Before(time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC)) && r.IntN(4) == 0 {
					olds = append(olds, a)
				}
			}
			for _, a := range olds {
				amount := a.AmountMinor
				if r.IntN(2) == 0 {
					amount = 1 + r.Int64N(a.AmountMinor-1)
				}
				id := a.ID
				x := rollup.Activity{ID: bson.NewObjectID(), Kind: kindRefund, MemberID: a.MemberID, AmountMinor: amount, Currency: a.Currency, OccurredAt: late, RefundOf: &id, CreatedAt: late}
				w.acts, pending = append(w.acts, x), append(pending, x)
			}
			flush(db)
			clock.Set(time.Date(2026, 4, 25, 6, 0, 0, 0, time.UTC))
			testkit.Must(s.Refresh(ctx))(t)

			asOf := clock.Now()
			var counted, bought, waiting int64
			for _, rg := range [][2]string{{"2026-03-01", "2026-03-31"}, {"2026-03-05", "2026-03-12"}, {"2026-03-11", "2026-03-20"}, {"2026-03-20", "2026-04-20"}} {
				for _, within := range []int{1, 7, 14, 45} {
					for _, cur := range []string{"USD", "EUR"} {
						for _, campaign := range []string{"win-back", "birthday"} {
							got := testkit.Must(s.CampaignResults(ctx, campaign, Range{From: date(rg[0]), To: date(rg[1]), Currency: cur}, within))(t)
							rec, held, pend := w.reference(campaign, rg[0], rg[1], within, cur, asOf)
							where := fmt.Sprintf("%s %s..%s within %d %s", campaign, rg[0], rg[1], within, cur)
							for _, c := range []struct {
								name      string
								got, want GroupResult
							}{{"recipients", got.Recipients, rec}, {"holdout", got.Holdout, held}} {
								if c.got.Members != c.want.Members || c.got.Purchasers != c.want.Purchasers || c.got.RevenueMinor != c.want.RevenueMinor {
									t.Errorf("%s %s: %d members %d purchasers revenue %v, want %d %d %v", where, c.name,
										c.got.Members, c.got.Purchasers, c.got.RevenueMinor, c.want.Members, c.want.Purchasers, c.want.RevenueMinor)
								}
							}
							counted += rec.Members + held.Members
							bought += rec.Purchasers + held.Purchasers
							waiting += pend
							if got.Pending != pend {
								t.Errorf("%s: pending %d, want %d", where, got.Pending, pend)
							}
							rec.PurchaseRate, held.PurchaseRate = ratio(rec.Purchasers, rec.Members), ratio(held.Purchasers, held.Members)
							if !closeInterval(got.RateDifference, rateInterval(rec, held)) || !closeInterval(got.RevenueDifference, welchInterval(rec, held)) {
								t.Errorf("%s: intervals %+v %+v, want %+v %+v", where, got.RateDifference, got.RevenueDifference, rateInterval(rec, held), welchInterval(rec, held))
							}
						}
					}
				}
			}
			if counted == 0 || bought == 0 || waiting == 0 {
				t.Errorf("the data exercises nothing: %d members counted, %d purchasers, %d pending", counted, bought, waiting)
			}
		})
	}
}

// TestCampaignResultsReadsDoNotGrowWithTheAudience: the same days of sends
// to four times the members read the same number of documents.
func TestCampaignResultsReadsDoNotGrowWithTheAudience(t *testing.T) {
	reads := func(members int) int {
		db := testkit.Database(t)
		clock := testkit.NewClock(time.Date(2026, 3, 30, 12, 0, 0, 0, time.UTC))
		s := New(db, &fixedProgram{program.Default()}, clock.Now)
		testkit.EnsureIndexes(t, s.EnsureIndexes)
		upliftData(t, db, s, 3, members, 0.3, 0.2)
		res := testkit.Must(s.CampaignResults(context.Background(), "win-back", Range{From: date("2026-03-01"), To: date("2026-03-31")}, 14))(t)
		if res.Recipients.Members+res.Holdout.Members != int64(members) {
			t.Fatalf("%d members counted, want %d", res.Recipients.Members+res.Holdout.Members, members)
		}
		return res.DocumentsRead
	}
	small, large := reads(100), reads(400)
	// The state, and at most one document per group and day with a send.
	if small != large || large > 1+2*31 {
		t.Errorf("documents read with 100 and 400 members: %d and %d", small, large)
	}
	t.Logf("documents read with 100 and 400 members: %d, %d", small, large)
}
