package game

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/testkit"
	"github.com/regulars/regulars/member"
)

// Adjustments credit and debit by hand, once per key; a debit never takes
// the balance below zero, bad input writes nothing, and a credit tells the
// member.
func TestAdjustOncePerKeyNeverBelowZero(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	m := h.members.add("ann@example.com")
	for range 2 {
		e, err := h.Adjust(ctx, m.ID, 200, "  sorry about the queue  ", "goodwill-1")
		if err != nil || e.Amount != 200 || e.Type != EntryAdjust || e.Reason != "sorry about the queue" {
			t.Fatalf("credit: %+v %v", e, err)
		}
	}
	if got := h.points(t, m).Balance; got != 200 {
		t.Fatalf("balance after one credit sent twice: %d, want 200", got)
	}
	if n := len(h.inboxOf(t, m, inbox.KindRewardEarned)); n != 1 {
		t.Fatalf("%d notifications of the credit, want 1", n)
	}
	_, err := h.Adjust(ctx, m.ID, -500, "correction", "fix-1")
	if e, ok := input.As(err); !ok || e.Field != "amount" || !errors.Is(err, ErrInsufficientPoints) {
		t.Fatalf("debit past the balance: %v", err)
	}
	if e, err := h.Adjust(ctx, m.ID, -50, "correction", "fix-2"); err != nil || e.Amount != -50 {
		t.Fatalf("debit: %+v %v", e, err)
	}
	for field, call := range map[string]func() error{
		"amount":         func() error { _, err := h.Adjust(ctx, m.ID, 0, "x", "k0"); return err },
		"reason":         func() error { _, err := h.Adjust(ctx, m.ID, 10, "   ", "k1"); return err },
		"idempotencyKey": func() error { _, err := h.Adjust(ctx, m.ID, 10, "x", ""); return err },
		"memberId":       func() error { _, err := h.Adjust(ctx, bson.NewObjectID(), 10, "x", "k2"); return err },
	} {
		if e, ok := input.As(call()); !ok || e.Field != field {
			t.Errorf("%s: got %v", field, e)
		}
	}
	if n := testkit.Count(t, h.ledger.Collection(), bson.D{{Key: "memberId", Value: m.ID}}); n != 2 {
		t.Fatalf("%d ledger entries, want the credit and the debit", n)
	}
	if got := h.points(t, m).Balance; got != 150 {
		t.Fatalf("balance %d, want 150", got)
	}
	h.checkLedger(t, m)
}

