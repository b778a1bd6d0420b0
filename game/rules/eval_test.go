package rules

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/input"
)

func i64(v int64) *int64 { return &v }

type testCatalog struct{}

func (testCatalog) TierExists(name string) bool {
	return name == "Member" || name == "Silver" || name == "Gold"
}
func (testCatalog) BadgeExists(id string) bool { return id == "b1" }

// rule validates in and makes it an active rule at version 1.
func rule(t testing.TB, in Input) *Rule {
	t.Helper()
	if err := in.Validate(testCatalog{}); err != nil {
		t.Fatalf("%s: %v", in.Name, err)
	}
	r := &Rule{ID: bson.NewObjectID(), Version: 1, Status: StatusActive}
	r.Apply(in)
	return r
}

var paris = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err)
	}
	return loc
}()

// The four promotions, written as rules.
func examples(t testing.TB) (rides, newStore, goldTuesday, skuX *Rule) {
	weekendStart := time.Date(2026, 11, 28, 0, 0, 0, 0, paris) // Saturday
	weekendEnd := weekendStart.AddDate(0, 0, 2)
	rides = rule(t, Input{Name: "Triple Rides weekend", Trigger: program.ActivityPurchase, StartsAt: &weekendStart, EndsAt: &weekendEnd,
		Conditions: []Condition{{Items: &ItemCondition{Categories: []string{"rides"}}}}, Effect: Effect{MultiplierPercent: 300}})
	newStore = rule(t, Input{Name: "First visit to the new store", Trigger: program.ActivityPurchase,
		Conditions: []Condition{{Items: &ItemCondition{SKUs: []string{"STORE-42"}}}}, Effect: Effect{FixedPoints: 200}, Limits: Limits{PerMember: 1}})
	goldTuesday = rule(t, Input{Name: "Gold Tuesdays", Trigger: program.ActivityPurchase,
		Conditions: []Condition{{Tiers: []string{"Gold"}}, {DaysOfWeek: []Weekday{"TUESDAY"}}}, Effect: Effect{MultiplierPercent: 200}})
	skuX = rule(t, Input{Name: "SKU X", Trigger: program.ActivityPurchase,
		Conditions: []Condition{{Items: &ItemCondition{SKUs: []string{"X"}}}}, Effect: Effect{PointsPerItem: 5}, Limits: Limits{PerMember: 3}})
	return
}

