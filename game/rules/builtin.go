package rules

import (
	"crypto/sha256"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/program"
)

// Names of the built-in rules, as ledger lines name them.
const (
	RuleBase          = "base"
	RuleEscalation    = "escalation"
	RuleTier          = "tier"
	RuleFirstPurchase = "first-purchase"
	RuleBirthday      = "birthday"
	// RulePromotion prefixes a promotion's id: "promotion:<id>".
	RulePromotion = "promotion:"
)

// OnPurchaseEntry reports whether the built-in rule named name earns on
// the purchase's own ledger entry (base, escalation, tier, first purchase),
// as lines of that one entry; the others (promotions, birthday, the flat
// points of check-ins, reviews, events) each make an entry of their own.
func OnPurchaseEntry(name string) bool {
	return name == RuleBase || name == RuleEscalation || name == RuleTier || name == RuleFirstPurchase
}

// builtInID is a built-in rule's id: the same for the same key in every
// program version, so explanations and dry runs can name it.
func builtInID(key string) bson.ObjectID {
	sum := sha256.Sum256([]byte("builtin:" + key))
	var id bson.ObjectID
	copy(id[:], sum[:len(id)])
	return id
}

// ProgramRules are the program's own earning fields as rules, evaluated
// by the same engine as the brand's (ProgramSet), at the program's
// version: updateProgram writes the fields, and the rules follow from them.
//
//   - base: pointsPerUnit per currency unit of every purchase;
//   - escalation: for each multiplier m > 1 of escalation[i], m× base
//     points on the member's (i+2)-th purchase by date (adds (m−1)× base);
//   - tier: for each tier earning above 100%, its earnMultiplierPercent
//     of base points for members of that tier;
//   - first-purchase: firstPurchaseBonus on the first purchase awarded;
//   - promotion:<id>: a promotion's bonusPoints on purchases in its window,
//     expiring after its expiresAfterDays;
//   - birthday: birthdayBonus on any activity in the member's birthday
//     month (once a year: the game keys it by the year);
//   - check-in, review, event attendance: their fixed points.
//
// Built-in rules always stack: the brand's priorities and exclusivity
// order the brand's rules only. Their reasons are worded as the program
// always worded them ("2× points on your 2nd purchase").
func ProgramRules(p *program.Program) []*Rule {
	var out []*Rule
	add := func(key, name string, trigger program.ActivityKind, priority int, conds []Condition, eff Effect,
		say func(a *Activity, snap *Snapshot, sc scope, pts int64) string) *Rule {
		r := &Rule{ID: builtInID(key), Version: p.Version, Status: StatusActive, Name: name, Trigger: trigger, Match: MatchAll,
			Conditions: conds, Effect: eff, Priority: priority, BuiltIn: true, SetVersion: p.Version,
			UpdatedBy: "program", UpdatedAt: p.UpdatedAt, CreatedAt: p.UpdatedAt, say: say}
		out = append(out, r)
		return r
	}
	purchase := program.ActivityPurchase
	// The reasons hold copies: the set outlives the caller's program value.
	if ppu, cur := p.PointsPerUnit, p.Currency; ppu > 0 {
		add("base", RuleBase, purchase, 4, nil, Effect{PointsPerUnit: ppu},
			func(a *Activity, _ *Snapshot, _ scope, _ int64) string {
				return fmt.Sprintf("%d points per %s on %s", ppu, cur, program.FormatMoney(a.AmountMinor, cur))
			})
	}
	for i, m := range p.Escalation {
		if m <= 1 {
			continue
		}
		n := int64(i + 2)
		add(fmt.Sprint("escalation:", n), RuleEscalation, purchase, 3, []Condition{{NthPurchase: &n}}, Effect{MultiplierPercent: m * 100},
			func(*Activity, *Snapshot, scope, int64) string {
				return fmt.Sprintf("%d× points on your %s purchase", m, ordinal(n))
			})
	}
	for _, t := range p.Tiers {
		if t.EarnMultiplierPercent <= 100 {
			continue
		}
		add("tier:"+t.Name, RuleTier, purchase, 2, []Condition{{Tiers: []string{t.Name}}}, Effect{MultiplierPercent: t.EarnMultiplierPercent},
			func(*Activity, *Snapshot, scope, int64) string {
				return fmt.Sprintf("%s tier earns %d%% of base points", t.Name, t.EarnMultiplierPercent)
			})
	}
	if p.FirstPurchaseBonus > 0 {
		add("first-purchase", RuleFirstPurchase, purchase, 1, []Condition{{FirstPurchase: true}}, Effect{FixedPoints: p.FirstPurchaseBonus},
			func(*Activity, *Snapshot, scope, int64) string { return "bonus for your first purchase" })
	}
	for _, pr := range p.Promotions {
		if pr.BonusPoints <= 0 {
			continue
		}
		days := int64(pr.ExpiresAfterDays)
		r := add("promotion:"+pr.ID, RulePromotion+pr.ID, purchase, 0, nil, Effect{FixedPoints: pr.BonusPoints, ExpiresAfterDays: &days},
			func(a *Activity, _ *Snapshot, _ scope, _ int64) string {
				return fmt.Sprintf("%s: bonus on purchase %s, valid %d days", pr.Name, a.ExternalID, pr.ExpiresAfterDays)
			})
		starts, ends := pr.StartsAt, pr.EndsAt
		r.StartsAt, r.EndsAt = &starts, &ends
	}
	for _, f := range []struct {
		kind   program.ActivityKind
		name   string
		points int64
	}{{program.ActivityCheckIn, "check-in", p.CheckInPoints}, {program.ActivityReview, "review", p.ReviewPoints},
		{program.ActivityEventAttendance, "event attendance", p.EventAttendancePoints}} {
		if f.points <= 0 {
			continue
		}
		add(f.name, f.name, f.kind, 0, nil, Effect{FixedPoints: f.points},
			func(*Activity, *Snapshot, scope, int64) string {
				return fmt.Sprintf("%d points per %s", f.points, f.name)
			})
	}
	if p.BirthdayBonus > 0 {
		// One rule per kind that can fall in the birthday month: a rule has one trigger.
		for _, k := range []program.ActivityKind{purchase, program.ActivityCheckIn, program.ActivityReview,
			program.ActivityEventAttendance, program.ActivityCommunityPost} {
			add("birthday:"+string(k), RuleBirthday, k, 0, []Condition{{Birthday: true}}, Effect{FixedPoints: p.BirthdayBonus},
				func(_ *Activity, snap *Snapshot, _ scope, _ int64) string {
					return fmt.Sprintf("birthday reward for %d", snap.BirthdayYear)
				})
		}
	}
	return out
}

// ProgramSet is ProgramRules(p) as a Set, at the program's version.
func ProgramSet(p *program.Program) *Set {
	return NewSet(p.Version, BasisOf(p), ProgramRules(p))
}

// BirthdayYear is the year of now in loc when it is in the birthday month
// month, else 0 (Snapshot.BirthdayYear).
func BirthdayYear(now time.Time, loc *time.Location, month time.Month) int {
	local := now.In(loc)
	if local.Month() != month {
		return 0
	}
	return local.Year()
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
	return fmt.Sprintf("%d%s", n, suffix)
}
