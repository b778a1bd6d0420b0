// Package program is the brand's loyalty program: how points are earned,
// expire and qualify for tiers, the streak rules, the campaigns, the
// language of notifications; and the kinds of activity members report.
// It owns the collection program (one document, the current program).
// Every other room of the game reads it; it imports none of them.
package program

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"golang.org/x/text/currency"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/page"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/texts"
)

// TierBasis is what qualifies a member for a tier.
type TierBasis string

const (
	TierBasisPointsEarned TierBasis = "POINTS_EARNED" // points earned in the window, never the balance
	TierBasisSpend        TierBasis = "SPEND"         // money spent in the window, in minor units
)

// Program is the brand's loyalty program: how points are earned, expire and
// qualify for tiers. Entries record the numbers they were made with, so a
// change never rewrites the past.
type Program struct {
	Version            int64   `bson:"version"`
	Currency           string  `bson:"currency"`
	PointsPerUnit      int64   `bson:"pointsPerUnit"` // per major unit of Currency
	FirstPurchaseBonus int64   `bson:"firstPurchaseBonus"`
	Escalation         []int64 `bson:"escalation"` // multipliers of a member's 2nd, 3rd… purchase by occurredAt (earnPurchase)
	BirthdayBonus      int64   `bson:"birthdayBonus"`
	CheckInPoints      int64   `bson:"checkInPoints"`
	ReviewPoints       int64   `bson:"reviewPoints"`
	// EventAttendancePoints are earned for each event checked in at.
	EventAttendancePoints int64         `bson:"eventAttendancePoints"`
	PointsExpireDays      int           `bson:"pointsExpireDays"` // 0: never
	ReturnWindowDays      int           `bson:"returnWindowDays"` // purchase points pending this long
	Promotions            []Promotion   `bson:"promotions"`
	Tiers                 []Tier        `bson:"tiers"`
	TierBasis             TierBasis     `bson:"tierBasis"`
	TierWindowMonths      int           `bson:"tierWindowMonths"`
	TierGraceDays         int           `bson:"tierGraceDays"`
	Referral              ReferralRules `bson:"referral"`
	Streak                StreakRules   `bson:"streak"`
	// Timezone is the brand's: weekly and monthly leaderboards follow it.
	Timezone string `bson:"timezone"`
	// Locale is the language of notifications for members who chose none
	// (one of texts.Locales).
	Locale string `bson:"locale"`
	// LeaderboardGraceHours keeps a period's standings open after it ends,
	// so members whose local day ends last still count.
	LeaderboardGraceHours int       `bson:"leaderboardGraceHours"`
	Campaigns             Campaigns `bson:"campaigns"`
	// Community rules (community.go).
	CommunityRules `bson:",inline"`
	// Event rules (events.go).
	EventRules `bson:",inline"`
	// Push says when marketing pushes may go out (push.go).
	Push PushRules `bson:"push"`
	// PointValueMinor is what one point is worth to the brand, in minor
	// units of Currency: analytics values the points outstanding (the
	// liability) with it. 0: not valued.
	PointValueMinor int64 `bson:"pointValueMinor"`
	// RequireVerifiedEmailToRedeem refuses redemptions to members who have
	// not verified their email address (package account).
	RequireVerifiedEmailToRedeem bool      `bson:"requireVerifiedEmailToRedeem"`
	UpdatedAt                    time.Time `bson:"updatedAt"`
}

// Campaigns are the triggered messages the brand turns on and tunes.
type Campaigns struct {
	// Birthday: greeting and birthday reward on the day, from this local hour.
	Birthday     bool `bson:"birthday"`
	BirthdayHour int  `bson:"birthdayHour"`
	// WinBack: after this many days without a purchase, once per spell.
	WinBack     bool `bson:"winBack"`
	WinBackDays int  `bson:"winBackDays"`
	// PointsExpiring: points expiring within this many days.
	PointsExpiring     bool `bson:"pointsExpiring"`
	PointsExpiringDays int  `bson:"pointsExpiringDays"`
	// StreakAtRisk: in the evening of the member's day (streak.atRiskHour).
	StreakAtRisk bool `bson:"streakAtRisk"`
	// CouponExpiring: a claimed coupon expiring within this many hours.
	CouponExpiring      bool `bson:"couponExpiring"`
	CouponExpiringHours int  `bson:"couponExpiringHours"`
	// Holdout is the share of members, in percent, each campaign leaves
	// out to measure its uplift (game/holdout); nil: DefaultHoldoutPercent
	// (programs saved before it existed).
	Holdout *int `bson:"holdoutPercent,omitempty"`
}

