package program

// MaxVersion bounds the program's version numbers (one per change).
const MaxVersion = 1_000_000_000

// Patch is a change to the program, as the brand sends it: a nil field
// stays as it is. Lists (escalation, promotions, tiers, streak.qualifying)
// are replaced whole when given; an empty list empties them.
type Patch struct {
	Currency              *string
	PointsPerUnit         *int64
	FirstPurchaseBonus    *int64
	Escalation            []int64
	BirthdayBonus         *int64
	CheckInPoints         *int64
	ReviewPoints          *int64
	EventAttendancePoints *int64
	PointsExpireDays      *int
	ReturnWindowDays      *int
	Promotions            []Promotion
	Tiers                 []Tier
	TierBasis             *TierBasis
	TierWindowMonths      *int
	TierGraceDays         *int
	Referral              *ReferralRulesPatch
	Streak                *StreakRulesPatch
	Timezone              *string
	Locale                *string
	LeaderboardGraceHours *int
	PointValueMinor       *int64
	Campaigns             *CampaignsPatch
	// RequireVerifiedEmailToRedeem: see Program.
	RequireVerifiedEmailToRedeem *bool
	CommunityPatch
	EventPatch
	Push *PushRulesPatch
}

// ReferralRulesPatch changes some of the referral rules.
type ReferralRulesPatch struct {
	ReferrerPoints     *int64
	RefereePoints      *int64
	MinPurchaseMinor   *int64
	MonthlyCap         *int
	ReversalWindowDays *int
}

// StreakRulesPatch changes some of the streak rules.
type StreakRulesPatch struct {
	Period      *StreakPeriod
	Qualifying  []ActivityKind
	FreezeMax   *int
	FreezeEvery *int
	FreezePrice *int64
	AtRiskHour  *int
}

// CampaignsPatch turns campaigns on or off and tunes them.
type CampaignsPatch struct {
	Birthday            *bool
	BirthdayHour        *int
	WinBack             *bool
	WinBackDays         *int
	PointsExpiring      *bool
	PointsExpiringDays  *int
	StreakAtRisk        *bool
	CouponExpiring      *bool
	CouponExpiringHours *int
	HoldoutPercent      *int
}

// Apply writes the fields pt sets into p. The result is not validated.
func (pt Patch) Apply(p *Program) {
	set(&p.Currency, pt.Currency)
	set(&p.PointsPerUnit, pt.PointsPerUnit)
	set(&p.FirstPurchaseBonus, pt.FirstPurchaseBonus)
	replace(&p.Escalation, pt.Escalation)
	set(&p.BirthdayBonus, pt.BirthdayBonus)
	set(&p.CheckInPoints, pt.CheckInPoints)
	set(&p.ReviewPoints, pt.ReviewPoints)
	set(&p.EventAttendancePoints, pt.EventAttendancePoints)
	set(&p.PointsExpireDays, pt.PointsExpireDays)
	set(&p.ReturnWindowDays, pt.ReturnWindowDays)
	replace(&p.Promotions, pt.Promotions)
	replace(&p.Tiers, pt.Tiers)
	set(&p.TierBasis, pt.TierBasis)
	set(&p.TierWindowMonths, pt.TierWindowMonths)
	set(&p.TierGraceDays, pt.TierGraceDays)
	if r := pt.Referral; r != nil {
		set(&p.Referral.ReferrerPoints, r.ReferrerPoints)
		set(&p.Referral.RefereePoints, r.RefereePoints)
		set(&p.Referral.MinPurchaseMinor, r.MinPurchaseMinor)
		set(&p.Referral.MonthlyCap, r.MonthlyCap)
		set(&p.Referral.ReversalWindowDays, r.ReversalWindowDays)
	}
	if s := pt.Streak; s != nil {
		set(&p.Streak.Period, s.Period)
		replace(&p.Streak.Qualifying, s.Qualifying)
		set(&p.Streak.FreezeMax, s.FreezeMax)
		set(&p.Streak.FreezeEvery, s.FreezeEvery)
		set(&p.Streak.FreezePrice, s.FreezePrice)
		set(&p.Streak.AtRiskHour, s.AtRiskHour)
	}
	set(&p.Timezone, pt.Timezone)
	set(&p.Locale, pt.Locale)
	set(&p.LeaderboardGraceHours, pt.LeaderboardGraceHours)
	set(&p.PointValueMinor, pt.PointValueMinor)
	if c := pt.Campaigns; c != nil {
		set(&p.Campaigns.Birthday, c.Birthday)
		set(&p.Campaigns.BirthdayHour, c.BirthdayHour)
		set(&p.Campaigns.WinBack, c.WinBack)
		set(&p.Campaigns.WinBackDays, c.WinBackDays)
		set(&p.Campaigns.PointsExpiring, c.PointsExpiring)
		set(&p.Campaigns.PointsExpiringDays, c.PointsExpiringDays)
		set(&p.Campaigns.StreakAtRisk, c.StreakAtRisk)
		set(&p.Campaigns.CouponExpiring, c.CouponExpiring)
		set(&p.Campaigns.CouponExpiringHours, c.CouponExpiringHours)
		if c.HoldoutPercent != nil {
			v := *c.HoldoutPercent
			p.Campaigns.Holdout = &v
		}
	}
	pt.CommunityPatch.apply(&p.CommunityRules)
	pt.EventPatch.apply(&p.EventRules)
	set(&p.RequireVerifiedEmailToRedeem, pt.RequireVerifiedEmailToRedeem)
	pt.Push.apply(&p.Push)
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func replace[T any](dst *[]T, v []T) {
	if v != nil {
		*dst = v
	}
}

// Replace is a change that makes the program p, whatever it was (for tools
// and tests that hold a whole program).
func Replace(p Program) func(*Program) {
	return func(cur *Program) { *cur = p }
}
