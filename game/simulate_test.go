package game

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/activity"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/game/rules"
	"github.com/regulars/regulars/game/rules/dryrun"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/internal/testkit"
	"github.com/regulars/regulars/member"
)

// history generates n purchases and reviews of members over the 30 days
// before the clock, in date order, with rides and SKU X items.
func history(h *harness, members []*member.Member, n int) []ActivityInput {
	rng := rand.New(rand.NewPCG(7, 21))
	start := h.clock.Now().AddDate(0, 0, -30)
	var out []ActivityInput
	for i := range n {
		m := members[rng.IntN(len(members))]
		at := start.Add(time.Duration(i) * 30 * 24 * time.Hour / time.Duration(n)).Truncate(time.Millisecond)
		if i%7 == 6 {
			out = append(out, ActivityInput{MemberID: m.ID, Kind: program.ActivityReview, ExternalID: fmt.Sprint("review-", i), OccurredAt: at})
			continue
		}
		items := []activity.LineItem{{SKU: "T", Category: "food", Quantity: 1, PriceMinor: int64(500 + rng.IntN(3000))}}
		if rng.IntN(2) == 0 {
			items = append(items, activity.LineItem{SKU: "R", Category: "rides", Quantity: int64(1 + rng.IntN(3)), PriceMinor: 1500})
		}
		if rng.IntN(3) == 0 {
			items = append(items, activity.LineItem{SKU: "X", Quantity: int64(1 + rng.IntN(4)), PriceMinor: 250})
		}
		var total int64
		for _, it := range items {
			total += it.PriceMinor * it.Quantity
		}
		out = append(out, ActivityInput{MemberID: m.ID, Kind: program.ActivityPurchase, ExternalID: fmt.Sprint("order-", i),
			AmountMinor: total, Currency: "USD", OccurredAt: at, Items: items})
	}
	return out
}

func (h *harness) record(t *testing.T, acts []ActivityInput) {
	t.Helper()
	for _, in := range acts {
		if _, err := h.RecordActivity(context.Background(), in); err != nil {
			t.Fatalf("%s: %v", in.ExternalID, err)
		}
	}
}

// allRulePoints are the points the activities earned, the program's
// built-in rules and the brand's, in all and per rule (by ledger line).
func (h *harness) allRulePoints(t *testing.T) (total int64, perRule map[string]int64) {
	t.Helper()
	cur, err := h.Rooms().Ledger.Collection().Find(context.Background(), bson.D{{Key: "key", Value: bson.D{{Key: "$regex", Value: "^act:"}}}})
	if err != nil {
		t.Fatal(err)
	}
	var es []struct {
		Amount int64 `bson:"amount"`
		Lines  []struct {
			Rule   string `bson:"rule"`
			Points int64  `bson:"points"`
		} `bson:"lines"`
	}
	if err := cur.All(context.Background(), &es); err != nil {
		t.Fatal(err)
	}
	perRule = map[string]int64{}
	for _, e := range es {
		total += e.Amount
		for _, l := range e.Lines {
			perRule[l.Rule] += l.Points
		}
	}
	return total, perRule
}

