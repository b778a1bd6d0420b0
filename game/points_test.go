package game

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/game/referral"
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
		if err != nil || e.Amount != 200 || e.Type != ledger.EntryAdjust || e.Reason != "sorry about the queue" {
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
	if e, ok := input.As(err); !ok || e.Field != "amount" || !errors.Is(err, ledger.ErrInsufficientPoints) {
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

// A refund of the qualifying purchase within the reversal window takes the
// referral points back from both sides, once; after the window it does not.
func TestRefundReversesReferralWithinWindow(t *testing.T) {
	h := newHarness(t, func(p *program.Program) { p.FirstPurchaseBonus = 0; p.Escalation = nil })
	ctx := context.Background()
	ann := h.members.add("ann@example.com")
	if _, err := h.Rooms().Referrals.Enroll(ctx, ann, nil); err != nil {
		t.Fatal(err)
	}
	refer := func(email string) *member.Member {
		m := h.members.add(email)
		if _, err := h.Rooms().Referrals.Enroll(ctx, m, &ann.ID); err != nil {
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
			if _, err := h.RecordActivity(ctx, ActivityInput{MemberID: m.ID, Kind: program.ActivityRefund, ExternalID: "r-" + of,
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
	if n := testkit.Count(t, h.db.Collection("referral_conversions"), bson.D{{Key: "status", Value: referral.ConversionReversed}}); n != 1 {
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
	p := program.Default()
	p.ReturnWindowDays, p.BirthdayBonus, p.FirstPurchaseBonus, p.Escalation = 0, 0, 0, nil
	p.PointsExpireDays = 60
	p.Campaigns.Holdout = new(0) // the warning goes to every member
	p.Promotions = []program.Promotion{{ID: "summer", Name: "Summer bonus", BonusPoints: 40, StartsAt: now.Add(-time.Hour), EndsAt: now.Add(24 * time.Hour), ExpiresAfterDays: 10}}
	if _, err := h.UpdateProgram(ctx, nil, program.Replace(p)); err != nil {
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
		if _, err := h.Rooms().Campaigns.Run(ctx, nil); err != nil {
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