// DefaultHoldoutPercent is the campaigns' holdout unless the brand sets one.
const DefaultHoldoutPercent = 10

// HoldoutPercent is the share of members (0 to 50) each campaign holds out.
func (c Campaigns) HoldoutPercent() int {
	if c.Holdout == nil {
		return DefaultHoldoutPercent
	}
	return *c.Holdout
}

// ManagesProgram reports whether p runs the program: BRAND users and the
// brand's backend. They see inactive rewards, secret badges, a badge's
// backfill and an offer's publishing progress.
func ManagesProgram(p member.Principal) bool { return p.Has(member.RoleBrand) }

// LocaleOf is the language of m's notifications: theirs, else the program's.
func (p *Program) LocaleOf(m *member.Member) string {
	if m != nil && m.Locale != "" {
		return m.Locale
	}
	if p.Locale != "" {
		return p.Locale
	}
	return texts.DefaultLocale
}

// Location is the brand's timezone.
func (p *Program) Location() *time.Location {
	if loc, err := time.LoadLocation(p.Timezone); err == nil && p.Timezone != "" {
		return loc
	}
	return time.UTC
}

// Promotion gives bonus points for purchases in a window; they expire soon.
type Promotion struct {
	ID               string    `bson:"id"`
	Name             string    `bson:"name"`
	BonusPoints      int64     `bson:"bonusPoints"`
	StartsAt         time.Time `bson:"startsAt"`
	EndsAt           time.Time `bson:"endsAt"`
	ExpiresAfterDays int       `bson:"expiresAfterDays"`
}

// Tier is a level of the program with its benefits.
type Tier struct {
	Name                  string   `bson:"name"`
	Threshold             int64    `bson:"threshold"`
	EarnMultiplierPercent int64    `bson:"earnMultiplierPercent"` // 100 = 1×
	Benefits              []string `bson:"benefits"`              // access flags used by events and offers
}

// ReferralRules configure the double-sided referral reward.
type ReferralRules struct {
	ReferrerPoints     int64 `bson:"referrerPoints"`
	RefereePoints      int64 `bson:"refereePoints"`
	MinPurchaseMinor   int64 `bson:"minPurchaseMinor"`
	MonthlyCap         int   `bson:"monthlyCap"`
	ReversalWindowDays int   `bson:"reversalWindowDays"`
}

// DefaultProgram is what a new brand starts with, modelled on the seed
// programs: 2× on the second purchase, 3× on the third.
func Default() Program {
	return Program{
		Currency: "USD", PointsPerUnit: 10, FirstPurchaseBonus: 50, Escalation: []int64{2, 3},
		BirthdayBonus: 200, CheckInPoints: 5, ReviewPoints: 20, EventAttendancePoints: 50,
		PointsExpireDays: 365, ReturnWindowDays: 14,
		Tiers: []Tier{
			{Name: "Member", Threshold: 0, EarnMultiplierPercent: 100},
			{Name: "Silver", Threshold: 1000, EarnMultiplierPercent: 125, Benefits: []string{"early-access"}},
			{Name: "Gold", Threshold: 5000, EarnMultiplierPercent: 150, Benefits: []string{"early-access", "members-events"}},
		},
		TierBasis: TierBasisPointsEarned, TierWindowMonths: 12, TierGraceDays: 30,
		Referral: ReferralRules{ReferrerPoints: 500, RefereePoints: 500, MonthlyCap: 10, ReversalWindowDays: 30},
		Streak:   StreakRules{Period: StreakDaily, FreezeMax: 2, FreezeEvery: 7, FreezePrice: 200, AtRiskHour: 20},
		Timezone: "UTC", Locale: texts.DefaultLocale, LeaderboardGraceHours: 26, PointValueMinor: 1,
		Campaigns: Campaigns{Birthday: true, BirthdayHour: 9, WinBack: true, WinBackDays: 60, PointsExpiring: true, PointsExpiringDays: 7,
			StreakAtRisk: true, CouponExpiring: true, CouponExpiringHours: 24},
		CommunityRules: DefaultCommunityRules(),
		Push:           DefaultPushRules(),
	}
}

