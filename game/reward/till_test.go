package reward

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/internal/testkit"
)

func TestTillIndexesExist(t *testing.T) {
	h := newHarness(t, nil)
	testkit.RequireIndexes(t, h.rewards.redemptions, indexRedemptionExpiry, indexFulfilmentKey)
}

// A fulfilled reward is never refunded: not by a cancellation, not by the
// expiry job once its validity is over.
func TestFulfilledIsNeverRefunded(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	days := int64(1)
	rw, err := h.CreateReward(ctx, RewardInput{Name: "Mug", Cost: 100, ValidDays: &days, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	m := h.members.add("ann@example.com")
	h.credit(t, m, 150)
	r, err := h.Redeem(ctx, m.ID, rw.ID, "k")
	if err != nil {
		t.Fatal(err)
	}
	staff := bson.NewObjectID()
	f, err := h.FulfillRedemption(ctx, r.Code, "Store 1", "till-1", staff)
	if err != nil || f.Status != RedemptionFulfilled || f.Fulfilment.StaffID != staff || !f.Fulfilment.At.Equal(h.clock.Now()) {
		t.Fatalf("fulfil: %+v %v", f, err)
	}
	if _, err := h.CancelRedemption(ctx, r.ID, "changed my mind"); err == nil || !strings.Contains(err.Error(), "FULFILLED redemption cannot be cancelled") {
		t.Fatalf("cancelling a fulfilled redemption: %v", err)
	}
	h.clock.Add(48 * time.Hour)
	if n, err := h.ExpireRedemptions(ctx, 10); err != nil || n != 0 {
		t.Fatalf("expiry job: %d %v", n, err)
	}
	if b := h.points(t, m); b.Balance != 50 {
		t.Fatalf("balance %d, want 50", b.Balance)
	}
	h.checkLedger(t, m)
}

// A code past its validity is not handed over even before the job has
// expired it; the job then refunds it.
func TestCodePastValidityIsRefusedThenRefunded(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	days := int64(1)
	rw, err := h.CreateReward(ctx, RewardInput{Name: "Mug", Cost: 100, ValidDays: &days, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	m := h.members.add("ann@example.com")
	h.credit(t, m, 150)
	r, err := h.Redeem(ctx, m.ID, rw.ID, "k")
	if err != nil {
		t.Fatal(err)
	}
	h.clock.Add(25 * time.Hour)
	if _, err := h.FulfillRedemption(ctx, r.Code, "Store 1", "till-1", bson.ObjectID{}); !errors.Is(err, ErrNotFulfillable) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("fulfilling past validity: %v", err)
	}
	for run, want := range []int{1, 0} {
		if n, err := h.ExpireRedemptions(ctx, 10); err != nil || n != want {
			t.Fatalf("run %d: %d %v, want %d", run+1, n, err, want)
		}
	}
	if b := h.points(t, m); b.Balance != 150 {
		t.Fatalf("balance %d, want 150", b.Balance)
	}
	kinds := 0
	for _, n := range h.effects.notes {
		if n.Kind == inbox.KindRedemptionExpired {
			kinds++
		}
	}
	if kinds != 1 {
		t.Fatalf("%d expiry notes", kinds)
	}
	h.checkLedger(t, m)
}

// A cancellation and a fulfilment racing on each of 10 codes: one of them
// wins each, and only cancelled ones are refunded.
func TestCancelRacingFulfilmentHasOneOutcome(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	rw, err := h.CreateReward(ctx, RewardInput{Name: "Mug", Cost: 10, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	m := h.members.add("ann@example.com")
	h.credit(t, m, 100)
	var rs []*Redemption
	for i := range 10 {
		r, err := h.Redeem(ctx, m.ID, rw.ID, fmt.Sprint("k", i))
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	res := testkit.Race(t, 20, func(i int) error {
		r := rs[i/2]
		if i%2 == 0 {
			_, err := h.CancelRedemption(ctx, r.ID, "sorry")
			return err
		}
		_, err := h.FulfillRedemption(ctx, r.Code, "Store", fmt.Sprint("till-", i), bson.ObjectID{})
		return err
	})
	if res.OK() != 10 {
		t.Fatalf("%d of 20 succeeded, want one per code", res.OK())
	}
	cancelled := testkit.Count(t, h.rewards.redemptions, bson.D{{Key: "status", Value: RedemptionCancelled}})
	fulfilled := testkit.Count(t, h.rewards.redemptions, bson.D{{Key: "status", Value: RedemptionFulfilled}})
	if cancelled+fulfilled != 10 {
		t.Fatalf("%d cancelled, %d fulfilled", cancelled, fulfilled)
	}
	if b := h.points(t, m); b.Balance != 10*cancelled {
		t.Fatalf("balance %d after %d cancellations", b.Balance, cancelled)
	}
	h.checkLedger(t, m)
}

// A fulfilment whose request stopped before the member was told (a crash)
// is announced by the job, once.
func TestUnannouncedFulfilmentIsAnnouncedByTheJob(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	rw, err := h.CreateReward(ctx, RewardInput{Name: "Mug", Cost: 100, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	m := h.members.add("ann@example.com")
	h.credit(t, m, 150)
	r, err := h.Redeem(ctx, m.ID, rw.ID, "k")
	if err != nil {
		t.Fatal(err)
	}
	// The fulfilment as a request that died right after winning leaves it.
	now := h.clock.Now()
	if _, err := h.rewards.transition(ctx, bson.D{{Key: "_id", Value: r.ID}}, RedemptionCompleted,
		bson.D{{Key: "status", Value: RedemptionFulfilled}, {Key: "fulfilment", Value: &Fulfilment{Key: "till-1", Location: "Store", At: now}}}); err != nil {
		t.Fatal(err)
	}
	if n, err := h.AnnounceFulfilments(ctx, 10); err != nil || n != 0 {
		t.Fatalf("within the grace: %d %v", n, err)
	}
	h.clock.Add(2 * announceGrace)
	for run, want := range []int{1, 0} {
		if n, err := h.AnnounceFulfilments(ctx, 10); err != nil || n != want {
			t.Fatalf("run %d: %d %v, want %d", run+1, n, err, want)
		}
	}
	var notes []string
	for _, n := range h.effects.notes {
		if n.Kind == inbox.KindRedemptionFulfilled {
			notes = append(notes, n.Key)
		}
	}
	if len(notes) != 1 || notes[0] != "redeem:"+r.ID.Hex()+":fulfilled" {
		t.Fatalf("fulfilment notes %v", notes)
	}
}
