package game

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/game/rules"
	"github.com/regulars/regulars/internal/testkit"
	"github.com/regulars/regulars/member"
)

// joined adds a member who joined at the given time.
func (h *harness) joined(email string, at time.Time) *member.Member {
	m := h.members.add(email)
	h.members.mu.Lock()
	m.CreatedAt = at
	h.members.mu.Unlock()
	return m
}

func (h *harness) purchaseAt(t *testing.T, m *member.Member, id string, minor int64, at time.Time) *ActivityResult {
	t.Helper()
	r, err := h.RecordActivity(context.Background(), ActivityInput{
		MemberID: m.ID, Kind: program.ActivityPurchase, ExternalID: id, AmountMinor: minor, Currency: "USD", OccurredAt: at,
	})
	if err != nil {
		t.Fatalf("purchase %s: %v", id, err)
	}
	return r
}

// escalation is the escalation line of a purchase's entry, "" for none.
func escalation(r *ActivityResult) string {
	for _, l := range r.Entries[0].Lines {
		if l.Rule == "escalation" {
			return l.Reason
		}
	}
	return ""
}

// The example: a purchase dated a year back and reported late got
// 2×, and a later-dated one 3×. By date the late one is the member's first:
// base points only (the first-purchase bonus went to the purchase awarded
// first), and the later-dated one is the 3rd.
func TestLateBackdatedPurchaseIsRatedByItsDate(t *testing.T) {
	h := newHarness(t, nil)
	now := h.clock.Now()
	m := h.joined("ann@example.com", now.AddDate(-2, 0, 0))
	r1 := h.purchaseAt(t, m, "recent", 1000, now.AddDate(0, 0, -2))
	old := h.purchaseAt(t, m, "year-old", 1000, now.AddDate(-1, 0, 1))
	later := h.purchaseAt(t, m, "today", 1000, now)
	if got := r1.Points(); got != 100+50 {
		t.Errorf("first purchase awarded earned %d, want 150 (100 base + 50 first-purchase bonus)", got)
	}
	if got, line := old.Points(), escalation(old); got != 100 || line != "" {
		t.Errorf("year-old purchase reported late earned %d (%q), want 100: it is the 1st by date, and the bonus was paid already", got, line)
	}
	if got, line := later.Points(), escalation(later); got != 300 || line != "3× points on your 3rd purchase" {
		t.Errorf("later-dated purchase earned %d (%q), want 300 as the 3rd", got, line)
	}
	h.checkLedger(t, m)
}

// A purchase reported after a later-dated one takes the position of its
// date; the one already awarded keeps its points.
func TestBackdatedPurchaseTakesThePositionOfItsDate(t *testing.T) {
	h := newHarness(t, nil)
	now := h.clock.Now()
	m := h.joined("ann@example.com", now.AddDate(0, -6, 0))
	jan, feb, mar, apr := now.AddDate(0, -5, 0), now.AddDate(0, -4, 0), now.AddDate(0, -3, 0), now.AddDate(0, -2, 0)
	h.purchaseAt(t, m, "jan", 1000, jan)
	r3 := h.purchaseAt(t, m, "mar", 1000, mar) // 2nd known: 2×
	r2 := h.purchaseAt(t, m, "feb", 1000, feb) // late, 2nd by date: 2×, not 3×
	r4 := h.purchaseAt(t, m, "apr", 1000, apr) // 4th: base only
	for _, c := range []struct {
		name string
		r    *ActivityResult
		pts  int64
		line string
	}{
		{"mar", r3, 200, "2× points on your 2nd purchase"},
		{"feb", r2, 200, "2× points on your 2nd purchase"},
		{"apr", r4, 100, ""},
	} {
		if got, line := c.r.Points(), escalation(c.r); got != c.pts || line != c.line {
			t.Errorf("%s earned %d (%q), want %d (%q)", c.name, got, line, c.pts, c.line)
		}
	}
	// A replay of the late report changes nothing and answers the same.
	again := h.purchaseAt(t, m, "feb", 1000, feb)
	if !again.Replayed || again.Points() != 200 {
		t.Errorf("replay: replayed %v, %d points, want the first answer (200)", again.Replayed, again.Points())
	}
	if got := h.points(t, m).Balance; got != 150+200+200+100 {
		t.Errorf("balance %d, want 650", got)
	}
	h.checkLedger(t, m)
}