// MaxHoldoutPercent bounds a holdout: at most half the members are left
// out (game/holdout.MaxPercent).
const MaxHoldoutPercent = 50

// MaxPointValueMinor bounds pointValueMinor: a point worth at most 100.00.
const MaxPointValueMinor = 10_000

// MaxPoints bounds what any single rule may award.
const MaxPoints = 10_000_000

// Bounds of amounts, prices, quantities and points. Every value a client
// sends or reads stays below 2^31 (GraphQL's Int): a balance at most
// MaxBalance, one activity at most MaxActivityPoints, a board score at most
// leaderboard.MaxScore.
const (
	// MaxAmountMinor bounds an activity's amount and a line item's price,
	// in minor units (10,000,000.00 in a two-decimal currency).
	MaxAmountMinor = 1_000_000_000
	// MaxQuantity bounds a line item's quantity.
	MaxQuantity = 1_000_000
	// MaxActivityPoints bounds what one activity may earn, at the
	// program's highest multipliers (escalation and tier) with every
	// promotion and the first-purchase bonus.
	MaxActivityPoints = 100_000_000
	// MaxBalance bounds a member's balance: a credit past it is refused.
	MaxBalance = 1_000_000_000
	// MaxThreshold bounds a tier's threshold (points or minor units).
	MaxThreshold = MaxBalance
)

// MostPoints is the most points a purchase of amountMinor can earn under
// p: base points at the highest escalation and tier multipliers, plus every
// promotion and the first-purchase bonus. Bounds are checked against it.
func (p *Program) MostPoints(amountMinor int64) int64 {
	esc, pct := int64(1), int64(100)
	for _, m := range p.Escalation {
		esc = max(esc, m)
	}
	for _, t := range p.Tiers {
		pct = max(pct, t.EarnMultiplierPercent)
	}
	n := amountMinor * p.PointsPerUnit / MinorPerUnit(p.Currency) * esc * pct / 100
	n += p.FirstPurchaseBonus + p.Referral.RefereePoints
	for _, pr := range p.Promotions {
		n += pr.BonusPoints
	}
	return n
}

// Bounds of the program's texts, in characters (grapheme clusters, see
// input.Text), and of its identifiers (input.Identifier).
const (
	MaxTierName      = 40
	MaxBenefits      = 20
	MaxBenefit       = 64
	MaxPromotionName = 100
	MaxPromotionID   = 64
)

