package rules

import (
	"fmt"
	"testing"
	"time"

	"github.com/regulars/regulars/game/program"
)

func TestOrdinal(t *testing.T) {
	if ordinal(2) != "2nd" || ordinal(3) != "3rd" || ordinal(11) != "11th" || ordinal(21) != "21st" {
		t.Error("ordinals")
	}
}

// The default program's fields, as built-in rules, earn what the program
// says: 10 points per USD, 2× on the 2nd purchase and 3× on the 3rd,
// Silver 125% and Gold 150% of base, 50 on the first purchase awarded, a
// promotion's bonus in its window only, the birthday bonus in the
// birthday month, 5 points a check-in.
func TestProgramRulesEarnAsTheProgramSays(t *testing.T) {
	p := program.Default()
	at := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	p.Promotions = []program.Promotion{{ID: "june", Name: "June", BonusPoints: 40, StartsAt: at.AddDate(0, 0, -1), EndsAt: at.AddDate(0, 0, 1), ExpiresAfterDays: 7}}
	set := ProgramSet(&p)
	buy := &Activity{Kind: program.ActivityPurchase, ExternalID: "o1", AmountMinor: 1234, OccurredAt: at}
	for _, c := range []struct {
		name string
		snap Snapshot
		at   time.Time
		want map[string]int64
	}{
		{"first", Snapshot{Tier: "Member", Purchase: 1, First: true}, at, map[string]int64{RuleBase: 123, RuleFirstPurchase: 50, "promotion:june": 40}},
		{"second, Silver", Snapshot{Tier: "Silver", Purchase: 2}, at, map[string]int64{RuleBase: 123, RuleEscalation: 123, RuleTier: 30, "promotion:june": 40}},
		{"third, Gold, birthday", Snapshot{Tier: "Gold", Purchase: 3, BirthdayYear: 2026}, at, map[string]int64{RuleBase: 123, RuleEscalation: 246, RuleTier: 61, "promotion:june": 40, RuleBirthday: 200}},
		{"fourth, after the promotion", Snapshot{Tier: "Member", Purchase: 4}, at.AddDate(0, 0, 2), map[string]int64{RuleBase: 123}},
	} {
		buy.OccurredAt = c.at
		got := map[string]int64{}
		for _, l := range set.Evaluate(buy, &c.snap, nil) {
			got[l.Rule] += l.Points
			if !l.BuiltIn || l.Version != p.Version || l.Reason == "" {
				t.Errorf("%s: line %+v", c.name, l)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	lines := set.Evaluate(&Activity{Kind: program.ActivityCheckIn, OccurredAt: at}, &Snapshot{}, nil)
	if len(lines) != 1 || lines[0].Rule != "check-in" || lines[0].Points != 5 || lines[0].Reason != "5 points per check-in" {
		t.Errorf("check-in: %+v", lines)
	}
}

// The program's basis is the same whatever pointer its zone was loaded
// into, so the rule sets' caches hold across program reads.
func TestBasisComparesZonesByName(t *testing.T) {
	p := program.Default()
	p.Timezone = "Europe/Moscow"
	if a, b := BasisOf(&p), BasisOf(&p); !a.Same(b) {
		t.Error("two reads of one program's basis differ")
	}
	q := p
	q.Timezone = "Asia/Tokyo"
	if BasisOf(&p).Same(BasisOf(&q)) {
		t.Error("two zones compare the same")
	}
}
