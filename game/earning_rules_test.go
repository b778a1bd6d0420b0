package game

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/activity"
	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/game/rules"
	"github.com/regulars/regulars/game/rules/dryrun"
	"github.com/regulars/regulars/game/rules/ruleset"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/testkit"
	"github.com/regulars/regulars/member"
)

func (h *harness) rule(t *testing.T, in rules.Input) *rules.Rule {
	t.Helper()
	r, err := h.Rules().Create(context.Background(), "tester", in)
	if err != nil {
		t.Fatalf("rule %s: %v", in.Name, err)
	}
	return r
}

// rulePoints adds up the points the earning rules gave (entries keyed
// "act:<id>:rule:<rule>"), read back from the ledger.
func (h *harness) rulePoints(t *testing.T, ruleID bson.ObjectID) (points int64, entries int) {
	t.Helper()
	cur, err := h.Rooms().Ledger.Collection().Find(context.Background(), bson.D{{Key: "key", Value: bson.D{{Key: "$regex", Value: ":rule:" + ruleID.Hex() + "$"}}}})
	if err != nil {
		t.Fatal(err)
	}
	var es []ledger.Entry
	if err := cur.All(context.Background(), &es); err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		points += e.Amount
	}
	return points, len(es)
}

func TestRuleLinesNameTheRuleItsVersionAndWhy(t *testing.T) {
	h := newHarness(t, nil)
	r := h.rule(t, rules.Input{Name: "Big baskets", Trigger: program.ActivityPurchase,
		Conditions: []rules.Condition{{BasketTotalAtLeast: ptr(int64(5000))}}, Effect: rules.Effect{FixedPoints: 40}})
	ann := h.members.add("ann@example.com")
	small := h.purchase(t, ann, "o1", 1000)
	big := h.purchase(t, ann, "o2", 6000)
	if small.Points() != 150 {
		t.Errorf("a small basket earned %d, want the program's 150 alone", small.Points())
	}
	var line *ledger.Line
	for _, e := range big.Entries {
		for i, l := range e.Lines {
			if l.Rule == "Big baskets" {
				line = &e.Lines[i]
			}
		}
	}
	if line == nil || line.Points != 40 || line.RuleVersion != 1 || !strings.Contains(line.Reason, "basket total at least 5000") {
		t.Fatalf("the big basket's rule line: %+v (entries %+v)", line, big.Entries)
	}
	if got := big.Points(); got != 600*2+40 {
		t.Errorf("the big basket earned %d, want 1240 (2× escalation on 600) + 40", got)
	}
	again := h.purchase(t, ann, "o2", 6000)
	if !again.Replayed || again.Points() != big.Points() {
		t.Errorf("a replay earned %d (replayed %v)", again.Points(), again.Replayed)
	}
	if pts, n := h.rulePoints(t, r.ID); pts != 40 || n != 1 {
		t.Errorf("rule entries: %d points in %d entries, want 40 in 1", pts, n)
	}
	h.checkLedger(t, ann)

	// A new version applies from then on and says so.
	in := rules.InputOf(r)
	in.Effect.FixedPoints = 70
	if _, err := h.Rules().Update(context.Background(), "tester", r.ID, ptr(int64(1)), in); err != nil {
		t.Fatal(err)
	}
	third := h.purchase(t, ann, "o3", 6000)
	found := false
	for _, e := range third.Entries {
		for _, l := range e.Lines {
			found = found || (l.Rule == "Big baskets" && l.RuleVersion == 2 && l.Points == 70)
		}
	}
	if !found {
		t.Errorf("version 2 did not earn 70: %+v", third.Entries)
	}
	hist, _, err := h.Rules().Store().History(context.Background(), r.ID, 0, 10)
	if err != nil || len(hist) != 2 || hist[0].Version != 2 || hist[0].UpdatedBy != "tester" {
		t.Errorf("history: %v %+v", err, hist)
	}
	ex, err := h.Rules().Explain(context.Background(), third.Activity.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The built-in rules first (the program's: base, escalation, tier,
	// first purchase), then the brand's one rule.
	var brand []rules.Verdict
	builtIn := map[string]int64{}
	for _, v := range ex.Verdicts {
		if v.Rule.BuiltIn {
			builtIn[v.Rule.Name] += v.Points
		} else {
			brand = append(brand, v)
		}
	}
	if len(brand) != 1 || !brand[0].Applied || builtIn["base"] != 600 || builtIn["escalation"] != 1200 || builtIn["tier"] != 150 {
		t.Errorf("explanation: %+v", ex)
	}
}

func ptr[T any](v T) *T { return &v }

// 100 qualifying purchases of 100 members race against a 1,000-point
// budget of 30 points each: exactly 1,000 are issued (33 × 30 and the
// last 10), and replaying every purchase at once spends nothing more.
func TestRuleBudgetHoldsUnderRace(t *testing.T) {
	h := newHarness(t, nil)
	r := h.rule(t, rules.Input{Name: "Launch bonus", Trigger: program.ActivityPurchase, Effect: rules.Effect{FixedPoints: 30},
		Limits: rules.Limits{BudgetPoints: 1000}})
	ms := make([]*member.Member, 100)
	for i := range ms {
		ms[i] = h.members.add(fmt.Sprintf("m%d@example.com", i))
	}
	buy := func(i int) error {
		_, err := h.RecordActivity(context.Background(), ActivityInput{MemberID: ms[i].ID, Kind: program.ActivityPurchase,
			ExternalID: fmt.Sprintf("race-%d", i), AmountMinor: 1000, Currency: "USD", OccurredAt: h.clock.Now()})
		return err
	}
	res := testkit.Race(t, 100, buy)
	if res.OK() != 100 {
		res.Expect(t)
	}
	pts, n := h.rulePoints(t, r.ID)
	if pts != 1000 || n != 34 {
		t.Errorf("the budget issued %d points in %d entries, want exactly 1000 in 34", pts, n)
	}
	if spent, err := h.Rules().Store().Spent(context.Background(), r.ID); err != nil || spent != 1000 {
		t.Errorf("spent counter %d (%v), want 1000", spent, err)
	}
	testkit.Race(t, 50, func(i int) error { return buy(i * 2) }).Expect(t) // every other one, replayed at once
	if again, _ := h.rulePoints(t, r.ID); again != 1000 {
		t.Errorf("replays moved the rule's points to %d", again)
	}
	if spent, err := h.Rules().Store().Spent(context.Background(), r.ID); err != nil || spent != 1000 {
		t.Errorf("replays moved the spent counter to %d (%v)", spent, err)
	}
	for _, m := range ms[:10] {
		h.checkLedger(t, m)
	}
}

// 50 purchases of 5 members (10 each) race against "5 points per item of
// SKU X, at most 3 times per member": exactly 3 of each member's are
// rewarded; a member who comes later still has their 3.
func TestRulePerMemberLimitHoldsUnderRace(t *testing.T) {
	h := newHarness(t, nil)
	r := h.rule(t, rules.Input{Name: "SKU X", Trigger: program.ActivityPurchase,
		Conditions: []rules.Condition{{Items: &rules.ItemCondition{SKUs: []string{"X"}}}},
		Effect:     rules.Effect{PointsPerItem: 5}, Limits: rules.Limits{PerMember: 3}})
	var five []*member.Member
	for i := range 5 {
		five = append(five, h.members.add(fmt.Sprintf("m%d@example.com", i)))
	}
	bob := h.members.add("bob@example.com")
	buy := func(m *member.Member, i int) error {
		_, err := h.RecordActivity(context.Background(), ActivityInput{MemberID: m.ID, Kind: program.ActivityPurchase,
			ExternalID: fmt.Sprintf("%s-%d", m.Email, i), AmountMinor: 1000, Currency: "USD", OccurredAt: h.clock.Now(),
			Items: []activity.LineItem{{SKU: "X", Quantity: 2, PriceMinor: 500}}})
		return err
	}
	testkit.Race(t, 50, func(i int) error { return buy(five[i%5], i) }).Expect(t)
	if pts, n := h.rulePoints(t, r.ID); pts != 150 || n != 15 {
		t.Errorf("50 racing purchases of 5 members earned %d points in %d entries, want 150 in 15", pts, n)
	}
	for _, m := range five {
		if n := testkit.Count(t, h.Rooms().Ledger.Collection(), bson.D{{Key: "memberId", Value: m.ID},
			{Key: "key", Value: bson.D{{Key: "$regex", Value: ":rule:" + r.ID.Hex() + "$"}}}}); n != 3 {
			t.Errorf("%s was rewarded %d times, want 3", m.Email, n)
		}
	}
	for i := range 4 {
		if err := buy(bob, i); err != nil {
			t.Fatal(err)
		}
	}
	if pts, n := h.rulePoints(t, r.ID); pts != 180 || n != 18 {
		t.Errorf("after bob's 4: %d points in %d entries, want 180 in 18", pts, n)
	}
	h.checkLedger(t, five[0])
}

func TestBadRulesAreRefusedAndNothingIsWritten(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	h.rule(t, rules.Input{Name: "VIP only", Trigger: program.ActivityPurchase, Effect: rules.Effect{FixedPoints: 5}, Priority: 7, Exclusive: true})
	_, err := h.Rules().Create(ctx, "tester", rules.Input{Name: "Also VIP", Trigger: program.ActivityPurchase,
		Effect: rules.Effect{FixedPoints: 5}, Priority: 7, Exclusive: true})
	if e, ok := inputField(err); !ok || e != "priority" {
		t.Errorf("two exclusive rules at one priority: %v", err)
	}
	_, err = h.Rules().Create(ctx, "tester", rules.Input{Name: "Platinum", Trigger: program.ActivityPurchase,
		Conditions: []rules.Condition{{Tiers: []string{"Platinum"}}}, Effect: rules.Effect{FixedPoints: 5}})
	if e, ok := inputField(err); !ok || e != "conditions[0].tiers[0]" {
		t.Errorf("unknown tier: %v", err)
	}
	if n := testkit.Count(t, h.db.Collection("earning_rules"), bson.D{}); n != 1 {
		t.Errorf("%d rules stored, want the one valid rule", n)
	}
}

// inputField is the field an input error names.
func inputField(err error) (string, bool) {
	e, ok := input.As(err)
	if !ok {
		return "", false
	}
	return e.Field, true
}

func TestRuleIndexesExist(t *testing.T) {
	h := newHarness(t, nil)
	testkit.RequireIndexes(t, h.activities(), activity.IndexDate)
	testkit.RequireIndexes(t, h.db.Collection("earning_rules"), ruleset.IndexExclusive, ruleset.IndexStatus)
	testkit.RequireIndexes(t, h.db.Collection("earning_rule_versions"), ruleset.IndexVersions)
	testkit.RequireIndexes(t, h.db.Collection("earning_rule_slots"), ruleset.IndexSlotScope, ruleset.IndexSlotOwner)
	testkit.RequireIndexes(t, h.db.Collection("rule_simulations"), dryrun.IndexSimulations)
}

// updateProgram writes the built-in rules: after escalation becomes 4× on
// the 2nd purchase, the next 2nd purchase earns it, its line names the
// rule at the program's new version, and explainEarning shows that rule.
func TestUpdateProgramRewritesTheBuiltInRules(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	ann := h.members.add("ann@example.com")
	first := h.purchase(t, ann, "o1", 1000)
	if got := first.Points(); got != 100+50 {
		t.Fatalf("first purchase: %d points, want base 100 and the first-purchase bonus 50", got)
	}
	p, err := h.UpdateProgram(ctx, nil, func(p *program.Program) { p.Escalation = []int64{4} })
	if err != nil {
		t.Fatal(err)
	}
	second := h.purchase(t, ann, "o2", 1000)
	var esc *ledger.Line
	for i, l := range second.Entries[0].Lines {
		if l.Rule == rules.RuleEscalation {
			esc = &second.Entries[0].Lines[i]
		}
	}
	if second.Points() != 100+300 || esc == nil || esc.Points != 300 || esc.RuleVersion != p.Version || esc.Reason != "4× points on your 2nd purchase" {
		t.Fatalf("second purchase after the update: %d points, lines %+v (program version %d)", second.Points(), second.Entries[0].Lines, p.Version)
	}
	ex, err := h.Rules().Explain(ctx, second.Activity.ID)
	if err != nil {
		t.Fatal(err)
	}
	applied := false
	for _, v := range ex.Verdicts {
		applied = applied || (v.Rule.BuiltIn && v.Rule.Name == rules.RuleEscalation && v.Applied && v.Rule.Version == p.Version && v.Points == 300)
	}
	if !applied || ex.ProgramVersion != p.Version {
		t.Errorf("explanation: %+v", ex)
	}
}