// Validate checks the program; the first problem names its field.
func (p *Program) Validate() error {
	p.Currency = strings.ToUpper(strings.TrimSpace(p.Currency))
	if !ValidISO(p.Currency) {
		return input.Errorf("currency", "%q is not an ISO 4217 currency", p.Currency)
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"pointsPerUnit", p.PointsPerUnit}, {"firstPurchaseBonus", p.FirstPurchaseBonus},
		{"birthdayBonus", p.BirthdayBonus}, {"checkInPoints", p.CheckInPoints}, {"reviewPoints", p.ReviewPoints}, {"eventAttendancePoints", p.EventAttendancePoints},
		{"referral.referrerPoints", p.Referral.ReferrerPoints}, {"referral.refereePoints", p.Referral.RefereePoints},
	} {
		if f.v < 0 || f.v > MaxPoints {
			return input.Errorf(f.name, "must be between 0 and %d", MaxPoints)
		}
	}
	for i, m := range p.Escalation {
		if m < 1 || m > 10 {
			return input.Errorf(fmt.Sprintf("escalation[%d]", i), "must be a multiplier from 1 to 10")
		}
	}
	if len(p.Escalation) > 10 {
		return input.Errorf("escalation", "at most 10 purchases escalate")
	}
	for _, f := range []struct {
		name   string
		v, max int
	}{
		{"pointsExpireDays", p.PointsExpireDays, 3650}, {"returnWindowDays", p.ReturnWindowDays, 365},
		{"tierWindowMonths", p.TierWindowMonths, 60}, {"tierGraceDays", p.TierGraceDays, 365},
		{"referral.monthlyCap", p.Referral.MonthlyCap, 10000}, {"referral.reversalWindowDays", p.Referral.ReversalWindowDays, 365},
	} {
		if f.v < 0 || f.v > f.max {
			return input.Errorf(f.name, "must be between 0 and %d", f.max)
		}
	}
	if p.Timezone == "" {
		p.Timezone = "UTC"
	}
	if _, err := time.LoadLocation(p.Timezone); err != nil || p.Timezone == "Local" {
		return input.Errorf("timezone", "%q is not an IANA timezone", p.Timezone)
	}
	if p.Locale == "" {
		p.Locale = texts.DefaultLocale
	}
	if !texts.Supported(p.Locale) {
		return input.Errorf("locale", "unsupported locale %q; supported: %s", p.Locale, strings.Join(texts.Locales, ", "))
	}
	if p.PointValueMinor < 0 || p.PointValueMinor > MaxPointValueMinor {
		return input.Errorf("pointValueMinor", "must be between 0 and %d", MaxPointValueMinor)
	}
	if p.LeaderboardGraceHours < 0 || p.LeaderboardGraceHours > 24*14 {
		return input.Errorf("leaderboardGraceHours", "must be between 0 and %d", 24*14)
	}
	switch st := p.Streak; {
	case st.Period != StreakDaily && st.Period != StreakWeekly:
		return input.Errorf("streak.period", "must be DAILY or WEEKLY")
	case st.FreezeMax < 0 || st.FreezeMax > 30:
		return input.Errorf("streak.freezeMax", "must be between 0 and 30")
	case st.FreezeEvery < 0 || st.FreezeEvery > 365:
		return input.Errorf("streak.freezeEvery", "must be between 0 and 365")
	case st.FreezePrice < 0 || st.FreezePrice > MaxPoints:
		return input.Errorf("streak.freezePrice", "must be between 0 and %d", MaxPoints)
	case st.AtRiskHour < 0 || st.AtRiskHour > 23:
		return input.Errorf("streak.atRiskHour", "must be an hour from 0 to 23")
	}
	switch c := p.Campaigns; {
	case c.BirthdayHour < 0 || c.BirthdayHour > 23:
		return input.Errorf("campaigns.birthdayHour", "must be an hour from 0 to 23")
	case c.WinBack && (c.WinBackDays < 1 || c.WinBackDays > 3650):
		return input.Errorf("campaigns.winBackDays", "must be between 1 and 3650")
	case c.PointsExpiring && (c.PointsExpiringDays < 1 || c.PointsExpiringDays > 365):
		return input.Errorf("campaigns.pointsExpiringDays", "must be between 1 and 365")
	case c.CouponExpiring && (c.CouponExpiringHours < 1 || c.CouponExpiringHours > 24*30):
		return input.Errorf("campaigns.couponExpiringHours", "must be between 1 and 720")
	case c.HoldoutPercent() < 0 || c.HoldoutPercent() > MaxHoldoutPercent:
		return input.Errorf("campaigns.holdoutPercent", "must be between 0 and %d", MaxHoldoutPercent)
	}
	if err := p.EventRules.validate(); err != nil {
		return err
	}
	if err := p.CommunityRules.validate(); err != nil {
		return err
	}
	if err := p.Push.validate(); err != nil {
		return err
	}
	for i, k := range p.Streak.Qualifying {
		if !k.Valid() || k == ActivityRefund {
			return input.Errorf(fmt.Sprintf("streak.qualifying[%d]", i), "%q cannot keep a streak", k)
		}
	}
	if p.TierWindowMonths == 0 {
		return input.Errorf("tierWindowMonths", "must be at least 1")
	}
	if p.Referral.MinPurchaseMinor < 0 || p.Referral.MinPurchaseMinor > MaxAmountMinor {
		return input.Errorf("referral.minPurchaseMinor", "must be between 0 and %d", MaxAmountMinor)
	}
	if len(p.Tiers) > 20 {
		return input.Errorf("tiers", "at most 20 tiers")
	}
	if len(p.Promotions) > 50 {
		return input.Errorf("promotions", "at most 50 promotions")
	}
	if p.TierBasis != TierBasisPointsEarned && p.TierBasis != TierBasisSpend {
		return input.Errorf("tierBasis", "must be POINTS_EARNED or SPEND")
	}
	if len(p.Tiers) == 0 || p.Tiers[0].Threshold != 0 {
		return input.Errorf("tiers", "the first tier must have threshold 0: every member is in a tier")
	}
	names := map[string]bool{}
	for i, t := range p.Tiers {
		field := fmt.Sprintf("tiers[%d]", i)
		var err error
		if t.Name, err = input.Line(field+".name", t.Name, MaxTierName); err != nil {
			return err
		}
		p.Tiers[i].Name = t.Name
		if len(t.Benefits) > MaxBenefits {
			return input.Errorf(field+".benefits", "at most %d benefits", MaxBenefits)
		}
		for j, b := range t.Benefits {
			// Benefits are flags events and offers check, not prose.
			if p.Tiers[i].Benefits[j], err = input.Identifier(fmt.Sprintf("%s.benefits[%d]", field, j), b, MaxBenefit); err != nil {
				return err
			}
		}
		switch {
		case names[strings.ToLower(t.Name)]:
			return input.Errorf(field+".name", "%q appears twice", t.Name)
		case t.Threshold > MaxThreshold:
			return input.Errorf(field+".threshold", "must be at most %d", MaxThreshold)
		case i > 0 && t.Threshold <= p.Tiers[i-1].Threshold:
			return input.Errorf(field+".threshold", "must be above the previous tier's")
		case t.EarnMultiplierPercent < 100 || t.EarnMultiplierPercent > 1000:
			return input.Errorf(field+".earnMultiplierPercent", "must be from 100 (1×) to 1000 (10×)")
		}
		names[strings.ToLower(t.Name)] = true
	}
	ids := map[string]bool{}
	for i, pr := range p.Promotions {
		field := fmt.Sprintf("promotions[%d]", i)
		var err error
		if pr.ID, err = input.Identifier(field+".id", pr.ID, MaxPromotionID); err != nil {
			return err
		}
		if pr.Name, err = input.Line(field+".name", pr.Name, MaxPromotionName); err != nil {
			return err
		}
		p.Promotions[i].ID, p.Promotions[i].Name = pr.ID, pr.Name
		switch {
		case ids[pr.ID]:
			return input.Errorf(field+".id", "must be unique")
		case !pr.EndsAt.After(pr.StartsAt):
			return input.Errorf(field+".endsAt", "must be after the start")
		case pr.BonusPoints <= 0 || pr.BonusPoints > MaxPoints:
			return input.Errorf(field+".bonusPoints", "must be between 1 and %d", MaxPoints)
		case pr.ExpiresAfterDays < 1 || pr.ExpiresAfterDays > 365:
			return input.Errorf(field+".expiresAfterDays", "must be between 1 and 365")
		}
		ids[pr.ID] = true
	}
	return nil
}

