package game

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
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

// dryRun runs a dry run of changes over the default range at once and
// returns its result.
func (h *harness) dryRun(t *testing.T, changes ...dryrun.Change) *dryrun.Result {
	t.Helper()
	ctx := context.Background()
	sim, err := h.Rules().DryRuns().Simulate(ctx, "tester", changes, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := h.Rules().RunSimulations(ctx, "test"); err != nil || n != 1 {
		t.Fatalf("ran %d dry runs: %v", n, err)
	}
	got, err := h.Rules().DryRuns().Store().Simulation(ctx, sim.ID)
	if err != nil || got.Status != dryrun.SimDone || got.Result == nil {
		t.Fatalf("dry run: %v %+v", err, got)
	}
	return got.Result
}

// noReviewRule is a change that earns nothing on a history of purchases
// only: its dry run compares today's rules with themselves.
var noReviewRule = rules.Input{Name: "Reviews", Trigger: program.ActivityReview, Effect: rules.Effect{FixedPoints: 5}}

// A member's purchases imported with dates before they joined earned the
// base rate only live (no escalation, no first-purchase bonus, no
// position); the dry run applies the same rule, so its "before" of
// unchanged rules is what the ledger holds for those purchases.
func TestDryRunBeforeMatchesTheLedgerForPurchasesBeforeJoining(t *testing.T) {
	h := newHarness(t, nil)
	now := h.clock.Now()
	joinedAt := now.AddDate(0, 0, -30)
	ann := h.joined("ann@example.com", joinedAt)
	bob := h.joined("bob@example.com", now.AddDate(0, 0, -80))
	// In date order, as an import sends them: three dated before Ann
	// joined, one at the till a minute before (it counts), four after.
	for i, at := range []time.Time{now.AddDate(0, 0, -60), now.AddDate(0, 0, -45), joinedAt.Add(-10 * time.Minute),
		joinedAt.Add(-time.Minute), now.AddDate(0, 0, -20), now.AddDate(0, 0, -10), now.AddDate(0, 0, -5), now.AddDate(0, 0, -2)} {
		amount := int64(300)
		if i < 3 {
			amount = 1000
		}
		h.purchaseAt(t, ann, fmt.Sprint("ann-", i), amount, at)
		h.purchaseAt(t, bob, fmt.Sprint("bob-", i), amount, at)
	}
	ledgerTotal, perRule := h.allRulePoints(t)
	// Ann: 3 × 100 before joining, then 30 + 50 (first-purchase bonus),
	// 60 (2×), 90 (3×), 30, 30; Bob: from his 1st purchase on, 100 + 50,
	// 200, 300, then 5 × 30.
	if want := int64(3*100+80+60+90+30+30) + (150 + 200 + 300 + 5*30); ledgerTotal != want {
		t.Fatalf("the live rules issued %d, want %d", ledgerTotal, want)
	}
	entries := testkit.Count(t, h.ledger.Collection(), bson.D{})
	res := h.dryRun(t, dryrun.Change{Rule: &noReviewRule})
	if res.Activities != 16 || res.Before != ledgerTotal || res.After != ledgerTotal {
		t.Errorf("dry run of unchanged rules over %d activities: %d before, %d after; the ledger holds %d", res.Activities, res.Before, res.After, ledgerTotal)
	}
	for _, r := range res.PerRule {
		if r.Before != perRule[r.Key] {
			t.Errorf("rule %s: dry run %d before, the ledger %d", r.Key, r.Before, perRule[r.Key])
		}
	}
	if testkit.Count(t, h.ledger.Collection(), bson.D{}) != entries {
		t.Error("the dry run wrote to the ledger")
	}
}

// A member's first purchase in the range, dated before they joined, is
// not their first: the first-purchase bonus and position 1 go to the next
// one, after joining, as they did live.
func TestDryRunFirstPurchaseIsTheFirstAfterJoining(t *testing.T) {
	h := newHarness(t, nil)
	now := h.clock.Now()
	joinedAt := now.AddDate(0, 0, -30)
	ann := h.joined("ann@example.com", joinedAt)
	h.purchaseAt(t, ann, "imported", 500, now.AddDate(0, 0, -40))
	first := h.purchaseAt(t, ann, "first", 500, now.AddDate(0, 0, -20))
	h.purchaseAt(t, ann, "second", 500, now.AddDate(0, 0, -10))
	_, perRule := h.allRulePoints(t)
	if perRule[rules.RuleFirstPurchase] != 50 {
		t.Fatalf("the live rules paid %d of first-purchase bonus, want 50", perRule[rules.RuleFirstPurchase])
	}
	welcome := rules.Input{Name: "Welcome", Trigger: program.ActivityPurchase, Effect: rules.Effect{FixedPoints: 100},
		Conditions: []rules.Condition{{NthPurchase: ptr(int64(1))}}}
	res := h.dryRun(t, dryrun.Change{Rule: &welcome})
	for _, r := range res.PerRule {
		if r.Key == rules.RuleFirstPurchase && (r.Before != 50 || r.After != 50) {
			t.Errorf("first-purchase bonus in the dry run: %d before, %d after; want 50, once", r.Before, r.After)
		}
	}
	if res.After-res.Before != 100 || len(res.Sample) != 1 || res.Sample[0].ActivityID != first.Activity.ID.Hex() {
		t.Fatalf("a 1st-purchase rule moved %d points, on %+v; want 100 on purchase %q, the first after joining", res.After-res.Before, res.Sample, first.Activity.ID.Hex())
	}
	if !slices.ContainsFunc(res.Sample[0].BeforeLines, func(l string) bool { return strings.HasPrefix(l, rules.RuleFirstPurchase+" ") }) {
		t.Errorf("the first purchase after joining, before the change: %q; want the first-purchase bonus", res.Sample[0].BeforeLines)
	}
}

// Purchases recorded while no earning rule of their kind was active have
// no snapshot; each records the tier its own entry was evaluated in
// (activity.Activity.Tier), so the dry run's "before" of unchanged rules
// pays the tier multiplier the ledger paid, including on the purchase
// that moves its member up a tier (evaluated in the tier it was made in).
func TestDryRunBeforeMatchesTheLedgerInTheTierEachPurchaseWasMadeIn(t *testing.T) {
	h := newHarness(t, nil) // Member, Silver from 1,000 points earned (125%), Gold from 5,000 (150%)
	now := h.clock.Now()
	ann := h.joined("ann@example.com", now.AddDate(0, 0, -100))
	bob := h.joined("bob@example.com", now.AddDate(0, 0, -100))
	var annActs []*ActivityResult
	for i, minor := range []int64{10_000, 3_000, 30_000, 2_000, 1_500} {
		at := now.AddDate(0, 0, -60+10*i)
		annActs = append(annActs, h.purchaseAt(t, ann, fmt.Sprint("ann-", i), minor, at))
		h.purchaseAt(t, bob, fmt.Sprint("bob-", i), 500, at.Add(time.Hour))
	}
	// Ann: Silver after her first purchase, Gold after her third.
	wantTiers := []string{"Member", "Silver", "Silver", "Gold", "Gold"}
	for i, r := range annActs {
		stored, err := h.acts.ByID(context.Background(), r.Activity.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stored.RuleSnapshot != nil || stored.Tier != wantTiers[i] {
			t.Errorf("purchase %d recorded in tier %q (snapshot %v), want %q and none", i, stored.Tier, stored.RuleSnapshot, wantTiers[i])
		}
	}
	if tc := annActs[2].TierChange(); tc == nil || tc.From != "Silver" || tc.To != "Gold" {
		t.Fatalf("Ann's third purchase moved her %+v, want Silver to Gold", tc)
	}
	ledgerTotal, perRule := h.allRulePoints(t)
	if perRule[rules.RuleTier] == 0 {
		t.Fatal("the ledger holds no tier points: the test proves nothing")
	}
	res := h.dryRun(t, dryrun.Change{Rule: &noReviewRule})
	if res.Activities != 10 || res.Before != ledgerTotal || res.After != ledgerTotal {
		t.Errorf("dry run of unchanged rules over %d activities: %d before, %d after; the ledger holds %d", res.Activities, res.Before, res.After, ledgerTotal)
	}
	for _, r := range res.PerRule {
		if r.Before != perRule[r.Key] {
			t.Errorf("rule %s: dry run %d before, the ledger %d", r.Key, r.Before, perRule[r.Key])
		}
	}
	if !slices.ContainsFunc(res.PerRule, func(r dryrun.Totals) bool { return r.Key == rules.RuleTier && r.Before == perRule[rules.RuleTier] }) {
		t.Errorf("the dry run's rules %+v: want the tier multiplier's %d points", res.PerRule, perRule[rules.RuleTier])
	}
	for _, r := range res.PerTier {
		if r.Key == "Gold" && r.Before == 0 {
			t.Errorf("the dry run counted nothing for Gold: %+v", res.PerTier)
		}
	}
}

// Purchases of one member racing (released together, each reading the
// same ledger head before its insert) are appended one after the other,
// most of them to a later head than the one they read, and one of them
// moves the member up a tier: each activity still says the tier its entry
// was evaluated in, the tier of the entry before it in the member's chain
// (read back from the database).
func TestRacingPurchasesRecordTheTierTheirEntryWasEvaluatedIn(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	now := h.clock.Now()
	ann := h.joined("ann@example.com", now.AddDate(0, 0, -100))
	h.purchaseAt(t, ann, "start", 9_000, now.AddDate(0, 0, -10)) // 900 + 50 points: 50 short of Silver
	const n = 6
	start := make(chan struct{})
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			_, err := h.RecordActivity(ctx, ActivityInput{MemberID: ann.ID, Kind: program.ActivityPurchase, ExternalID: fmt.Sprint("race-", i),
				AmountMinor: 2_000, Currency: "USD", OccurredAt: now.Add(-time.Duration(i) * time.Minute)})
			errs <- err
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	tiers := map[string]int{}
	for i := range n {
		a, err := h.acts.ByExternalID(ctx, program.ActivityPurchase, fmt.Sprint("race-", i))
		if err != nil {
			t.Fatal(err)
		}
		e, err := h.ledger.ByKey(ctx, ann.ID, "act:"+a.ID.Hex())
		if err != nil {
			t.Fatal(err)
		}
		var prev struct {
			State struct {
				Tier struct {
					Name string `bson:"name"`
				} `bson:"tier"`
			} `bson:"state"`
		}
		if err := h.ledger.Collection().FindOne(ctx, bson.D{{Key: "memberId", Value: ann.ID}, {Key: "seq", Value: e.Seq - 1}}).Decode(&prev); err != nil {
			t.Fatal(err)
		}
		if a.Tier != prev.State.Tier.Name {
			t.Errorf("purchase race-%d (entry %d) recorded in tier %q; its entry was evaluated in %q", i, e.Seq, a.Tier, prev.State.Tier.Name)
		}
		tiers[a.Tier]++
	}
	if tiers["Silver"] != n-1 || len(tiers) != 2 {
		t.Errorf("tiers recorded %v: want one purchase before Silver and %d in it", tiers, n-1)
	}
}

// The birthday reward is paid once a year, with the member's first
// activity in their birthday month (or by the birthday campaign). A dry
// run's range may start after that activity: its "before" then pays no
// birthday reward for that year on the activities it replays, as the
// ledger paid none on them, and each one's explanation says why. When
// the paying activity is in the range, the replay pays it there, once.
func TestDryRunAndExplanationPayABirthdayOnlyWhereTheLedgerDid(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, func(p *program.Program) { p.BirthdayBonus = 300 })
	now := h.clock.Now() // 15 June
	// A brand rule on purchases, so that purchases keep their snapshot.
	h.rule(t, rules.Input{Name: "Every purchase", Trigger: program.ActivityPurchase, Effect: rules.Effect{FixedPoints: 10}})
	ann := h.joined("ann@example.com", now.AddDate(-1, 0, 0))
	bob := h.joined("bob@example.com", now.AddDate(-1, 0, 0))
	for _, m := range []*member.Member{ann, bob} {
		m.Birthday = &member.Date{Year: 1990, Month: now.Month(), Day: 20}
	}
	// The dry run covers the last two days. Ann's birthday reward is paid
	// with a purchase dated before them (in her birthday month); Bob's
	// with his first purchase in them.
	from := now.AddDate(0, 0, -2)
	paid := h.purchaseAt(t, ann, "ann-old", 1000, from.Add(-time.Hour))
	annLater := h.purchaseAt(t, ann, "ann-recent", 1000, from.Add(time.Hour))
	h.purchaseAt(t, bob, "bob-1", 1000, from.Add(2*time.Hour))
	h.purchaseAt(t, bob, "bob-2", 1000, now.Add(-time.Hour))
	e, err := h.Rooms().Ledger.ByKey(ctx, ann.ID, fmt.Sprint("birthday:", now.Year()))
	if err != nil || e.Source.ID != paid.Activity.ID.Hex() {
		t.Fatalf("Ann's birthday entry: %v %+v; want one paid with %s", err, e, paid.Activity.ID.Hex())
	}

	sim, err := h.Rules().DryRuns().Simulate(ctx, "tester", []dryrun.Change{{Rule: &noReviewRule}}, from, now)
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.Rules().DryRuns().RunNow(ctx, sim)
	if err != nil {
		t.Fatal(err)
	}
	if b := perRule(res, rules.RuleBirthday); b.Before != 300 || b.After != 300 {
		t.Errorf("birthday rewards in the range: %d before, %d after; want 300 (Bob's, once), not Ann's paid before the range", b.Before, b.After)
	}

	ex, err := h.Rules().Explain(ctx, annLater.Activity.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range ex.Verdicts {
		if v.Rule.Name == rules.RuleBirthday && (v.Applied || v.Points != 0 || !strings.Contains(v.Failed, "paid with another activity")) {
			t.Errorf("explanation of Ann's later purchase: birthday %+v; want not applied, paid with another activity", v)
		}
	}
	ex, err = h.Rules().Explain(ctx, paid.Activity.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(ex.Verdicts, func(v rules.Verdict) bool { return v.Rule.Name == rules.RuleBirthday && v.Applied && v.Points == 300 }) {
		t.Errorf("explanation of the purchase that paid Ann's birthday reward: %+v; want it applied, 300", ex.Verdicts)
	}
}

// A dry run's range (90 days by default) starts after many members' first
// purchases: the replay counts their purchases dated before it, so a
// purchase of the range keeps the position, first-purchase bonus and
// previous purchase it had live (recorded with no brand rule active, so
// without a snapshot).
func TestDryRunCountsThePurchasesBeforeItsRange(t *testing.T) {
	h := newHarness(t, nil)
	now := h.clock.Now()
	ann := h.joined("ann@example.com", now.AddDate(0, 0, -200))
	h.purchaseAt(t, ann, "ann-1", 1000, now.AddDate(0, 0, -150)) // before the range: the first-purchase bonus
	second := h.purchaseAt(t, ann, "ann-2", 1000, now.AddDate(0, 0, -60))
	third := h.purchaseAt(t, ann, "ann-3", 1000, now.AddDate(0, 0, -30))
	if escalation(second) == "" || escalation(third) == "" {
		t.Fatalf("live: 2nd %q, 3rd %q; want both escalated", escalation(second), escalation(third))
	}
	want := map[string]int64{}
	for _, r := range []*ActivityResult{second, third} {
		for _, l := range r.Entries[0].Lines {
			want[l.Rule] += l.Points
		}
	}
	res := h.dryRun(t, dryrun.Change{Rule: &noReviewRule})
	got := map[string]int64{}
	for _, r := range res.PerRule {
		got[r.Key] = r.Before
	}
	for _, rule := range []string{rules.RuleBase, rules.RuleEscalation, rules.RuleFirstPurchase} {
		if got[rule] != want[rule] {
			t.Errorf("dry run's before, %s: %d; the ledger paid %d on the range's purchases", rule, got[rule], want[rule])
		}
	}
}

// With no brand rule active, activities keep no snapshot: the dry run
// still pays a birthday reward where the ledger paid it, and only there,
// and explainEarning says of each purchase of the month whether it paid it.
func TestBirthdayWithoutASnapshotIsReplayedAndExplainedAsPaid(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, func(p *program.Program) { p.BirthdayBonus = 300 })
	now := h.clock.Now() // 15 June
	ann := h.joined("ann@example.com", now.AddDate(-1, 0, 0))
	ann.Birthday = &member.Date{Year: 1990, Month: now.Month(), Day: 20}
	paid := h.purchaseAt(t, ann, "ann-1", 1000, now.AddDate(0, 0, -2))
	later := h.purchaseAt(t, ann, "ann-2", 1000, now.AddDate(0, 0, -1))
	res := h.dryRun(t, dryrun.Change{Rule: &noReviewRule})
	if b := perRule(res, rules.RuleBirthday); b.Before != 300 || b.After != 300 {
		t.Errorf("birthday rewards in the range: %d before, %d after; want 300, as the ledger paid", b.Before, b.After)
	}
	for _, c := range []struct {
		r       *ActivityResult
		applied bool
	}{{paid, true}, {later, false}} {
		ex, err := h.Rules().Explain(ctx, c.r.Activity.ID)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(ex.Verdicts, func(v rules.Verdict) bool { return v.Rule.Name == rules.RuleBirthday })
		if i < 0 || ex.Verdicts[i].Applied != c.applied || (!c.applied && !strings.Contains(ex.Verdicts[i].Failed, "paid with another activity")) {
			t.Errorf("explanation of %s: birthday %+v; want applied %v", c.r.Activity.ExternalID, ex.Verdicts, c.applied)
		}
	}
}

// perRule is a dry run's totals for one rule, zero when it has none.
func perRule(res *dryrun.Result, rule string) dryrun.Totals {
	for _, r := range res.PerRule {
		if r.Key == rule {
			return r
		}
	}
	return dryrun.Totals{}
}
