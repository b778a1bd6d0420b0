package program

import (
	"testing"

	"github.com/regulars/regulars/input"
)

func TestProgramValidation(t *testing.T) {
	ok := Default()
	if err := ok.Validate(); err != nil {
		t.Fatalf("default program refused: %v", err)
	}
	cases := map[string]func(*Program){
		"currency":           func(p *Program) { p.Currency = "XYZ" },
		"pointsPerUnit":      func(p *Program) { p.PointsPerUnit = -1 },
		"escalation[0]":      func(p *Program) { p.Escalation = []int64{0} },
		"tiers":              func(p *Program) { p.Tiers[0].Threshold = 5 },
		"tiers[2].threshold": func(p *Program) { p.Tiers[2].Threshold = p.Tiers[1].Threshold },
		"tiers[2].name":      func(p *Program) { p.Tiers[2].Name = "member" },
		"tierBasis":          func(p *Program) { p.TierBasis = "VIBES" },
		"promotions[0].endsAt": func(p *Program) {
			p.Promotions = []Promotion{{ID: "x", Name: "x", BonusPoints: 1, ExpiresAfterDays: 1}}
		},
		"promotions[0].name": func(p *Program) {
			p.Promotions = []Promotion{{ID: "x", Name: "\u3164", BonusPoints: 1, ExpiresAfterDays: 1}}
		},
		"promotions[0].id": func(p *Program) {
			p.Promotions = []Promotion{{ID: "a b", Name: "x", BonusPoints: 1, ExpiresAfterDays: 1}}
		},
		"tiers[1].name":                  func(p *Program) { p.Tiers[1].Name = "\u202eGold" },
		"tiers[1].benefits[0]":           func(p *Program) { p.Tiers[1].Benefits = []string{"a\x00b"} },
		"referral.monthlyCap":            func(p *Program) { p.Referral.MonthlyCap = -1 },
		"tiers[0].earnMultiplierPercent": func(p *Program) { p.Tiers[0].EarnMultiplierPercent = 50 },
	}
	for field, spoil := range cases {
		p := Default()
		spoil(&p)
		if in, ok := input.As(p.Validate()); !ok || in.Field != field {
			t.Errorf("spoiled %s: got %v", field, p.Validate())
		}
	}
}