// TierNamed returns the tier called name, if any.
func (p *Program) TierNamed(name string) (Tier, bool) {
	for _, t := range p.Tiers {
		if strings.EqualFold(t.Name, name) {
			return t, true
		}
	}
	return Tier{}, false
}

// TierOf is the tier a member is in, given the name their ledger holds:
// that name, or the first tier (threshold 0) while the ledger has placed
// them in none yet (before their first points), "" without tiers.
func (p *Program) TierOf(held string) string {
	if held == "" && len(p.Tiers) > 0 {
		return p.Tiers[0].Name
	}
	return held
}

// TierRank is the position of a tier, -1 if unknown.
func (p *Program) TierRank(name string) int {
	for i, t := range p.Tiers {
		if strings.EqualFold(t.Name, name) {
			return i
		}
	}
	return -1
}

// ValidISO reports whether c is an ISO 4217 currency code.
func ValidISO(c string) bool {
	_, err := currency.ParseISO(c)
	return err == nil && len(c) == 3
}

// MinorPerUnit is 10^(the currency's decimals): 100 for USD, 1 for JPY.
func MinorPerUnit(cur string) int64 {
	u, err := currency.ParseISO(cur)
	if err != nil {
		return 100
	}
	scale, _ := currency.Standard.Rounding(u)
	n := int64(1)
	for range scale {
		n *= 10
	}
	return n
}