// Purchases dated at the same instant are ordered by the order they were
// recorded (their ids).
func TestSameInstantPurchasesEscalateInRecordingOrder(t *testing.T) {
	h := newHarness(t, nil)
	m := h.members.add("ann@example.com")
	at := h.clock.Now().Add(-time.Hour)
	want := []string{"", "2× points on your 2nd purchase", "3× points on your 3rd purchase"}
	for i, id := range []string{"a", "b", "c"} {
		if got := escalation(h.purchaseAt(t, m, id, 1000, at)); got != want[i] {
			t.Errorf("purchase %s: escalation %q, want %q", id, got, want[i])
		}
	}
}

// A purchase dated before the member joined earns the base rate only, and
// does not count toward the positions of later ones; one a few minutes
// before (clock skew) counts as joined.
func TestPurchaseBeforeJoiningEarnsBaseRateOnly(t *testing.T) {
	h := newHarness(t, nil)
	joinedAt := h.clock.Now().AddDate(0, -1, 0)
	m := h.joined("ann@example.com", joinedAt)
	before := h.purchaseAt(t, m, "before", 1000, joinedAt.AddDate(0, 0, -3))
	if got, line := before.Points(), escalation(before); got != 100 || line != "" {
		t.Errorf("purchase before joining earned %d (%q), want 100: base rate, no bonus", got, line)
	}
	till := h.purchaseAt(t, m, "at-the-till", 1000, joinedAt.Add(-time.Minute))
	if got := till.Points(); got != 150 {
		t.Errorf("purchase a minute before joining earned %d, want 150 (the 1st: base and first-purchase bonus)", got)
	}
	second := h.purchaseAt(t, m, "second", 1000, joinedAt.AddDate(0, 0, 1))
	if got, line := second.Points(), escalation(second); got != 200 || line != "2× points on your 2nd purchase" {
		t.Errorf("second purchase after joining earned %d (%q), want 200 as the 2nd", got, line)
	}
	// Reported late, a pre-join purchase still earns the base rate only.
	late := h.purchaseAt(t, m, "late-before", 1000, joinedAt.AddDate(0, 0, -10))
	if got := late.Points(); got != 100 {
		t.Errorf("late pre-join purchase earned %d, want 100", got)
	}
	third := h.purchaseAt(t, m, "third", 1000, joinedAt.AddDate(0, 0, 2))
	if got, line := third.Points(), escalation(third); got != 300 || line != "3× points on your 3rd purchase" {
		t.Errorf("third purchase after joining earned %d (%q), want 300 as the 3rd", got, line)
	}
	h.checkLedger(t, m)
}

// Purchases of one member reported at once, in random date order: each
// gets a position between the one the rule guarantees (every earlier-dated
// purchase awarded before it counts) and its rank by date (only
// earlier-dated purchases count), read back from the ledger.
func TestConcurrentPurchasesEscalateByDate(t *testing.T) {
	const n = 8
	h := newHarness(t, func(p *program.Program) { p.FirstPurchaseBonus = 0; p.Escalation = []int64{2, 3, 4, 5, 6, 7, 8} })
	m := h.members.add("ann@example.com")
	dates := make([]time.Time, n) // purchase i is the (i+1)-th by date
	for i := range dates {
		dates[i] = h.clock.Now().Add(time.Duration(i-n) * time.Hour)
	}
	order := rand.Perm(n)
	res := testkit.Race(t, n, func(g int) error {
		i := order[g]
		_, err := h.RecordActivity(context.Background(), ActivityInput{
			MemberID: m.ID, Kind: program.ActivityPurchase, ExternalID: "p" + string(rune('a'+i)), AmountMinor: 1000, Currency: "USD", OccurredAt: dates[i],
		})
		return err
	})
	res.Expect(t)
	seq := make([]int64, n)
	pos := make([]int64, n)
	for i := range n {
		a, err := h.acts.ByExternalID(context.Background(), program.ActivityPurchase, "p"+string(rune('a'+i)))
		if err != nil {
			t.Fatal(err)
		}
		e, err := h.ledger.ByKey(context.Background(), m.ID, "act:"+a.ID.Hex())
		if err != nil {
			t.Fatal(err)
		}
		seq[i], pos[i] = e.Seq, e.Amount/100 // 100 base points times the multiplier, which is the position
	}
	for i := range n {
		lower := int64(1)
		for j := range i {
			if seq[j] < seq[i] {
				lower++
			}
		}
		if pos[i] < lower || pos[i] > int64(i+1) {
			t.Errorf("purchase %d by date (ledger seq %d) rated as purchase %d; want from %d to %d", i+1, seq[i], pos[i], lower, i+1)
		}
	}
	if earns := testkit.Count(t, h.ledger.Collection(), bson.D{{Key: "memberId", Value: m.ID}, {Key: "type", Value: ledger.EntryEarn}}); earns != n {
		t.Fatalf("%d earn entries, want %d", earns, n)
	}
	h.checkLedger(t, m)
}

