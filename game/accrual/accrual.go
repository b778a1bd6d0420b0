// Package accrual is how activities earn points: the ledger changes
// (ledger.Change) of a purchase under the program's built-in rules, of a
// built-in rule's own entry (promotion, birthday, check-in, review,
// event), of an earning rule's line, of a community post under its daily
// cap, and of a refund taking back what its purchase earned. Each runs
// inside the member's ledger chain (ledger.Ledger.Append), so what it
// reads of the member's state is serialized with their other entries.
// Package game picks the changes an activity makes and keys their entries.
package accrual

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/game/activity"
	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/game/rules"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/member"
)

// ErrRefundExceedsPurchase refuses a refund that would take back more than
// the purchase's amount (with the refunds before it), wrapped as an input
// error on amountMinor. It is found before anything is written, so the
// refund's activity can be taken back out.
var ErrRefundExceedsPurchase = fault.New(fault.Invalid, "refunds would exceed the purchase")

// Positions counts a member's purchases by date (activity.Store).
type Positions interface {
	PurchasesBefore(ctx context.Context, a *activity.Activity, from time.Time) (int64, error)
}

// Purchase awards a purchase's points on its own entry, as the
// program's built-in rules (rules.ProgramRules) evaluate them: base,
// the escalating multiplier of the member's n-th purchase, the tier
// multiplier and the first-purchase bonus, each a line naming its rule
// and the program version. The points stay pending through the return
// window.
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
// A purchase dated before joinedFrom (rules.JoinedFrom of the member's
// join date; rules.Counted) earns the base rate and the tier multiplier
// only: no escalation, no first-purchase bonus, and it is not counted in
// the positions of the others.
func Purchase(ctx context.Context, p *program.Program, set *rules.Set, acts Positions, joinedFrom time.Time, a *activity.Activity, ra *rules.Activity) ledger.Change {
	return func(st *ledger.State, e *ledger.Entry, now time.Time) (bool, error) {
		// The member as the built-in rules see them, read inside the
		// change: the chain serializes it with the member's other
		// entries, and a retry of the append counts again.
		snap := rules.Snapshot{Tier: p.TierOf(st.Tier.Name)}
		if rules.Counted(a.OccurredAt, joinedFrom) {
			earlier, err := acts.PurchasesBefore(ctx, a, joinedFrom)
			if err != nil {
				return false, err
			}
			snap.Purchase = earlier + 1
			snap.First = st.Purchases == 0
			st.Purchases++
		}
		st.Spend[ledger.MonthKey(a.OccurredAt)] += a.AmountMinor
		e.Reason = "Purchase " + a.ExternalID
		e.Lines = e.Lines[:0]
		var total int64
		for _, l := range set.Evaluate(ra, &snap, nil) {
			if rules.OnPurchaseEntry(l.Rule) {
				e.Lines = append(e.Lines, ledger.Line{Rule: l.Rule, RuleVersion: l.Version, Points: l.Points, Reason: l.Reason})
				total += l.Points
			}
		}
		if total > 0 {
			st.Credit(e, total, a.OccurredAt.AddDate(0, 0, p.ReturnWindowDays), ledger.ExpiresAfter(now, p.PointsExpireDays))
			st.Earn(p, e, total, a.OccurredAt)
		}
		return true, nil
	}
}

// BuiltIn awards one built-in rule's line on an entry of its own: a
// promotion's bonus (pending through the return window, expiring after
// the promotion's days), the birthday bonus or a check-in's, review's or
// event's points (spendable at once).
func BuiltIn(p *program.Program, a *activity.Activity, l rules.Line, reason string) ledger.Change {
	return func(st *ledger.State, e *ledger.Entry, now time.Time) (bool, error) {
		e.Reason = reason
		e.Lines = []ledger.Line{{Rule: l.Rule, RuleVersion: l.Version, Points: l.Points, Reason: l.Reason}}
		availableAt, earnedAt, expireDays := now, now, p.PointsExpireDays
		if strings.HasPrefix(l.Rule, rules.RulePromotion) {
			availableAt, earnedAt = a.OccurredAt.AddDate(0, 0, p.ReturnWindowDays), a.OccurredAt
		}
		if d := l.Effect.ExpiresAfterDays; d != nil {
			expireDays = int(*d)
		}
		st.Credit(e, l.Points, availableAt, ledger.ExpiresAfter(now, expireDays))
		st.Earn(p, e, l.Points, earnedAt)
		return true, nil
	}
}

