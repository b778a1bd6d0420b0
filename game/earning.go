package game

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/member"
)

// earnPurchase awards a purchase's points: the base rate, the escalating
// multiplier of the member's n-th purchase, the first-purchase bonus and the
// tier multiplier, each a line of one entry. The points stay pending
// through the return window.
//
// n is the purchase's position by date (occurredAt), fixed when its points
// are awarded: 1 + the member's purchases recorded by then that are dated
// earlier (at the same instant: recorded earlier, by id). A late or
// backdated report thus gets the position of its date among the purchases
// known, and never re-rates purchases already awarded: points granted are
// not taken back, so two purchases can share a position. Refunds do not
// change positions. The first-purchase bonus is paid once, with the first
// purchase awarded, whatever its date.
//
// A purchase dated before joinedFrom (the member joined) earns the base
// rate and the tier multiplier only: no escalation, no first-purchase
// bonus, and it is not counted in the positions of the others.
func earnPurchase(ctx context.Context, p *program.Program, acts activityStore, joinedFrom time.Time, a *Activity) ledger.Change {
	return func(st *ledger.State, e *ledger.Entry, now time.Time) (bool, error) {
		base := a.AmountMinor * p.PointsPerUnit / program.MinorPerUnit(p.Currency)
		var n int64 // 0: before joining, no position
		first := false
		if !a.OccurredAt.Before(joinedFrom) {
			// Counted inside the change, so a retry of the append counts again.
			earlier, err := acts.purchasesBefore(ctx, a, joinedFrom)
			if err != nil {
				return false, err
			}
			n = earlier + 1
			first = st.Purchases == 0
			st.Purchases++
		}
		st.Spend[ledger.MonthKey(a.OccurredAt)] += a.AmountMinor
		e.Reason = "Purchase " + a.ExternalID
		e.Lines = []ledger.Line{{Rule: "base", Points: base,
			Reason: fmt.Sprintf("%d points per %s on %s", p.PointsPerUnit, p.Currency, formatMoney(a.AmountMinor, p.Currency))}}
		if i := int(n) - 2; i >= 0 && i < len(p.Escalation) && p.Escalation[i] > 1 {
			mult := p.Escalation[i]
			e.Lines = append(e.Lines, ledger.Line{Rule: "escalation", Points: base * (mult - 1),
				Reason: fmt.Sprintf("%d× points on your %s purchase", mult, ordinal(n))})
		}
		if t, ok := p.TierNamed(st.Tier.Name); ok && t.EarnMultiplierPercent > 100 {
			e.Lines = append(e.Lines, ledger.Line{Rule: "tier", Points: base * (t.EarnMultiplierPercent - 100) / 100,
				Reason: fmt.Sprintf("%s tier earns %d%% of base points", t.Name, t.EarnMultiplierPercent)})
		}
		if first && p.FirstPurchaseBonus > 0 {
			e.Lines = append(e.Lines, ledger.Line{Rule: "first-purchase", Points: p.FirstPurchaseBonus, Reason: "bonus for your first purchase"})
		}
		var total int64
		for _, l := range e.Lines {
			total += l.Points
		}
		if total > 0 {
			st.Credit(e, total, a.OccurredAt.AddDate(0, 0, p.ReturnWindowDays), ledger.ExpiresAfter(now, p.PointsExpireDays))
			st.Earn(p, e, total, a.OccurredAt)
		}
		return true, nil
	}
}

// earnPromotion awards a promotion's bonus on a purchase; it expires soon.
func earnPromotion(p *program.Program, pr program.Promotion, a *Activity) ledger.Change {
	return func(st *ledger.State, e *ledger.Entry, now time.Time) (bool, error) {
		e.Reason = pr.Name
		e.Lines = []ledger.Line{{Rule: "promotion:" + pr.ID, Points: pr.BonusPoints,
			Reason: fmt.Sprintf("%s: bonus on purchase %s, valid %d days", pr.Name, a.ExternalID, pr.ExpiresAfterDays)}}
		st.Credit(e, pr.BonusPoints, a.OccurredAt.AddDate(0, 0, p.ReturnWindowDays), ledger.ExpiresAfter(now, pr.ExpiresAfterDays))
		st.Earn(p, e, pr.BonusPoints, a.OccurredAt)
		return true, nil
	}
}

// earnFlat awards a fixed number of points, spendable at once.
func earnFlat(p *program.Program, rule string, points int64) ledger.Change {
	return func(st *ledger.State, e *ledger.Entry, now time.Time) (bool, error) {
		e.Reason = "Points for your " + rule
		e.Lines = []ledger.Line{{Rule: rule, Points: points, Reason: fmt.Sprintf("%d points per %s", points, rule)}}
		st.Credit(e, points, now, ledger.ExpiresAfter(now, p.PointsExpireDays))
		st.Earn(p, e, points, now)
		return true, nil
	}
}