// FormatMoney writes minor units of cur as the currency's major units:
// "42.50 USD", "500 JPY", "1.005 KWD".
func FormatMoney(minor int64, cur string) string {
	unit := MinorPerUnit(cur)
	if unit == 1 {
		return fmt.Sprintf("%d %s", minor, cur)
	}
	digits := 0
	for u := unit; u > 1; u /= 10 {
		digits++
	}
	return fmt.Sprintf("%d.%0*d %s", minor/unit, digits, minor%unit, cur)
}

// ActivityKind is what a member did.
type ActivityKind string

const (
	ActivityPurchase ActivityKind = "PURCHASE"
	ActivityRefund   ActivityKind = "REFUND"
	ActivityCheckIn  ActivityKind = "CHECK_IN"
	ActivityReview   ActivityKind = "REVIEW"
	// ActivityEventAttendance: checked in at a members-only event
	// (community/events), keyed by the RSVP.
	ActivityEventAttendance ActivityKind = "EVENT_ATTENDANCE"
	// ActivityCommunityPost is a thread or reply posted in the community,
	// keyed by the post's id (community.go).
	ActivityCommunityPost ActivityKind = "COMMUNITY_POST"
)

// Valid reports whether k is a known kind.
func (k ActivityKind) Valid() bool {
	switch k {
	case ActivityPurchase, ActivityRefund, ActivityCheckIn, ActivityReview, ActivityEventAttendance, ActivityCommunityPost:
		return true
	}
	return false
}

// StreakPeriod is what a streak counts: days or weeks.
type StreakPeriod string

const (
	StreakDaily  StreakPeriod = "DAILY"
	StreakWeekly StreakPeriod = "WEEKLY"
)

// StreakRules configure streaks.
type StreakRules struct {
	Period StreakPeriod `bson:"period"`
	// Qualifying kinds keep a streak alive; empty means any but a refund.
	Qualifying []ActivityKind `bson:"qualifying"`
	// A member holds at most FreezeMax freezes.
	FreezeMax int `bson:"freezeMax"`
	// One freeze is earned every FreezeEvery periods of streak; 0: never.
	FreezeEvery int `bson:"freezeEvery"`
	// FreezePrice is a freeze's cost in points; 0: not for sale.
	FreezePrice int64 `bson:"freezePrice"`
	// From this local hour a member who has not yet kept today's streak is at risk.
	AtRiskHour int `bson:"atRiskHour"`
}

// Qualifies reports whether an activity of kind k keeps a streak alive.
func (r StreakRules) Qualifies(k ActivityKind) bool {
	if k == ActivityRefund {
		return false
	}
	if len(r.Qualifying) == 0 {
		// Posting in the community keeps a streak only when the brand lists it.
		return k != ActivityCommunityPost
	}
	return slices.Contains(r.Qualifying, k)
}

// ErrChanged is a program update made on a version that is no longer the
// current one: read the program again and retry.
var ErrChanged = fault.New(fault.Conflict, "the program changed since the version this update was made on; read it again")

// Store keeps the current program and every version it had. Copies of a
// Store share its cache (Get).
type Store struct {
	current, versions *mongo.Collection
	cache             *programCache
}

// NewStore returns the program kept in db: the current one in "program",
// each version in "program_versions", keyed by its number.
func NewStore(db *mongo.Database) Store {
	return Store{current: db.Collection("program"), versions: db.Collection("program_versions"), cache: &programCache{}}
}

const programID = "current"

// CacheTTL is how long a Store answers Get from the program it read last
// before reading it again: every purchase reads the program, and it
// changes rarely. A change saved through this Store (or a copy of it)
// applies at once; one saved through another instance within CacheTTL.
const CacheTTL = 2 * time.Second

// programCache holds the current program as last read, as BSON: each Get
// decodes its own copy, so no caller shares slices with another.
type programCache struct {
	mu   sync.Mutex
	raw  bson.Raw // nil with have: no program saved yet (the default)
	have bool
	read time.Time
	// gen counts invalidations: a read that began before one does not
	// fill the cache with what it read.
	gen uint64
}