// Refund takes back what a purchase earned, in proportion to the
// part refunded. Points still pending are cancelled; spendable ones are
// clawed back, never below zero, and what could not be taken is recorded as
// the entry's shortfall.
func Refund(ctx context.Context, p *program.Program, store *ledger.Ledger, refund, purchase *activity.Activity) ledger.Change {
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
			return false, input.Wrap("amountMinor", fmt.Errorf("%w: %s of %s already refunded", ErrRefundExceedsPurchase,
				program.FormatMoney(refunded, purchase.Currency), program.FormatMoney(purchase.AmountMinor, purchase.Currency)))
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
		e.Reason = fmt.Sprintf("Refund of %s on purchase %s", program.FormatMoney(refund.AmountMinor, refund.Currency), purchase.ExternalID)
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

// Rule awards what an earning rule's line l granted after its limits
// (granted points), on an entry of its own: pending through the return
// window for a purchase or the rule's own pending days, expiring after
// the rule's days or the program's.
func Rule(p *program.Program, a *activity.Activity, l rules.Line, granted int64) ledger.Change {
	line := ledger.Line{Rule: l.Rule, RuleVersion: l.Version, Points: granted, Reason: l.Reason}
	if granted < l.Points {
		line.Reason += " (" + strconv.FormatInt(granted, 10) + " of " + strconv.FormatInt(l.Points, 10) + ": the rule's budget ran out)"
	}
	eff := *l.Effect
	return func(st *ledger.State, e *ledger.Entry, now time.Time) (bool, error) {
		// A rule never takes a balance past its bound: it gives what room
		// is left (the activity's own bound does not count the rules).
		pts := min(granted, program.MaxBalance-st.Balance)
		if pts <= 0 {
			return false, nil
		}
		line := line
		line.Points = pts
		e.Reason = l.Rule
		e.Lines = []ledger.Line{line}
		availableAt := now
		if a.Kind == program.ActivityPurchase {
			availableAt = a.OccurredAt.AddDate(0, 0, p.ReturnWindowDays)
		}
		if eff.PendingDays != nil {
			availableAt = a.OccurredAt.AddDate(0, 0, int(*eff.PendingDays))
		}
		expireDays := p.PointsExpireDays
		if eff.ExpiresAfterDays != nil {
			expireDays = int(*eff.ExpiresAfterDays)
		}
		st.Credit(e, pts, availableAt, ledger.ExpiresAfter(now, expireDays))
		st.Earn(p, e, pts, a.OccurredAt)
		return true, nil
	}
}

// communityRule names the daily cap of community points in ledger.State.Capped.
const communityRule = "community"

// CommunityPost awards a post's points, no more than the room left
// under the daily cap of the member's local day of the post. The entry is
// appended even when the cap leaves nothing (amount 0, saying so), so a
// replay on a later day cannot pay what the cap refused. The chain
// serializes a member's entries, so concurrent posts share one cap exactly.
func CommunityPost(p *program.Program, m *member.Member, a *activity.Activity) ledger.Change {
	return func(st *ledger.State, e *ledger.Entry, now time.Time) (bool, error) {
		day := a.OccurredAt.In(m.Location()).Format(time.DateOnly)
		key := communityRule + ":" + day
		pts := p.CommunityPostPoints
		if cap := p.CommunityDailyPointCap; cap > 0 {
			pts = max(0, min(pts, cap-st.Capped[key]))
		}
		if st.Capped == nil {
			st.Capped = map[string]int64{}
		}
		for k := range st.Capped { // keep yesterday for late posts, forget the rest
			if d, ok := strings.CutPrefix(k, communityRule+":"); ok && d < a.OccurredAt.In(m.Location()).AddDate(0, 0, -1).Format(time.DateOnly) {
				delete(st.Capped, k)
			}
		}
		st.Capped[key] += pts
		e.Reason = "Points for your community post"
		why := fmt.Sprintf("%d points per post", p.CommunityPostPoints)
		if pts < p.CommunityPostPoints {
			why = fmt.Sprintf("daily cap of %d community points reached", p.CommunityDailyPointCap)
		}
		e.Lines = []ledger.Line{{Rule: "community-post", Points: pts, Reason: why}}
		if pts > 0 {
			st.Credit(e, pts, now, ledger.ExpiresAfter(now, p.PointsExpireDays))
			st.Earn(p, e, pts, now)
		}
		return true, nil
	}
}