// The dry run of a change gives the totals that applying the changed rules
// to a copy of the history gives, per rule too (the program's built-in
// rules with the brand's); its "before" is what the live rules actually
// issued; and it writes no ledger entry and sends no
// notification.
func TestDryRunMatchesApplyingTheRulesToACopy(t *testing.T) {
	ctx := context.Background()
	// Tiers earn no multiplier here: the dry run keeps each activity's
	// recorded tier, so a change that lifts members into a tier sooner is
	// not followed into their later purchases' tier points (README), while
	// the copy would follow it.
	flatTiers := func(p *program.Program) {
		for i := range p.Tiers {
			p.Tiers[i].EarnMultiplierPercent = 100
		}
	}
	live := newHarness(t, flatTiers)
	promo := live.rule(t, rules.Input{Name: "Every purchase", Trigger: program.ActivityPurchase, Effect: rules.Effect{FixedPoints: 10}})
	var ms []*member.Member
	for i := range 6 {
		ms = append(ms, live.members.add(fmt.Sprintf("m%d@example.com", i)))
	}
	acts := history(live, ms, 40)
	live.record(t, acts)
	liveTotal, _ := live.allRulePoints(t)

	edited := rules.InputOf(promo)
	edited.Effect.FixedPoints = 25
	edited.Limits.BudgetPoints = 600
	rides := rules.Input{Name: "Triple rides", Trigger: program.ActivityPurchase, Effect: rules.Effect{MultiplierPercent: 300},
		Conditions: []rules.Condition{{Items: &rules.ItemCondition{Categories: []string{"rides"}}}}}
	skuX := rules.Input{Name: "SKU X", Trigger: program.ActivityPurchase, Effect: rules.Effect{PointsPerItem: 5},
		Conditions: []rules.Condition{{Items: &rules.ItemCondition{SKUs: []string{"X"}}}}, Limits: rules.Limits{PerMember: 3}}
	third := rules.Input{Name: "Third visit", Trigger: program.ActivityPurchase, Effect: rules.Effect{FixedPoints: 200}, Priority: 9, Exclusive: true,
		Conditions: []rules.Condition{{NthPurchase: ptr(int64(3))}}}
	reviews := rules.Input{Name: "Reviews on weekends", Trigger: program.ActivityReview, Effect: rules.Effect{FixedPoints: 15},
		Conditions: []rules.Condition{{DaysOfWeek: []rules.Weekday{"SATURDAY", "SUNDAY"}}}}
	changes := []dryrun.Change{{RuleID: promo.ID, Rule: &edited}, {Rule: &rides}, {Rule: &skuX}, {Rule: &third}, {Rule: &reviews}}

	entries := testkit.Count(t, live.ledger.Collection(), bson.D{})
	notes := testkit.Count(t, live.db.Collection("notifications"), bson.D{})
	sim, err := live.Rules().DryRuns().Simulate(ctx, "tester", changes, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := live.Rules().RunSimulations(ctx, "test"); err != nil || n != 1 {
		t.Fatalf("ran %d dry runs: %v", n, err)
	}
	got, err := live.Rules().DryRuns().Store().Simulation(ctx, sim.ID)
	if err != nil || got.Status != dryrun.SimDone || got.Result == nil {
		t.Fatalf("dry run: %v %+v", err, got)
	}
	res := got.Result
	if testkit.Count(t, live.ledger.Collection(), bson.D{}) != entries || testkit.Count(t, live.db.Collection("notifications"), bson.D{}) != notes {
		t.Error("the dry run wrote to the ledger or notified someone")
	}
	if res.Activities != int64(len(acts)) || res.Before != liveTotal {
		t.Errorf("dry run replayed %d activities with %d points before; the history has %d, the live rules issued %d", res.Activities, res.Before, len(acts), liveTotal)
	}

	// The copy: the same history recorded under the proposed rules.
	copyH := newHarness(t, flatTiers)
	byID := map[bson.ObjectID]*member.Member{}
	for _, m := range ms {
		byID[m.ID] = copyH.members.add(m.Email)
	}
	for _, in := range []rules.Input{edited, rides, skuX, third, reviews} {
		copyH.rule(t, in)
	}
	moved := make([]ActivityInput, len(acts))
	for i, in := range acts {
		in.MemberID = byID[in.MemberID].ID
		moved[i] = in
	}
	copyH.record(t, moved)
	copyTotal, copyPerRule := copyH.allRulePoints(t)
	if res.After != copyTotal || copyTotal == res.Before {
		t.Errorf("dry run: %d after (%d before); applying the rules to a copy issued %d", res.After, res.Before, copyTotal)
	}
	for _, r := range res.PerRule {
		if r.After != copyPerRule[r.Key] {
			t.Errorf("rule %s: dry run %d, copy %d", r.Key, r.After, copyPerRule[r.Key])
		}
	}
	var tiers int64
	for _, tt := range res.PerTier {
		tiers += tt.After - tt.Before
	}
	if tiers != res.After-res.Before || res.LiabilityChangeMinor != (res.After-res.Before)*program.Default().PointValueMinor || res.Currency != "USD" {
		t.Errorf("per tier %d, liability %d %s for a change of %d", tiers, res.LiabilityChangeMinor, res.Currency, res.After-res.Before)
	}
	if len(res.TopMembers) == 0 || len(res.TopMembers) > 10 || len(res.Sample) == 0 || res.MembersAffected == 0 || len(res.Sample[0].AfterLines) == 0 {
		t.Errorf("top %d, sample %d, affected %d", len(res.TopMembers), len(res.Sample), res.MembersAffected)
	}
	t.Logf("dry run: %d activities, %d → %d points, %d members affected", res.Activities, res.Before, res.After, res.MembersAffected)
}

// The brand user who asked for a dry run is told it finished, from the
// DRY_RUN_FINISHED template in the program's language.
func TestDryRunTellsWhoAskedInTheProgramsLanguage(t *testing.T) {
	h := newHarness(t, func(p *program.Program) { p.Locale = "ru" })
	ctx := context.Background()
	brand := h.members.add("brand@example.com")
	ann := h.members.add("ann@example.com")
	h.purchase(t, ann, "sim-1", 1000)
	h.clock.Add(time.Minute)
	bonus := rules.Input{Name: "Bonus", Trigger: program.ActivityPurchase, Effect: rules.Effect{FixedPoints: 10}}
	testkit.Must(h.Rules().DryRuns().Simulate(ctx, brand.ID.Hex(), []dryrun.Change{{Rule: &bonus}}, time.Time{}, time.Time{}))(t)
	if n, err := h.Rules().RunSimulations(ctx, "test"); err != nil || n != 1 {
		t.Fatalf("ran %d dry runs: %v", n, err)
	}
	told := h.inboxOf(t, brand, inbox.KindSystem)
	if len(told) != 1 || told[0].Title != "Пробный прогон завершён" || !strings.Contains(told[0].Body, "Проверено активностей: 1.") {
		t.Fatalf("told %+v", told)
	}
}