// The catalog lists newest first, a page at a time, active rewards only
// when asked; RewardsByID keeps the order asked for.
func TestRewardsCatalogPages(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	var ids []bson.ObjectID
	for i := range 5 {
		r, err := h.CreateReward(ctx, RewardInput{Name: fmt.Sprint("r", i), Cost: 10, Active: i%2 == 0})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	names := func(activeOnly bool, limit int) []string {
		var out []string
		var after bson.ObjectID
		for {
			rs, more, err := h.Rewards(ctx, activeOnly, after, limit)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rs {
				out = append(out, r.Name)
			}
			if !more {
				return out
			}
			after = rs[len(rs)-1].ID
		}
	}
	if got := fmt.Sprint(names(true, 2)); got != "[r4 r2 r0]" {
		t.Errorf("active rewards: %s", got)
	}
	if got := fmt.Sprint(names(false, 3)); got != "[r4 r3 r2 r1 r0]" {
		t.Errorf("all rewards: %s", got)
	}
	ghost := bson.NewObjectID()
	rs, err := h.RewardsByID(ctx, []bson.ObjectID{ids[3], ghost, ids[0]})
	if err != nil || len(rs) != 3 || rs[0].Name != "r3" || rs[1] != nil || rs[2].Name != "r0" {
		t.Fatalf("by id: %+v %v", rs, err)
	}
	// Updating keeps the id and validates like creating.
	up, err := h.UpdateReward(ctx, ids[1], RewardInput{Name: "r1 again", Cost: 20, Active: true})
	if err != nil || up.ID != ids[1] || up.Cost != 20 {
		t.Fatalf("update: %+v %v", up, err)
	}
	if _, err := h.UpdateReward(ctx, ids[1], RewardInput{Name: "r1", Cost: 20, MinTier: "Platinum"}); err == nil {
		t.Fatal("an unknown tier accepted")
	}
	if _, err := h.UpdateReward(ctx, ghost, RewardInput{Name: "x", Cost: 1}); !errors.Is(err, ErrRewardNotFound) {
		t.Fatalf("update of nothing: %v", err)
	}
}

// Per-member limits, minimum tiers and validity windows refuse a
// redemption and leave the points where they were; the member's history
// lists what went through.
func TestRedemptionRules(t *testing.T) {
	h := newHarness(t, func(p *Program) { p.FirstPurchaseBonus = 0; p.Escalation = nil })
	ctx := context.Background()
	m := h.members.add("ann@example.com")
	h.purchase(t, m, "seed", 5000) // 500 points, tier Member
	limited := testkit.Must(h.CreateReward(ctx, RewardInput{Name: "Once", Cost: 10, PerMemberLimit: 1, Active: true}))(t)
	gold := testkit.Must(h.CreateReward(ctx, RewardInput{Name: "Gold lounge", Cost: 10, MinTier: "Gold", Active: true}))(t)
	later := h.clock.Now().Add(24 * time.Hour)
	notYet := testkit.Must(h.CreateReward(ctx, RewardInput{Name: "Tomorrow", Cost: 10, ValidFrom: &later, Active: true}))(t)
	first := testkit.Must(h.Redeem(ctx, m.ID, limited.ID, "a"))(t)
	for _, c := range []struct {
		reward bson.ObjectID
		want   error
	}{{limited.ID, ErrLimitReached}, {gold.ID, ErrTierTooLow}, {notYet.ID, ErrRewardUnavailable}} {
		if _, err := h.Redeem(ctx, m.ID, c.reward, "b-"+c.reward.Hex()); !errors.Is(err, c.want) {
			t.Errorf("want %v, got %v", c.want, err)
		}
	}
	if _, err := h.Redeem(ctx, m.ID, bson.NewObjectID(), "c"); !errors.Is(err, ErrRewardNotFound) {
		t.Errorf("unknown reward: %v", err)
	}
	if got := h.points(t, m).Balance; got != 490 {
		t.Fatalf("balance %d, want 490", got)
	}
	rs, more, err := h.Redemptions(ctx, m.ID, bson.ObjectID{}, 10)
	if err != nil || more || len(rs) != 1 || rs[0].ID != first.ID {
		t.Fatalf("history: %+v %v %v", rs, more, err)
	}
	h.checkLedger(t, m)
}

// The sweeper completes an abandoned redemption whose debit went through
// (the member paid) and fails one whose debit never happened.
func TestSweeperCompletesPaidRedemption(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	m := h.members.add("ann@example.com")
	h.purchase(t, m, "seed", 1000)
	reward := testkit.Must(h.CreateReward(ctx, RewardInput{Name: "Pin", Cost: 10, Active: true}))(t)
	paid := testkit.Must(h.Redeem(ctx, m.ID, reward.ID, "paid"))(t)
	// The crash: the debit is written, the status never moved on.
	if err := h.rewards.setRedemption(ctx, paid.ID, bson.D{{Key: "status", Value: RedemptionPending}}); err != nil {
		t.Fatal(err)
	}
	if n, err := h.SweepRedemptions(ctx); err != nil || n != 0 {
		t.Fatalf("a fresh pending redemption was swept: %d %v", n, err)
	}
	h.clock.Add(3 * time.Minute)
	if n, err := h.SweepRedemptions(ctx); err != nil || n != 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	got, err := h.rewards.redemption(ctx, bson.D{{Key: "_id", Value: paid.ID}})
	if err != nil || got.Status != RedemptionCompleted {
		t.Fatalf("after the sweep: %+v %v", got, err)
	}
	if n := testkit.Count(t, h.ledger.Collection(), bson.D{{Key: "type", Value: EntryRedeem}}); n != 1 {
		t.Fatalf("%d debits, want 1", n)
	}
	h.checkLedger(t, m)
}

// A refund of the qualifying purchase within the reversal window takes the
// referral points back from both sides, once; after the window it does not.
func TestRefundReversesReferralWithinWindow(t *testing.T) {
	h := newHarness(t, func(p *Program) { p.FirstPurchaseBonus = 0; p.Escalation = nil })
	ctx := context.Background()
	ann := h.members.add("ann@example.com")
	if _, err := h.Enroll(ctx, ann, nil); err != nil {
		t.Fatal(err)
	}
	refer := func(email string) *member.Member {
		m := h.members.add(email)
		if _, err := h.Enroll(ctx, m, &ann.ID); err != nil {
			t.Fatal(err)
		}
		return m
	}
	bob, carl := refer("bob@example.com"), refer("carl@example.com")
	h.purchase(t, bob, "b1", 1000)
	h.purchase(t, carl, "c1", 1000)
	if got := h.points(t, ann).Balance; got != 1000 {
		t.Fatalf("ann after two referrals: %d", got)
	}
	refund := func(m *member.Member, of string) {
		t.Helper()
		for range 2 { // reported twice
			if _, err := h.RecordActivity(ctx, ActivityInput{MemberID: m.ID, Kind: ActivityRefund, ExternalID: "r-" + of,
				AmountMinor: 1000, Currency: "USD", RefundOf: of, OccurredAt: h.clock.Now()}); err != nil {
				t.Fatal(err)
			}
		}
	}
	refund(bob, "b1")
	if got := h.points(t, ann).Balance; got != 500 {
		t.Fatalf("ann after bob's refund: %d, want 500", got)
	}
	if got := h.points(t, bob).Balance; got != 0 {
		t.Fatalf("bob after his refund: %d, want 0", got)
	}
	if n := testkit.Count(t, h.accounts.conversions, bson.D{{Key: "status", Value: ConversionReversed}}); n != 1 {
		t.Fatalf("%d conversions reversed, want 1", n)
	}
	h.clock.Add(31 * 24 * time.Hour)
	refund(carl, "c1")
	if got := h.points(t, ann).Balance; got != 500 {
		t.Fatalf("ann after a refund past the window: %d, want 500", got)
	}
	for _, m := range []*member.Member{ann, bob, carl} {
		h.checkLedger(t, m)
	}
}

// A promotion adds its bonus to purchases in its window, expiring sooner
// than ordinary points; the expiry warning goes out once per lot, in the
// week before it expires.
func TestPromotionBonusAndExpiryWarning(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	now := h.clock.Now()
	p := DefaultProgram()
	p.ReturnWindowDays, p.BirthdayBonus, p.FirstPurchaseBonus, p.Escalation = 0, 0, 0, nil
	p.PointsExpireDays = 60
	p.Promotions = []Promotion{{ID: "summer", Name: "Summer bonus", BonusPoints: 40, StartsAt: now.Add(-time.Hour), EndsAt: now.Add(24 * time.Hour), ExpiresAfterDays: 10}}
	if _, err := h.UpdateProgram(ctx, p); err != nil {
		t.Fatal(err)
	}
	m := h.members.add("ann@example.com")
	if got := h.purchase(t, m, "in-window", 1000).Points(); got != 100+40 {
		t.Fatalf("a purchase in the promotion earned %d, want 140", got)
	}
	h.clock.Add(2 * 24 * time.Hour)
	if got := h.purchase(t, m, "after", 1000).Points(); got != 100 {
		t.Fatalf("a purchase after the promotion earned %d, want 100", got)
	}
	// Day 4: the bonus expires on day 10, within the 7-day warning.
	h.clock.Add(2 * 24 * time.Hour)
	for range 2 {
		if _, err := h.RunCampaigns(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	warnings := h.inboxOf(t, m, inbox.KindPointsExpiring)
	if len(warnings) != 1 || warnings[0].Title != "40 points expire soon" {
		t.Fatalf("expiry warnings: %+v", warnings)
	}
	h.clock.Add(7 * 24 * time.Hour)
	if got := h.points(t, m).Balance; got != 200 {
		t.Fatalf("balance after the bonus expired: %d, want 200", got)
	}
	h.checkLedger(t, m)
}
