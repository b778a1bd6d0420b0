package main

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/regulars/regulars/analytics"
	"github.com/regulars/regulars/community"
	"github.com/regulars/regulars/community/events"
	"github.com/regulars/regulars/game/holdout"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/game/reward"
	"github.com/regulars/regulars/game/rules"
	"github.com/regulars/regulars/graph"
)

// intBound is the documented bound of one Int input: the largest value
// accepted, and how to send a value in it (for amounts, prices, stock,
// quantities and scores) to see one past it refused.
type intBound struct {
	max   int64
	field string // extensions.field of a refusal
	send  func(e *probeEnv, v int64) *gqlResponse
}

func sendProgramInt(change func(in map[string]any, v int64)) func(e *probeEnv, v int64) *gqlResponse {
	return func(e *probeEnv, v int64) *gqlResponse {
		in := programVars()
		change(in, v)
		return e.service(updateProgram, map[string]any{"in": in})
	}
}

// intInputs lists every Int input of the schema with its bound; every
// bound is below 2^31, GraphQL's Int.
var intInputs = map[string]intBound{
	// The community (community_inputs_test.go sends them).
	"SpaceInput.slowModeSeconds": {max: community.MaxSlowModeSeconds, field: "slowModeSeconds", send: sendSpaceInt("slowModeSeconds")},
	"Mutation.sanctionMember(durationMinutes)": {max: community.MaxSanctionMinutes, field: "durationMinutes", send: func(e *probeEnv, v int64) *gqlResponse {
		return sendSanction(e, v, "cool down")
	}},
	"ProgramInput.communityPostPoints": {max: program.MaxCommunityPostPoints, field: "communityPostPoints",
		send: sendProgramInt(func(in map[string]any, v int64) { in["communityPostPoints"] = v })},
	"ProgramInput.communityDailyPointCap": {max: program.MaxPoints, field: "communityDailyPointCap",
		send: sendProgramInt(func(in map[string]any, v int64) { in["communityDailyPointCap"] = v })},
	"ProgramInput.communityFlagThreshold": {max: program.MaxCommunityFlagThreshold, field: "communityFlagThreshold",
		send: sendProgramInt(func(in map[string]any, v int64) { in["communityFlagThreshold"] = v })},
	"ProgramInput.communityNewMemberDailyPosts": {max: program.MaxCommunityNewMemberDailyPosts, field: "communityNewMemberDailyPosts",
		send: sendProgramInt(func(in map[string]any, v int64) { in["communityNewMemberDailyPosts"] = v })},
	"ProgramInput.eventNoShowPenaltyEvents": {max: program.MaxEventNoShowPenaltyEvents, field: "eventNoShowPenaltyEvents",
		send: sendProgramInt(func(in map[string]any, v int64) { in["eventNoShowPenaltyEvents"] = v })},
	"ProgramInput.communityEditWindowMinutes": {max: program.MaxCommunityEditWindowMinutes, field: "communityEditWindowMinutes",
		send: sendProgramInt(func(in map[string]any, v int64) { in["communityEditWindowMinutes"] = v })},

	"Mutation.updateProgram(expectedVersion)": {max: program.MaxVersion, field: "expectedVersion", send: func(e *probeEnv, v int64) *gqlResponse {
		return e.service(`mutation($v: Int) { updateProgram(input: {}, expectedVersion: $v) { version } }`, map[string]any{"v": v})
	}},
	"RecordActivityInput.amountMinor": {max: program.MaxAmountMinor, field: "amountMinor", send: func(e *probeEnv, v int64) *gqlResponse {
		vars := purchaseVars(e.member.Member.ID, "amount-"+e.unique(), 0)
		vars["in"].(map[string]any)["amountMinor"] = v
		return e.service(recordActivity, vars)
	}},
	"LineItemInput.priceMinor": {max: program.MaxAmountMinor, field: "items[0].priceMinor", send: func(e *probeEnv, v int64) *gqlResponse {
		vars := purchaseVars(e.member.Member.ID, "price-"+e.unique(), 1000)
		vars["in"].(map[string]any)["items"] = []any{map[string]any{"sku": "TEE-M", "quantity": 1, "priceMinor": v}}
		return e.service(recordActivity, vars)
	}},
	"LineItemInput.quantity": {max: program.MaxQuantity, field: "items[0].quantity", send: func(e *probeEnv, v int64) *gqlResponse {
		vars := purchaseVars(e.member.Member.ID, "qty-"+e.unique(), 1000)
		vars["in"].(map[string]any)["items"] = []any{map[string]any{"sku": "TEE-M", "quantity": v, "priceMinor": 1000}}
		return e.service(recordActivity, vars)
	}},
	"Mutation.adjustPoints(amount)": {max: program.MaxPoints, field: "amount", send: func(e *probeEnv, v int64) *gqlResponse {
		return e.service(`mutation($id: ID!, $n: Int!, $key: String!) { adjustPoints(memberId: $id, amount: $n, reason: "goodwill", idempotencyKey: $key) { id } }`,
			map[string]any{"id": e.member.Member.ID, "n": v, "key": "bound-" + e.unique()})
	}},
	"RewardInput.cost": {max: program.MaxPoints, field: "cost", send: func(e *probeEnv, v int64) *gqlResponse {
		return e.service(`mutation($n: Int!) { createReward(input: {name: "Mug", cost: $n}) { id } }`, map[string]any{"n": v})
	}},
	"RewardInput.stock": {max: 1_000_000, field: "stock", send: func(e *probeEnv, v int64) *gqlResponse {
		return e.service(`mutation($n: Int!) { createReward(input: {name: "Mug", cost: 10, stock: $n}) { id } }`, map[string]any{"n": v})
	}},
	"RewardInput.perMemberLimit": {max: 1000},
	"RewardInput.validDays": {max: reward.MaxValidDays, field: "validDays", send: func(e *probeEnv, v int64) *gqlResponse {
		return e.service(`mutation($n: Int!) { createReward(input: {name: "Mug", cost: 10, validDays: $n}) { id } }`, map[string]any{"n": v})
	}},
	"OfferBenefitInput.value": {max: program.MaxPoints, field: "benefit.value", send: func(e *probeEnv, v int64) *gqlResponse {
		in := map[string]any{"title": "Gold night", "body": "Bonus", "benefit": map[string]any{"kind": "BONUS_POINTS", "value": v},
			"startsAt": "2026-01-01T00:00:00Z", "endsAt": "2036-01-01T00:00:00Z"}
		return e.service(`mutation($in: OfferInput!) { createOffer(input: $in) { id } }`, map[string]any{"in": in})
	}},
	"BadgeLevelInput.threshold": {max: program.MaxBalance, field: "levels[0].threshold", send: func(e *probeEnv, v int64) *gqlResponse {
		return e.service(`mutation($n: Int!) { createBadge(input: {name: "Big", counter: PURCHASES, levels: [{name: "B", threshold: $n}]}) { id } }`, map[string]any{"n": v})
	}},
	"BadgeLevelInput.bonusPoints": {max: program.MaxPoints},
	"TierInput.threshold": {max: program.MaxThreshold, field: "tiers[1].threshold", send: sendProgramInt(func(in map[string]any, v int64) {
		in["tiers"].([]map[string]any)[1]["threshold"] = v
	})},
	"ReferralRulesInput.minPurchaseMinor": {max: program.MaxAmountMinor, field: "referral.minPurchaseMinor", send: sendProgramInt(func(in map[string]any, v int64) {
		in["referral"].(map[string]any)["minPurchaseMinor"] = v
	})},
	"ProgramInput.pointsPerUnit": {max: program.MaxPoints, field: "pointsPerUnit", send: sendProgramInt(func(in map[string]any, v int64) { in["pointsPerUnit"] = v })},
	"PromotionInput.bonusPoints": {max: program.MaxPoints, field: "promotions[0].bonusPoints", send: sendProgramInt(func(in map[string]any, v int64) {
		p := promotion("p1", "Happy hour")
		p[0].(map[string]any)["bonusPoints"] = v
		in["promotions"] = p
	})},
	"StreakRulesInput.freezePrice":          {max: program.MaxPoints},
	"ProgramInput.firstPurchaseBonus":       {max: program.MaxPoints},
	"ProgramInput.birthdayBonus":            {max: program.MaxPoints},
	"ProgramInput.checkInPoints":            {max: program.MaxPoints},
	"ProgramInput.reviewPoints":             {max: program.MaxPoints},
	"ReferralRulesInput.referrerPoints":     {max: program.MaxPoints},
	"ReferralRulesInput.refereePoints":      {max: program.MaxPoints},
	"ProgramInput.escalation":               {max: 10},
	"TierInput.earnMultiplierPercent":       {max: 1000},
	"ReferralRulesInput.monthlyCap":         {max: 10000},
	"ReferralRulesInput.reversalWindowDays": {max: 365},
	"ProgramInput.pointsExpireDays":         {max: 3650},
	"ProgramInput.returnWindowDays":         {max: 365},
	"ProgramInput.tierWindowMonths":         {max: 60},
	"ProgramInput.tierGraceDays":            {max: 365},
	"ProgramInput.leaderboardGraceHours":    {max: 24 * 14},
	"ProgramInput.pointValueMinor":          {max: program.MaxPointValueMinor},
	"Analytics.ltv(horizons)":               {max: analytics.MaxHorizonDays},
	"Analytics.campaignResults(withinDays)": {max: analytics.MaxWithinDays},
	"CampaignsInput.holdoutPercent":         {max: program.MaxHoldoutPercent},
	"OfferInput.holdoutPercent":             {max: holdout.MaxPercent},
	"PromotionInput.expiresAfterDays":       {max: 365},
	"StreakRulesInput.atRiskHour":           {max: 23},
	"StreakRulesInput.freezeEvery":          {max: 365},
	"StreakRulesInput.freezeMax":            {max: 30},
	"CampaignsInput.birthdayHour":           {max: 23},
	"CampaignsInput.couponExpiringHours":    {max: 720},
	"CampaignsInput.pointsExpiringDays":     {max: 365},
	"CampaignsInput.winBackDays":            {max: 3650},
	"OfferInput.couponValidDays":            {max: 365},
	"OfferTargetingInput.inactiveDays":      {max: 3650},
	"Points.expiringSoon(withinDays)":       {max: 3650},
	"Query.aroundMe(radius)":                {max: 50},
	"EventInput.capacity":                   {max: events.MaxCapacity, field: "capacity", send: probeEventInt("capacity")},
	"EventInput.guestsPerMember":            {max: events.MaxGuests, field: "guestsPerMember", send: probeEventInt("guestsPerMember")},
	"EventInput.claimWindowMinutes":         {max: events.MaxWindowMinutes, field: "claimWindowMinutes", send: probeEventInt("claimWindowMinutes")},
	"EventInput.openCallMinutes":            {max: events.MaxWindowMinutes, field: "openCallMinutes", send: probeEventInt("openCallMinutes")},
	"EventInput.pricePoints":                {max: events.MaxPrice, field: "pricePoints", send: probeEventInt("pricePoints")},
	"EventInput.refundCutoffHours":          {max: events.MaxRefundCutoffHours, field: "refundCutoffHours", send: probeEventInt("refundCutoffHours")},
	"ProgramInput.eventAttendancePoints": {max: program.MaxPoints, field: "eventAttendancePoints", send: sendProgramInt(func(in map[string]any, v int64) {
		in["eventAttendancePoints"] = v
	})},
	"Mutation.rsvp(guests)": {max: events.MaxGuests, field: "guests", send: func(e *probeEnv, v int64) *gqlResponse {
		return e.a.do(e.t, e.member.bearer(), rsvpMutation, map[string]any{"id": e.event(), "g": v, "k": "guests-" + e.unique()})
	}},

	// Earning rules (game/rules).
	"RuleConditionInput.basketTotalAtLeast": {max: program.MaxAmountMinor, field: "conditions[0].basketTotalAtLeast",
		send: sendRuleInt(func(in map[string]any, v int64) { in["conditions"] = []any{map[string]any{"basketTotalAtLeast": v}} })},
	"ItemConditionInput.minQuantity": {max: program.MaxQuantity, field: "conditions[0].items.minQuantity",
		send: sendRuleInt(func(in map[string]any, v int64) {
			in["conditions"] = []any{map[string]any{"items": map[string]any{"skus": []string{"X"}, "minQuantity": v}}}
		})},
	"RuleEffectInput.fixedPoints": {max: program.MaxPoints, field: "effect.fixedPoints",
		send: sendRuleInt(func(in map[string]any, v int64) { in["effect"] = map[string]any{"fixedPoints": v} })},
	"RuleLimitsInput.budgetPoints": {max: program.MaxBalance, field: "limits.budgetPoints",
		send: sendRuleInt(func(in map[string]any, v int64) { in["limits"] = map[string]any{"budgetPoints": v} })},
	"RuleEffectInput.pointsPerUnit":                   {max: program.MaxPoints},
	"RuleEffectInput.pointsPerItem":                   {max: program.MaxPoints},
	"RuleEffectInput.multiplierPercent":               {max: rules.MaxMultiplierPercent},
	"RuleEffectInput.expiresAfterDays":                {max: rules.MaxDays},
	"RuleEffectInput.pendingDays":                     {max: rules.MaxPendingDays},
	"RuleLimitsInput.perMember":                       {max: rules.MaxTimes},
	"RuleLimitsInput.perMemberPerDay":                 {max: rules.MaxTimes},
	"RuleLimitsInput.perMemberPerPeriod":              {max: rules.MaxTimes},
	"RuleLimitsInput.periodDays":                      {max: rules.MaxDays},
	"RuleConditionInput.nthPurchase":                  {max: rules.MaxNthPurchase},
	"RuleConditionInput.daysSinceLastPurchaseAtLeast": {max: rules.MaxDays},
	"HourWindowInput.from":                            {max: 23},
	"HourWindowInput.to":                              {max: 24},
	"EarningRuleInput.priority":                       {max: rules.MaxPriority},
	"Mutation.updateEarningRule(expectedVersion)":     {max: program.MaxVersion},

	// Push notifications (package push).
	"PushRulesInput.quietHoursStart": {max: 23, field: "push.quietHoursStart", send: sendPushRule("quietHoursStart")},
	"PushRulesInput.quietHoursEnd":   {max: 23, field: "push.quietHoursEnd", send: sendPushRule("quietHoursEnd")},
	"PushRulesInput.marketingDailyCap": {max: program.MaxMarketingDailyCap, field: "push.marketingDailyCap",
		send: sendPushRule("marketingDailyCap")},
}