// Get returns the current program, the default one (version 0) before any
// is saved. It is read at most every CacheTTL (see CacheTTL).
func (s Store) Get(ctx context.Context) (Program, error) {
	c := s.cache
	if c == nil {
		return s.read(ctx)
	}
	c.mu.Lock()
	if c.have && time.Since(c.read) < CacheTTL {
		raw := c.raw
		c.mu.Unlock()
		return decodeProgram(raw)
	}
	gen := c.gen
	c.mu.Unlock()
	raw, err := s.readRaw(ctx)
	if err != nil {
		return Program{}, err
	}
	c.mu.Lock()
	if c.gen == gen {
		c.raw, c.have, c.read = raw, true, time.Now()
	}
	c.mu.Unlock()
	return decodeProgram(raw)
}

// read returns the current program from the database, bypassing the cache.
func (s Store) read(ctx context.Context) (Program, error) {
	raw, err := s.readRaw(ctx)
	if err != nil {
		return Program{}, err
	}
	return decodeProgram(raw)
}

// readRaw reads the current program's document; nil when none is saved.
func (s Store) readRaw(ctx context.Context) (bson.Raw, error) {
	raw, err := s.current.FindOne(ctx, bson.D{{Key: "_id", Value: programID}}).Raw()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	return raw, err
}

func decodeProgram(raw bson.Raw) (Program, error) {
	if raw == nil {
		return Default(), nil
	}
	var doc struct {
		Program `bson:",inline"`
	}
	err := bson.Unmarshal(raw, &doc)
	return doc.Program, err
}

// forget drops the cached program, so the next Get reads it.
func (s Store) forget() {
	if c := s.cache; c != nil {
		c.mu.Lock()
		c.have, c.raw = false, nil
		c.gen++
		c.mu.Unlock()
	}
}

// Save makes p, numbered one above the current version, the current
// program. Version numbers are claimed by a keyed insert into the history,
// so of two updates made on one version exactly one lands; the other gets
// ErrChanged. No transaction is needed: a claim whose second step never ran
// (a crash between the two) is rolled forward by the next Save.
func (s Store) Save(ctx context.Context, p Program) error {
	defer s.forget()
	prev := p.Version - 1
	_, err := s.versions.InsertOne(ctx, version{Number: p.Version, Program: p})
	if mongo.IsDuplicateKeyError(err) {
		if err := s.rollForward(ctx, p.Version); err != nil {
			return err
		}
		return ErrChanged
	}
	if err != nil {
		return err
	}
	return s.replace(ctx, prev, p)
}

// replace swaps the current program for p if it is still at version prev.
func (s Store) replace(ctx context.Context, prev int64, p Program) error {
	filter := bson.D{{Key: "_id", Value: programID}, {Key: "version", Value: prev}}
	if prev == 0 {
		// The default program is not stored: version 0 is "no document yet".
		filter = bson.D{{Key: "_id", Value: programID}, {Key: "version", Value: bson.D{{Key: "$in", Value: bson.A{0, nil}}}}}
	}
	_, err := s.current.ReplaceOne(ctx, filter, p, options.Replace().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) {
		return ErrChanged // the current program moved past prev
	}
	return err
}

// rollForward finishes the Save that claimed version n, if the current
// program is still the one before it.
func (s Store) rollForward(ctx context.Context, n int64) error {
	var v version
	if err := s.versions.FindOne(ctx, bson.D{{Key: "_id", Value: n}}).Decode(&v); err != nil {
		return err
	}
	err := s.replace(ctx, n-1, v.Program)
	if errors.Is(err, ErrChanged) {
		return nil
	}
	return err
}

// version is one saved program, kept for the brand's history.
type version struct {
	Number  int64 `bson:"_id"`
	Program `bson:",inline"`
}

// Versions pages the program's history, newest first: at most limit
// versions numbered below before (0: from the newest), and whether more
// follow. The history starts with the first version saved by this release.
func (s Store) Versions(ctx context.Context, before int64, limit int) ([]Program, bool, error) {
	filter := bson.D{}
	if before > 0 {
		filter = bson.D{{Key: "_id", Value: bson.D{{Key: "$lt", Value: before}}}}
	}
	vs, more, err := page.Find[version](ctx, s.versions, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}), limit)
	if err != nil {
		return nil, false, err
	}
	out := make([]Program, len(vs))
	for i, v := range vs {
		out[i] = v.Program
	}
	return out, more, nil
}
