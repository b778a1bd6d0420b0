package main

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/testkit"
)

const ruleFields = `id version status name budgetSpent conditions { tiers daysOfWeek items { skus categories minQuantity } }`

type ruleOut struct {
	ID      string `json:"id"`
	Version int    `json:"version"`
	Status  string `json:"status"`
	Name    string `json:"name"`
}

// The four promotions written through GraphQL earn what a hand
// computation says on purchases in the program's timezone; lines name the
// rule and its version; explainEarning and a dry run answer BRAND only,
// and bad rules are refused naming the field with nothing written.
func TestEarningRulesEndToEnd(t *testing.T) {
	a := startApp(t, nil)
	a.setProgram(t)
	a.service(t, `mutation { updateProgram(input: {timezone: "America/New_York", firstPurchaseBonus: 0, escalation: []}) { version } }`, nil).
		decode(t, "updateProgram", &struct{ Version int }{})
	now := time.Now().UTC()
	today := strings.ToUpper(now.In(mustZone(t, "America/New_York")).Weekday().String())
	create := func(in map[string]any) ruleOut {
		t.Helper()
		var r ruleOut
		a.service(t, `mutation($in: EarningRuleInput!) { createEarningRule(input: $in) { `+ruleFields+` } }`, map[string]any{"in": in}).
			decode(t, "createEarningRule", &r)
		return r
	}
	rides := create(map[string]any{"name": "Triple Rides weekend", "trigger": "PURCHASE",
		"startsAt": now.Add(-time.Hour).Format(time.RFC3339), "endsAt": now.Add(48 * time.Hour).Format(time.RFC3339),
		"conditions": []any{map[string]any{"items": map[string]any{"categories": []string{"rides"}}}},
		"effect":     map[string]any{"multiplierPercent": 300}})
	create(map[string]any{"name": "First visit to the new store", "trigger": "PURCHASE",
		"conditions": []any{map[string]any{"items": map[string]any{"skus": []string{"STORE-42"}}}},
		"effect":     map[string]any{"fixedPoints": 200}, "limits": map[string]any{"perMember": 1}})
	create(map[string]any{"name": "Silver days", "trigger": "PURCHASE",
		"conditions": []any{map[string]any{"tiers": []string{"Silver"}}, map[string]any{"daysOfWeek": []string{today}}},
		"effect":     map[string]any{"multiplierPercent": 200}})
	create(map[string]any{"name": "SKU X", "trigger": "PURCHASE",
		"conditions": []any{map[string]any{"items": map[string]any{"skus": []string{"X"}}}},
		"effect":     map[string]any{"pointsPerItem": 5}, "limits": map[string]any{"perMember": 3}})

	ann := a.signUp(t, "ann@example.com")
	buy := func(ext string, items []map[string]any) (int, map[string][2]int, string) {
		t.Helper()
		var total int
		for _, it := range items {
			total += it["quantity"].(int) * it["priceMinor"].(int)
		}
		var res struct {
			Points   int `json:"points"`
			Activity struct{ ID string }
			Entries  []struct {
				Lines []struct {
					Rule        string
					RuleVersion *int
					Points      int
					Reason      string
				}
			}
		}
		a.service(t, `mutation($in: RecordActivityInput!) { recordActivity(input: $in) { points activity { id } entries { lines { rule ruleVersion points reason } } } }`,
			map[string]any{"in": map[string]any{"memberId": ann.Member.ID, "kind": "PURCHASE", "externalId": ext, "amountMinor": total,
				"currency": "USD", "occurredAt": time.Now().UTC().Format(time.RFC3339), "items": items}}).decode(t, "recordActivity", &res)
		lines := map[string][2]int{}
		for _, e := range res.Entries {
			for _, l := range e.Lines {
				v := 0
				if l.RuleVersion != nil {
					v = *l.RuleVersion
				}
				lines[l.Rule] = [2]int{l.Points, v}
			}
		}
		return res.Points, lines, res.Activity.ID
	}
	// 30.00 of rides (2 × 15.00) and 20.00 of food, with the new store and 4 × SKU X at 2.50:
	// base 600; rides 2 × 300; store 200; SKU X 20.
	pts, lines, first := buy("r-1", []map[string]any{{"sku": "R1", "category": "rides", "quantity": 2, "priceMinor": 1500},
		{"sku": "T", "category": "food", "quantity": 1, "priceMinor": 2000}, {"sku": "STORE-42", "quantity": 1, "priceMinor": 0},
		{"sku": "X", "quantity": 4, "priceMinor": 250}})
	if pts != 600+600+200+20 || lines["Triple Rides weekend"] != [2]int{600, 1} || lines["First visit to the new store"] != [2]int{200, 1} || lines["SKU X"] != [2]int{20, 1} {
		t.Errorf("first purchase: %d points, lines %v", pts, lines)
	}
	// Ann is Silver now (1,420 earned): 2× on today's purchase; the new store pays once.
	pts, lines, _ = buy("r-2", []map[string]any{{"sku": "STORE-42", "quantity": 1, "priceMinor": 1000}})
	if pts != 125+100 || lines["Silver days"] != [2]int{100, 1} || lines["First visit to the new store"][0] != 0 {
		t.Errorf("second purchase: %d points (want 125 at Silver's 1.25× and 100 for Silver days), lines %v", pts, lines)
	}

	// explainEarning: the program's built-in rules for a purchase, then
	// every active rule, matched or not, with the first failing condition.
	var ex struct {
		RuleSetVersion int
		Tier           *string
		Rules          []struct {
			Rule struct {
				ruleOut
				BuiltIn bool `json:"builtIn"`
			}
			Matched         bool
			Applied         bool
			FailedCondition *string
			Points          int
		}
	}
	a.service(t, `query($id: ID!) { explainEarning(activityId: $id) { ruleSetVersion tier rules { rule { id name version builtIn } matched applied failedCondition points } } }`,
		map[string]any{"id": first}).decode(t, "explainEarning", &ex)
	brand, base := 0, ""
	for _, v := range ex.Rules {
		if !v.Rule.BuiltIn {
			brand++
		} else if v.Rule.Name == "base" && v.Applied && v.Points == 600 {
			base = v.Rule.ID
		}
	}
	if brand != 4 || base == "" || ex.RuleSetVersion != 4 || ex.Tier == nil || *ex.Tier != "Member" {
		t.Fatalf("explanation: %+v", ex)
	}
	// A built-in rule is a Node too, at the program's version.
	var builtIn struct {
		Name    string
		BuiltIn bool
	}
	a.service(t, `query($id: ID!) { node(id: $id) { ... on EarningRule { name builtIn } } }`, map[string]any{"id": base}).decode(t, "node", &builtIn)
	if builtIn.Name != "base" || !builtIn.BuiltIn {
		t.Errorf("built-in rule as a node: %+v", builtIn)
	}
	for _, v := range ex.Rules {
		if v.Rule.Name == "Silver days" && (v.Matched || v.FailedCondition == nil || *v.FailedCondition != "not tier Silver") {
			t.Errorf("Silver days on a Member's purchase: %+v", v)
		}
	}
	// A rule is a Node: BRAND refetches it, a member gets NOT_FOUND.
	var node struct{ Name string }
	a.service(t, `query($id: ID!) { node(id: $id) { ... on EarningRule { name } } }`, map[string]any{"id": rides.ID}).decode(t, "node", &node)
	if node.Name != "Triple Rides weekend" {
		t.Errorf("node(id:) of a rule: %+v", node)
	}
	if r := a.do(t, ann.bearer(), `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": rides.ID}); r.code() != "NOT_FOUND" {
		t.Errorf("a member's node(id:) of a rule: %+v", r.Errors)
	}
	// Members may not read or write rules.
	if r := a.do(t, ann.bearer(), `{ earningRules(first: 5) { edges { node { id } } } }`, nil); r.code() != "FORBIDDEN" {
		t.Errorf("a member reading rules: %+v", r.Errors)
	}

	// Bad rules: BAD_USER_INPUT naming the field, nothing written.
	for field, in := range map[string]map[string]any{
		"effect.multiplierPercent": {"name": "Bad", "trigger": "PURCHASE", "effect": map[string]any{"multiplierPercent": -2}},
		"endsAt": {"name": "Bad", "trigger": "PURCHASE", "effect": map[string]any{"fixedPoints": 1},
			"startsAt": now.Format(time.RFC3339), "endsAt": now.Add(-time.Hour).Format(time.RFC3339)},
		"limits.budgetPoints":    {"name": "Bad", "trigger": "PURCHASE", "effect": map[string]any{"fixedPoints": 1}, "limits": map[string]any{"budgetPoints": -1}},
		"timezone":               {"name": "Bad", "trigger": "PURCHASE", "effect": map[string]any{"fixedPoints": 1}, "timezone": "Mars/Olympus"},
		"conditions[0].tiers[0]": {"name": "Bad", "trigger": "PURCHASE", "effect": map[string]any{"fixedPoints": 1}, "conditions": []any{map[string]any{"tiers": []string{"Platinum"}}}},
		"conditions[0]":          {"name": "Bad", "trigger": "PURCHASE", "effect": map[string]any{"fixedPoints": 1}, "conditions": []any{map[string]any{}}},
	} {
		r := a.service(t, createEarningRule, map[string]any{"in": in})
		if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != field {
			t.Errorf("%s: %+v", field, r.Errors)
		}
	}
	excl := map[string]any{"name": "VIP", "trigger": "PURCHASE", "effect": map[string]any{"fixedPoints": 1}, "priority": 50, "exclusive": true}
	var vip ruleOut
	a.service(t, createEarningRule, map[string]any{"in": excl}).decode(t, "createEarningRule", &vip)
	if r := a.service(t, createEarningRule, map[string]any{"in": excl}); r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "priority" {
		t.Errorf("two exclusive rules at one priority: %+v", r.Errors)
	}
	var list struct{ Edges []struct{ Node ruleOut } }
	a.service(t, `{ earningRules(first: 50) { edges { node { id name status } } } }`, nil).decode(t, "earningRules", &list)
	if len(list.Edges) != 5 {
		t.Errorf("%d rules stored, want the 4 examples and VIP", len(list.Edges))
	}

	// Pause, then the history keeps both versions.
	var paused ruleOut
	a.service(t, `mutation($id: ID!) { pauseEarningRule(id: $id) { id version status } }`, map[string]any{"id": rides.ID}).decode(t, "pauseEarningRule", &paused)
	var hist struct {
		Edges []struct {
			Node struct {
				Version           int
				Status, UpdatedBy string
			}
		}
	}
	a.service(t, `query($id: ID!) { earningRuleHistory(id: $id, first: 10) { edges { node { version status updatedBy } } } }`, map[string]any{"id": rides.ID}).
		decode(t, "earningRuleHistory", &hist)
	if paused.Status != "PAUSED" || paused.Version != 2 || len(hist.Edges) != 2 || hist.Edges[0].Node.Status != "PAUSED" || hist.Edges[1].Node.UpdatedBy != "api-key" {
		t.Errorf("paused %+v, history %+v", paused, hist)
	}

	// VIP, exclusive on top, would take every purchase: archive it.
	a.service(t, `mutation($id: ID!) { archiveEarningRule(id: $id) { status } }`, map[string]any{"id": vip.ID}).decode(t, "archiveEarningRule", &ruleOut{})

	// A dry run: what if SKU X paid 50 an item, without its limit?
	var balance struct{ Points struct{ Balance int } }
	a.do(t, ann.bearer(), `{ me { points { balance } } }`, nil).decode(t, "me", &balance)
	var sim struct{ ID, Status string }
	var skuX string
	for _, e := range list.Edges {
		if e.Node.Name == "SKU X" {
			skuX = e.Node.ID
		}
	}
	a.service(t, `mutation($ch: [RuleChangeInput!]!) { simulateRules(changes: $ch) { id status } }`, map[string]any{"ch": []any{map[string]any{
		"ruleId": skuX, "rule": map[string]any{"name": "SKU X", "trigger": "PURCHASE", "effect": map[string]any{"pointsPerItem": 50},
			"conditions": []any{map[string]any{"items": map[string]any{"skus": []string{"X"}}}}}}}}).decode(t, "simulateRules", &sim)
	type result struct {
		Status                 string
		Read, Processed, Total float64
		Result                 *struct {
			Activities, MembersAffected, PointsBefore, PointsAfter, LiabilityChangeMinor float64
			PerRule                                                                      []struct {
				Key           string
				Before, After float64
			}
			Sample []struct{ AfterLines []string }
		}
	}
	var got result
	testkit.Eventually(t, 30*time.Second, func() bool {
		a.service(t, `query($id: ID!) { ruleSimulation(id: $id) { status read processed total result { activities membersAffected pointsBefore pointsAfter liabilityChangeMinor perRule { key before after } sample { afterLines } } } }`,
			map[string]any{"id": sim.ID}).decode(t, "ruleSimulation", &got)
		return got.Status == "DONE" || got.Status == "FAILED"
	}, "the dry run to finish")
	// Today's rules (rides paused) give 320 on the history: store 200, Silver days 100, SKU X 20; SKU X at 50 an item gives 200.
	// The program's built-in rules give 725 on both sides: base 600 + 100, Silver's 1.25× on the second, 25.
	if got.Status != "DONE" || got.Result == nil || got.Result.Activities != 2 || got.Result.PointsBefore != 725+320 || got.Result.PointsAfter != 725+500 ||
		got.Result.MembersAffected != 1 || got.Result.LiabilityChangeMinor != 180 || len(got.Result.Sample) != 1 ||
		got.Read != 2 || got.Processed != 2 || got.Total != 2 {
		t.Errorf("dry run: %+v %+v", got, got.Result)
	}
	var after struct{ Points struct{ Balance int } }
	a.do(t, ann.bearer(), `{ me { points { balance } } }`, nil).decode(t, "me", &after)
	if after.Points.Balance != balance.Points.Balance {
		t.Errorf("the dry run moved the balance from %d to %d", balance.Points.Balance, after.Points.Balance)
	}
	// The member who asked was no one (the API key): the result is listed.
	var sims struct {
		Edges []struct{ Node struct{ ID string } }
	}
	a.service(t, `{ ruleSimulations(first: 5) { edges { node { id } } } }`, nil).decode(t, "ruleSimulations", &sims)
	if len(sims.Edges) != 1 || sims.Edges[0].Node.ID != sim.ID {
		t.Errorf("dry runs listed: %+v", sims)
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// More changes than a dry run takes are refused by the domain, once, with
// its message naming changes; nothing is started.
func TestSimulateRulesRefusesTooManyChanges(t *testing.T) {
	a := startApp(t, nil)
	changes := make([]any, 51)
	for i := range changes {
		changes[i] = map[string]any{"rule": map[string]any{"name": "Rule " + strconv.Itoa(i), "trigger": "PURCHASE", "effect": map[string]any{"pointsPerItem": 1}}}
	}
	r := a.service(t, `mutation($ch: [RuleChangeInput!]!) { simulateRules(changes: $ch) { id } }`, map[string]any{"ch": changes})
	if len(r.Errors) != 1 || r.code() != "BAD_USER_INPUT" || r.Errors[0].Message != "changes: give 1 to 50 changes" {
		t.Fatalf("51 changes: %+v", r.Errors)
	}
}