func sendPushRule(field string) func(e *probeEnv, v int64) *gqlResponse {
	return sendProgramInt(func(in map[string]any, v int64) { in["push"] = map[string]any{field: v} })
}

func probeEventInt(field string) func(e *probeEnv, v int64) *gqlResponse {
	send := sendEvent(func(in map[string]any, v any) { in[field] = v })
	return func(e *probeEnv, v int64) *gqlResponse { return send(e.a, e.t, v) }

}

// isPageSize: every connection's first is 1 to 100 (graph's paging).
func isPageSize(key string) bool { return strings.HasSuffix(key, "(first)") }

// TestEveryIntInputIsBounded walks the schema: each Int input has a
// documented bound below 2^31, and one past the bound of each amount,
// price, stock, quantity and score is refused with BAD_USER_INPUT naming
// it (as is the 50,000,000,000-cent purchase), writing nothing.
func TestEveryIntInputIsBounded(t *testing.T) {
	schema := graph.Schema()
	isInt := func(t *ast.Type) bool {
		for t.Elem != nil {
			t = t.Elem
		}
		return t.NamedType == "Int"
	}
	var inSchema []string
	for _, def := range schema.Types {
		if strings.HasPrefix(def.Name, "__") {
			continue
		}
		for _, f := range def.Fields {
			if def.Kind == ast.InputObject && isInt(f.Type) {
				inSchema = append(inSchema, def.Name+"."+f.Name)
			}
			for _, arg := range f.Arguments {
				if isInt(arg.Type) {
					inSchema = append(inSchema, fmt.Sprintf("%s.%s(%s)", def.Name, f.Name, arg.Name))
				}
			}
		}
	}
	for _, k := range inSchema {
		if _, ok := intInputs[k]; !ok && !isPageSize(k) {
			t.Errorf("%s is an Int input without a documented bound: add it to intInputs", k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(intInputs)) {
		if !slices.Contains(inSchema, k) {
			t.Errorf("intInputs lists %s, which the schema no longer has", k)
		}
		if intInputs[k].max > math.MaxInt32 {
			t.Errorf("%s: bound %d passes GraphQL's 32-bit Int", k, intInputs[k].max)
		}
	}
	// The bounds keep what is derived from them below 2^31 as well.
	if program.MaxBalance > math.MaxInt32 || program.MaxActivityPoints > program.MaxBalance {
		t.Errorf("balance bound %d, activity bound %d", program.MaxBalance, program.MaxActivityPoints)
	}

	a := startApp(t, map[string]string{"RATE_LIMIT_IP_RPS": "100000", "RATE_LIMIT_IP_BURST": "100000"})
	a.setProgram(t)
	e := &probeEnv{t: t, a: a, member: a.signUp(t, "ann@example.com")}
	for _, k := range slices.Sorted(maps.Keys(intInputs)) {
		b := intInputs[k]
		if b.send == nil {
			continue
		}
		t.Run(k, func(t *testing.T) {
			e.t = t
			for _, v := range []int64{b.max + 1, math.MaxInt32 + 1, 50_000_000_000} {
				if r := e.send(b, v); r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != b.field {
					t.Errorf("%d: want BAD_USER_INPUT on %s, got %+v", v, b.field, r.Errors)
				}
			}
		})
	}
	// The example: refused, nothing written, the board untouched.
	e.t = t
	var pts struct{ Points struct{ Balance int } }
	a.do(t, e.member.bearer(), `{ me { points { balance } } }`, nil).decode(t, "me", &pts)
	if pts.Points.Balance != 0 {
		t.Fatalf("refused amounts changed the balance to %d", pts.Points.Balance)
	}
}

func (e *probeEnv) send(b intBound, v int64) *gqlResponse { return b.send(e, v) }

// One purchase can earn at most program.MaxActivityPoints, counted at the
// program's highest multipliers, and no balance passes program.MaxBalance.
func TestPointsPerActivityAndBalanceBounded(t *testing.T) {
	a := startApp(t, nil)
	a.setProgram(t) // 10 points per dollar, escalation up to 3×, tiers up to 125%
	ann := a.signUp(t, "ann@example.com")
	// 5,000,000.00 USD could earn 50,000,000 × 3 × 1.25 points: past the bound.
	r := a.service(t, recordActivity, purchaseVars(ann.Member.ID, "big", 500_000_000))
	if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "amountMinor" {
		t.Fatalf("a purchase past the points bound: %+v", r.Errors)
	}
	var ok activityResult
	a.service(t, recordActivity, purchaseVars(ann.Member.ID, "fine", 100_000_000)).decode(t, "recordActivity", &ok)
	if ok.Points <= 0 || ok.Points > program.MaxActivityPoints {
		t.Fatalf("a purchase within the bound earned %d", ok.Points)
	}
	// Credits past the balance bound are refused: with 10,000,000 points a
	// dollar, each 9.99 purchase earns just under the activity bound.
	in := programVars()
	in["pointsPerUnit"], in["escalation"] = program.MaxPoints, []int{}
	in["tiers"] = []map[string]any{{"name": "Member", "threshold": 0, "earnMultiplierPercent": 100, "benefits": []string{}}}
	a.service(t, updateProgram, map[string]any{"in": in}).decode(t, "updateProgram", &struct{ Version int }{})
	refused := false
	for i := range 12 {
		r := a.service(t, recordActivity, purchaseVars(ann.Member.ID, fmt.Sprint("rich-", i), 999))
		if r.code() == "BAD_USER_INPUT" {
			if r.Errors[0].Extensions["field"] != "amountMinor" {
				t.Fatalf("refusal names %v", r.Errors[0].Extensions["field"])
			}
			refused = true
			break
		}
		if len(r.Errors) > 0 {
			t.Fatalf("purchase %d: %+v", i, r.Errors)
		}
	}
	if !refused {
		t.Fatal("no purchase was refused at the balance bound")
	}
	var pts struct{ Points struct{ Balance int64 } }
	a.do(t, ann.bearer(), `{ me { points { balance } } }`, nil).decode(t, "me", &pts)
	if pts.Points.Balance > program.MaxBalance || pts.Points.Balance < program.MaxBalance-program.MaxActivityPoints {
		t.Fatalf("balance %d, want just under %d", pts.Points.Balance, program.MaxBalance)
	}
}