func TestExamplesEarnWhatAHandComputationSays(t *testing.T) {
	rides, newStore, gold, skuX := examples(t)
	set := NewSet(7, Basis{PointsPerUnit: 10, MinorPerUnit: 100, Location: paris}, []*Rule{rides, newStore, gold, skuX})
	sat := time.Date(2026, 11, 28, 15, 0, 0, 0, paris)
	tue := time.Date(2026, 12, 1, 10, 0, 0, 0, paris)
	// 23:30 UTC on Monday is Tuesday in Paris.
	monUTC := time.Date(2026, 11, 30, 23, 30, 0, 0, time.UTC)
	cases := []struct {
		name  string
		a     Activity
		snap  Snapshot
		rules map[string]int64
	}{
		{"rides on the weekend: 2× the base of the rides items", Activity{Kind: program.ActivityPurchase, AmountMinor: 5000, OccurredAt: sat,
			Items: []Item{{SKU: "R1", Category: "rides", Quantity: 2, PriceMinor: 1500}, {SKU: "T", Category: "food", Quantity: 1, PriceMinor: 2000}}},
			Snapshot{Tier: "Member"}, map[string]int64{"Triple Rides weekend": 600}},
		{"rides after the weekend", Activity{Kind: program.ActivityPurchase, AmountMinor: 3000, OccurredAt: tue,
			Items: []Item{{SKU: "R1", Category: "rides", Quantity: 2, PriceMinor: 1500}}}, Snapshot{Tier: "Member"}, map[string]int64{}},
		{"gold on Tuesday, Paris time", Activity{Kind: program.ActivityPurchase, AmountMinor: 1234, OccurredAt: monUTC},
			Snapshot{Tier: "Gold"}, map[string]int64{"Gold Tuesdays": 123}},
		{"silver on Tuesday", Activity{Kind: program.ActivityPurchase, AmountMinor: 1234, OccurredAt: tue}, Snapshot{Tier: "Silver"}, map[string]int64{}},
		{"new store and SKU X", Activity{Kind: program.ActivityPurchase, AmountMinor: 1000, OccurredAt: tue,
			Items: []Item{{SKU: "STORE-42", Quantity: 1, PriceMinor: 0}, {SKU: "X", Quantity: 4, PriceMinor: 250}}},
			Snapshot{Tier: "Gold"}, map[string]int64{"First visit to the new store": 200, "SKU X": 20, "Gold Tuesdays": 100}},
		{"a check-in triggers none", Activity{Kind: program.ActivityCheckIn, OccurredAt: tue}, Snapshot{Tier: "Gold"}, map[string]int64{}},
	}
	for _, c := range cases {
		got := map[string]int64{}
		for _, l := range set.Evaluate(&c.a, &c.snap, nil) {
			got[l.Rule] = l.Points
			if l.Version != 1 || l.Reason == "" || !strings.HasPrefix(l.Reason, l.Rule+": ") {
				t.Errorf("%s: line %+v lacks its version or reason", c.name, l)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(c.rules) {
			t.Errorf("%s: earned %v, want %v", c.name, got, c.rules)
		}
	}
}

func TestExclusiveAndStackingFollowPriority(t *testing.T) {
	mk := func(name string, prio int, excl bool, pts int64) *Rule {
		return rule(t, Input{Name: name, Trigger: program.ActivityPurchase, Effect: Effect{FixedPoints: pts}, Priority: prio, Exclusive: excl})
	}
	a := &Activity{Kind: program.ActivityPurchase, AmountMinor: 100, OccurredAt: time.Now()}
	earned := func(rs ...*Rule) string {
		var names []string
		for _, l := range NewSet(1, Basis{PointsPerUnit: 10}, rs).Evaluate(a, &Snapshot{}, nil) {
			names = append(names, l.Rule)
		}
		return strings.Join(names, ",")
	}
	if got := earned(mk("low", 1, false, 1), mk("top", 9, true, 9), mk("mid", 5, false, 5)); got != "top" {
		t.Errorf("an exclusive rule on top applies alone; got %s", got)
	}
	if got := earned(mk("low", 1, false, 1), mk("excl", 5, true, 5), mk("top", 9, false, 9)); got != "top,low" {
		t.Errorf("an exclusive rule below a matching one does not apply, the others stack; got %s", got)
	}
	set := NewSet(1, Basis{PointsPerUnit: 10}, []*Rule{mk("low", 1, false, 1), mk("excl", 5, true, 5), mk("top", 9, false, 9)})
	v := set.Explain(a, &Snapshot{})
	if len(v) != 3 || !v[0].Applied || v[1].Applied || !v[1].Matched || v[1].Failed == "" || !v[2].Applied {
		t.Errorf("explanation: %+v", v)
	}
}

func TestExplainNamesTheFirstFailingCondition(t *testing.T) {
	r := rule(t, Input{Name: "Big Gold baskets", Trigger: program.ActivityPurchase,
		Conditions: []Condition{{BasketTotalAtLeast: i64(5000)}, {Tiers: []string{"Gold"}}}, Effect: Effect{FixedPoints: 10}})
	set := NewSet(1, Basis{PointsPerUnit: 10}, []*Rule{r})
	v := set.Explain(&Activity{Kind: program.ActivityPurchase, AmountMinor: 9000, OccurredAt: time.Now()}, &Snapshot{Tier: "Silver"})
	if len(v) != 1 || v[0].Matched || v[0].Failed != "not tier Gold" {
		t.Errorf("got %+v", v)
	}
}

func TestBadRulesNameTheField(t *testing.T) {
	start := time.Now()
	end := start.Add(-time.Hour)
	ok := func() Input {
		return Input{Name: "Promo", Trigger: program.ActivityPurchase, Effect: Effect{FixedPoints: 10}}
	}
	cases := map[string]func(*Input){
		"endsAt":                            func(in *Input) { in.StartsAt, in.EndsAt = &start, &end },
		"effect.multiplierPercent":          func(in *Input) { in.Effect.MultiplierPercent = -1 },
		"limits.budgetPoints":               func(in *Input) { in.Limits.BudgetPoints = -5 },
		"timezone":                          func(in *Input) { in.Timezone = "Mars/Olympus" },
		"conditions[0]":                     func(in *Input) { in.Conditions = []Condition{{}} },
		"conditions[0].tiers[0]":            func(in *Input) { in.Conditions = []Condition{{Tiers: []string{"Platinum"}}} },
		"conditions[0].items.categories[0]": func(in *Input) { in.Conditions = []Condition{{Items: &ItemCondition{Categories: []string{"a b"}}}} },
		"conditions[0].hours.to":            func(in *Input) { in.Conditions = []Condition{{Hours: &HourWindow{From: 9, To: 9}}} },
		"conditions[0].badgeHeld":           func(in *Input) { in.Conditions = []Condition{{BadgeHeld: "nope"}} },
		"conditions[0].daysOfWeek[0]":       func(in *Input) { in.Conditions = []Condition{{DaysOfWeek: []Weekday{"FUNDAY"}}} },
		"name":                              func(in *Input) { in.Name = "a\u0000b" },
		"trigger":                           func(in *Input) { in.Trigger = program.ActivityRefund },
		"effect":                            func(in *Input) { in.Effect = Effect{} },
		"limits.periodDays":                 func(in *Input) { in.Limits.PerMemberPerPeriod = 2 },
		"priority":                          func(in *Input) { in.Priority = MaxPriority + 1 },
		"conditions[0].basketTotalAtLeast": func(in *Input) {
			in.Trigger = program.ActivityReview
			in.Conditions = []Condition{{BasketTotalAtLeast: i64(1)}}
		},
		"effect.multiplierPercent@cap": func(in *Input) { in.Effect.MultiplierPercent = MaxMultiplierPercent + 1 },
		"conditions[0].nthPurchase":    func(in *Input) { in.Conditions = []Condition{{NthPurchase: i64(0)}} },
		"conditions[0].items.minQuantity": func(in *Input) {
			in.Conditions = []Condition{{Items: &ItemCondition{SKUs: []string{"X"}, MinQuantity: -1}}}
		},
		"conditions[0].daysSinceLastPurchaseAtLeast": func(in *Input) {
			in.Conditions = []Condition{{DaysSinceLastPurchaseAtLeast: i64(MaxDays + 1)}}
		},
	}
	for want, change := range cases {
		in := ok()
		change(&in)
		err := in.Validate(testCatalog{})
		e, isInput := input.As(err)
		field, _, _ := strings.Cut(want, "@")
		if !isInput || e.Field != field {
			t.Errorf("%s: got %v", want, err)
		}
	}
}

// fifty is a set of 50 active purchase rules of every kind, of which a
// few match the benchmark's purchase.
func fifty(tb testing.TB) (*Set, *Activity, *Snapshot) {
	var rs []*Rule
	for i := range 50 {
		in := Input{Name: fmt.Sprintf("rule %02d", i), Trigger: program.ActivityPurchase, Effect: Effect{FixedPoints: int64(i + 1)}, Priority: i}
		switch i % 5 {
		case 0:
			in.Conditions = []Condition{{Items: &ItemCondition{Categories: []string{fmt.Sprintf("cat-%d", i)}, SKUs: []string{"A", "B", fmt.Sprintf("S%d", i)}}}}
		case 1:
			in.Conditions = []Condition{{Tiers: []string{"Gold"}}, {DaysOfWeek: []Weekday{"TUESDAY", "SATURDAY"}}}
		case 2:
			in.Conditions = []Condition{{BasketTotalAtLeast: i64(int64(i) * 1000)}, {Hours: &HourWindow{From: 22, To: 6}}}
			in.Match = MatchAny
		case 3:
			in.Conditions = []Condition{{NthPurchase: i64(int64(i%7 + 1))}, {DaysSinceLastPurchaseAtLeast: i64(30)}}
		case 4:
			in.Conditions = []Condition{{BadgeHeld: "b1"}}
			in.Effect = Effect{MultiplierPercent: 150}
			in.Timezone = "America/New_York"
		}
		if i%3 == 0 {
			in.Conditions = append(in.Conditions, Condition{Tiers: []string{"Silver", "Gold"}})
		}
		rs = append(rs, rule(tb, in))
	}
	set := NewSet(1, Basis{PointsPerUnit: 10, MinorPerUnit: 100, Location: paris}, rs)
	a := &Activity{Kind: program.ActivityPurchase, AmountMinor: 12_000, OccurredAt: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC),
		Items: []Item{{SKU: "A", Category: "cat-0", Quantity: 2, PriceMinor: 3000}, {SKU: "Z", Category: "food", Quantity: 3, PriceMinor: 2000}}}
	last := a.OccurredAt.AddDate(0, -2, 0)
	snap := &Snapshot{Tier: "Silver", Badges: []string{"b2"}, Purchase: 4, LastPurchaseAt: &last}
	return set, a, snap
}

// BenchmarkEvaluate50Rules is the cost of evaluating one purchase against
// 50 active rules (BENCHMARKS.md).
func BenchmarkEvaluate50Rules(b *testing.B) {
	set, a, snap := fifty(b)
	if n := len(set.Evaluate(a, snap, nil)); n == 0 {
		b.Fatal("the benchmark's purchase matches no rule")
	}
	out := make([]Line, 0, 50)
	b.ReportAllocs()
	for b.Loop() {
		out = set.Evaluate(a, snap, out[:0])
	}
}

// BenchmarkEvaluate50RulesNoReasons is the dry run's evaluation: the
// same 17 of 50 rules match, their lines are not put into words.
func BenchmarkEvaluate50RulesNoReasons(b *testing.B) {
	set, a, snap := fifty(b)
	out := make([]Line, 0, 50)
	b.ReportAllocs()
	for b.Loop() {
		out = set.evaluate(a, snap, out[:0], false)
	}
}

// BenchmarkEvaluateProgramRules: the default program's built-in rules
// (base, escalation, tiers, first purchase) on a Silver member's 2nd
// purchase, with reasons, as the purchase's entry makes its lines.
func BenchmarkEvaluateProgramRules(b *testing.B) {
	p := program.Default()
	set := ProgramSet(&p)
	_, a, _ := fifty(b)
	snap := &Snapshot{Tier: "Silver", Purchase: 2}
	if n := len(set.Evaluate(a, snap, nil)); n != 3 {
		b.Fatalf("%d lines, want base, escalation and tier", n)
	}
	out := make([]Line, 0, 8)
	b.ReportAllocs()
	for b.Loop() {
		out = set.Evaluate(a, snap, out[:0])
	}
}

// BenchmarkEvaluate50RulesNoMatch: the same 50 rules, a check-in none matches.
func BenchmarkEvaluate50RulesNoMatch(b *testing.B) {
	set, a, snap := fifty(b)
	a.Items = nil
	a.AmountMinor = 100
	a.OccurredAt = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	snap.Tier = "Member"
	snap.LastPurchaseAt = &a.OccurredAt
	out := make([]Line, 0, 50)
	b.ReportAllocs()
	for b.Loop() {
		out = set.Evaluate(a, snap, out[:0])
	}
}

func TestFiftyRulesBenchmarkMatchesSome(t *testing.T) {
	set, a, snap := fifty(t)
	if n := len(set.Evaluate(a, snap, nil)); n < 5 || n > 20 {
		t.Errorf("the benchmark's purchase matches %d of 50 rules; it is meant to match a handful", n)
	}
	t.Logf("matches %d of 50", len(set.Evaluate(a, snap, nil)))
}