// refundPurchase takes back what a purchase earned, in proportion to the
// part refunded. Points still pending are cancelled; spendable ones are
// clawed back, never below zero, and what could not be taken is recorded as
// the entry's shortfall.
func refundPurchase(ctx context.Context, p *program.Program, store *ledger.Ledger, refund, purchase *Activity) ledger.Change {
	return func(st *ledger.State, e *ledger.Entry, now time.Time) (bool, error) {
		// Read inside the change: the chain serializes this with every other
		// entry of the member, so two refunds cannot both pass the check.
		effects, err := store.BySource(ctx, purchase.MemberID, purchase.ID.Hex())
		if err != nil {
			return false, err
		}
		prior, err := store.RefundsOf(ctx, purchase.MemberID, purchase.ID.Hex())
		if err != nil {
			return false, err
		}
		var earned, refunded, intended int64
		var lot *bson.ObjectID
		for _, f := range effects {
			if f.Type == ledger.EntryEarn && f.Amount > 0 {
				earned += f.Amount
				if f.Key == "act:"+purchase.ID.Hex() {
					lot = &f.ID
				}
			}
		}
		for _, r := range prior {
			refunded += r.RefundMinor
			intended += -r.Amount + r.Shortfall
		}
		if refunded+refund.AmountMinor > purchase.AmountMinor {
			return false, input.Errorf("amountMinor", "refunds would exceed the purchase: %s of %s already refunded",
				formatMoney(refunded, purchase.Currency), formatMoney(purchase.AmountMinor, purchase.Currency))
		}
		target := earned*(refunded+refund.AmountMinor)/purchase.AmountMinor - intended
		pending := false
		for _, l := range st.Lots {
			if lot != nil && l.ID == *lot && l.AvailableAt.After(now) {
				pending = true
			}
		}
		taken := st.Debit(e, target, now, true, lot)
		e.Shortfall = target - taken
		e.RefundMinor, e.RefundOf = refund.AmountMinor, purchase.ID.Hex()
		st.Spend[ledger.MonthKey(purchase.OccurredAt)] -= refund.AmountMinor
		st.Earn(p, e, -target, purchase.OccurredAt)
		e.Reason = fmt.Sprintf("Refund of %s on purchase %s", formatMoney(refund.AmountMinor, refund.Currency), purchase.ExternalID)
		why := "points earned on the refunded part are taken back"
		if pending {
			why = "pending points of the refunded part are cancelled"
		}
		if e.Shortfall > 0 {
			why += fmt.Sprintf("; %d could not be taken because they were already spent", e.Shortfall)
		}
		e.Lines = []ledger.Line{{Rule: "refund", Points: -taken, Reason: why}}
		return true, nil
	}
}

// birthdayReward credits the birthday bonus once a year, on the member's
// first activity in their birthday month (in their own timezone).
func (s *Service) birthdayReward(ctx context.Context, fx *effects, p *program.Program, m *member.Member, a *Activity) (*ledger.Entry, bool, error) {
	if p.BirthdayBonus == 0 || m.Birthday == nil || a.Kind == program.ActivityRefund {
		return nil, false, nil
	}
	local := s.now().In(m.Location())
	if local.Month() != m.Birthday.Month {
		return nil, false, nil
	}
	return s.appendEntry(ctx, fx, p, m.ID, "birthday:"+strconv.Itoa(local.Year()), ledger.EntryEarn,
		ledger.Source{Kind: ledger.SourceBirthday, ID: a.ID.Hex()},
		func(st *ledger.State, e *ledger.Entry, now time.Time) (bool, error) {
			e.Reason = "Happy birthday!"
			e.Lines = []ledger.Line{{Rule: "birthday", Points: p.BirthdayBonus, Reason: fmt.Sprintf("birthday reward for %d", local.Year())}}
			st.Credit(e, p.BirthdayBonus, now, ledger.ExpiresAfter(now, p.PointsExpireDays))
			st.Earn(p, e, p.BirthdayBonus, now)
			return true, nil
		})
}

func formatMoney(minor int64, cur string) string {
	unit := program.MinorPerUnit(cur)
	if unit == 1 {
		return fmt.Sprintf("%d %s", minor, cur)
	}
	digits := len(strconv.FormatInt(unit, 10)) - 1
	return fmt.Sprintf("%d.%0*d %s", minor/unit, digits, minor%unit, cur)
}

func ordinal(n int64) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return strconv.FormatInt(n, 10) + suffix
}