// In the birthday month the bonus comes with the member's first activity;
// the activities after it earn their own points and do not list the
// bonus's entry as theirs.
func TestBirthdayBonusIsListedByTheActivityThatEarnedIt(t *testing.T) {
	h := newHarness(t, func(p *program.Program) { p.BirthdayBonus = 300; p.FirstPurchaseBonus = 0; p.Escalation = nil })
	m := h.members.add("bday@example.com")
	m.Birthday = &member.Date{Year: 1990, Month: 6, Day: 20} // the harness's clock is 15 June
	birthdayIn := func(r *ActivityResult) int {
		n := 0
		for _, e := range r.Entries {
			if e.Source.Kind == ledger.SourceBirthday {
				n++
			}
		}
		return n
	}
	if n := birthdayIn(h.purchase(t, m, "bday-1", 1000)); n != 1 {
		t.Fatalf("the first purchase of the month lists %d birthday entries, want 1", n)
	}
	if n := birthdayIn(h.purchase(t, m, "bday-2", 1000)); n != 0 {
		t.Fatalf("the second purchase lists %d birthday entries, want 0", n)
	}
	if got := h.points(t, m).Balance; got != 2*100+300 {
		t.Fatalf("balance %d, want 500", got)
	}
}

// A member's first purchase is made in the first tier (threshold 0),
// though their ledger has placed them in none yet: a first tier that
// earns more than 100% pays it on that purchase too, the purchase records
// that tier, and its explanation says so.
func TestFirstPurchaseEarnsTheFirstTiersMultiplier(t *testing.T) {
	h := newHarness(t, func(p *program.Program) {
		p.Tiers[0].EarnMultiplierPercent = 200 // "Member": double points from the start
		p.FirstPurchaseBonus = 0
	})
	m := h.joined("ann@example.com", h.clock.Now().AddDate(0, -1, 0))
	r := h.purchaseAt(t, m, "first", 1000, h.clock.Now())
	if got := r.Points(); got != 200 {
		t.Errorf("first purchase of 10.00 USD in a 200%% first tier earned %d, want 200 (100 base + 100 for the tier)", got)
	}
	stored, err := h.acts.ByID(context.Background(), r.Activity.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Tier != "Member" {
		t.Errorf("first purchase recorded in tier %q, want Member", stored.Tier)
	}
	ex, err := h.Rules().Explain(context.Background(), r.Activity.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(ex.Verdicts, func(v rules.Verdict) bool { return v.Rule.Name == rules.RuleTier && v.Applied && v.Points == 100 }) {
		t.Errorf("explanation of the first purchase: %+v; want the Member tier's 100 points applied", ex.Verdicts)
	}
	h.checkLedger(t, m)
}

// The birthday reward comes with an activity dated and recorded in the
// member's birthday month: not with a purchase dated the day before the
// month began and reported in it, nor with one of an imported history
// (dated before the member joined).
func TestBirthdayRewardNeedsAnActivityDatedInTheMonth(t *testing.T) {
	h := newHarness(t, func(p *program.Program) { p.BirthdayBonus = 300; p.FirstPurchaseBonus = 0; p.Escalation = nil })
	now := h.clock.Now() // 15 June
	m := h.joined("bday@example.com", now.AddDate(0, 0, -10))
	m.Birthday = &member.Date{Year: 1990, Month: now.Month(), Day: 20}
	for _, c := range []struct {
		id string
		at time.Time
	}{{"imported", now.AddDate(0, 0, -11)}, {"last-day-of-may", time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).Add(-time.Hour)}} {
		if r := h.purchaseAt(t, m, c.id, 1000, c.at); r.Points() != 100 {
			t.Errorf("purchase %s earned %d, want 100 and no birthday reward", c.id, r.Points())
		}
	}
	if r := h.purchaseAt(t, m, "june", 1000, now); r.Points() != 400 {
		t.Errorf("a purchase in the birthday month earned %d, want 400 (100 and the birthday's 300)", r.Points())
	}
}
