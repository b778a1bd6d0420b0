package game

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/offer"
	"github.com/regulars/regulars/game/referral"
	"github.com/regulars/regulars/internal/testkit"
)

// BenchmarkPublishOffer times publishing one offer to every member of a
// brand of BENCH_OFFER_MEMBERS members (default 1,000), from PublishOffer
// to the last notification stored, through the publishing job as the
// server runs it (batches of 500), and reports the MongoDB commands it
// took per 1,000 recipients. Members are seeded directly (their accounts),
// so the fill does not dominate the run:
//
//	BENCH_OFFER_MEMBERS=10000 go test ./game -run '^$' -bench PublishOffer -benchtime 1x -timeout 60m
func BenchmarkPublishOffer(b *testing.B) {
	n := 1000
	if v := os.Getenv("BENCH_OFFER_MEMBERS"); v != "" {
		n = testkit.Must(strconv.Atoi(v))(b)
	}
	for range b.N {
		b.StopTimer()
		db, commands := testkit.CountingDatabase(b)
		h := newHarnessOn(b, db, nil)
		ctx := context.Background()
		docs := make([]any, n)
		for i := range docs {
			m := h.members.add(fmt.Sprintf("m%d@example.com", i))
			docs[i] = referral.Account{MemberID: m.ID, Code: fmt.Sprintf("CODE%07d", i), EmailKey: m.Email}
		}
		if _, err := h.db.Collection("accounts").InsertMany(ctx, docs); err != nil {
			b.Fatal(err)
		}
		now := h.clock.Now()
		o := testkit.Must(h.Offers().CreateOffer(ctx, offer.OfferInput{Title: "Flash", Body: "10% off", Benefit: offer.Benefit{Kind: offer.BenefitPercentOff, Value: 10},
			StartsAt: now.Add(-time.Hour), EndsAt: now.Add(24 * time.Hour), CouponValidDays: 1, HoldoutPercent: 10}))(b)
		commands()
		b.StartTimer()
		start := time.Now()
		if _, err := h.Offers().PublishOffer(ctx, o.ID); err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := h.Offers().PublishOffers(ctx, 500); err != nil {
				b.Fatal(err)
			}
			if got := testkit.Must(h.Offers().Offer(ctx, o.ID))(b); got.Status == offer.OfferPublished {
				break
			}
		}
		b.StopTimer()
		elapsed := time.Since(start)
		got := testkit.Must(h.Offers().Offer(ctx, o.ID))(b)
		stored := testkit.Count(b, h.db.Collection("notifications"), bson.D{{Key: "key", Value: "offer:" + o.ID.Hex()}})
		if stored != got.Progress.Notified || got.Progress.Processed != int64(n) {
			b.Fatalf("progress %+v, %d notifications stored", got.Progress, stored)
		}
		b.ReportMetric(elapsed.Seconds(), "s-total")
		b.ReportMetric(float64(commands())/float64(n)*1000, "commands/1000-members")
		b.ReportMetric(float64(stored), "notified")
	}
}
