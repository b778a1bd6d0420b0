package rollup

import (
	"maps"
	"slices"
)

// The rollup documents the figures read (Store). Each collection is keyed
// by a day or month number (calendar.go), a cohort or a member.

// Grouping is what groups members into cohorts.
type Grouping string

const (
	ByFirstPurchase Grouping = "FIRST_PURCHASE" // the month of a member's first purchase
	BySignup        Grouping = "SIGNUP"         // the month a member signed up
)

// Day is one day of purchases (collDays, _id the day number).
type Day struct {
	Day       int       `bson:"_id"`
	Purchases int64     `bson:"purchases"`
	Members   int64     `bson:"members"` // members with a purchase that day
	Cur       []Amounts `bson:"cur"`
	// Prev counts that day's purchasing members by their previous purchase
	// day (-1: none, a first purchase). A range [a, b] has as many distinct
	// purchasing members as member-days in it whose previous day is before a.
	Prev []Count `bson:"prev"`
	// Single counts members with exactly one purchase that day by previous
	// and next purchase day: a member buys exactly once in [a, b] when such
	// a day in it has its previous day before a and its next after b.
	Single []Single `bson:"single"`
}

// Count is a count C under a key K (a day, or a month offset).
type Count struct {
	K int   `bson:"k"`
	C int64 `bson:"c"`
}

// Single counts (C) members with one purchase on a day by their previous
// (P) and next (X) purchase days, -1 for none.
type Single struct {
	P int   `bson:"p"`
	X int   `bson:"x"`
	C int64 `bson:"c"`
}

// Cohort is one cohort (collCohorts, _id "<by>:<month>").
type Cohort struct {
	ID    string   `bson:"_id"`
	By    Grouping `bson:"by"`
	Month int      `bson:"month"`
	Size  int64    `bson:"size"`
	// Active counts the cohort's members purchasing in month Month+K.
	Active []Count `bson:"active"`
	// FirstDays counts members by the day of their first purchase
	// (first-purchase cohorts), and MaxFirstDay is the latest of them.
	FirstDays   []Count `bson:"firstDays,omitempty"`
	MaxFirstDay int     `bson:"maxFirstDay"`
	// Revenue is net revenue by currency and days after each member's
	// first purchase (first-purchase cohorts).
	Revenue []Revenue `bson:"revenue,omitempty"`
}

// Revenue is net revenue (minor units) in currency C on the day O days
// after each member's first purchase.
type Revenue struct {
	C   string `bson:"c"`
	O   int    `bson:"o"`
	Rev int64  `bson:"rev"`
}

// Points is one day's (or month's) points (collPoints: _id the day;
// collPointsMonthly: _id the month). Every ledger entry falls in exactly
// one of the four amounts, so issued − reversed − redeemed − expired is
// the change of the points outstanding.
type Points struct {
	Key int `bson:"_id"`
	// Issued: EARN, REFERRAL and ADJUST entries that credit.
	Issued int64 `bson:"issued"`
	// Reversed: what refunds took back (REFUND entries of a purchase),
	// reversed referrals (REFERRAL debits) and ADJUST debits.
	Reversed int64 `bson:"reversed"`
	// Redeemed: REDEEM entries (rewards, offers, streak freezes) less the
	// points cancelled redemptions gave back (REFUND entries of a redemption).
	Redeemed int64 `bson:"redeemed"`
	// Expired: EXPIRE entries.
	Expired int64 `bson:"expired"`
	// Tiers is the change of members per tier: a member's first entry adds
	// them to its tier, a tier change moves them.
	Tiers []TierCount `bson:"tiers"`
}

// TierCount is a number of members (C) in tier T.
type TierCount struct {
	T string `bson:"t"`
	C int64  `bson:"c"`
}

// Referral is one day of the referral funnel (collReferral).
type Referral struct {
	Day int `bson:"_id"`
	// SignUps: members who joined that day with a referral code.
	SignUps int64 `bson:"signUps"`
	// Converted: referees whose first qualifying purchase was converted
	// that day (rewarded, capped or since reversed); Reversed: those of
	// them whose rewards a refund has since taken back.
	Converted int64 `bson:"converted"`
	Reversed  int64 `bson:"reversed"`
}

// Plus adds o's amounts to p, and o's tier changes to tiers.
func (p *Points) Plus(o Points, tiers map[string]int64) {
	p.Issued += o.Issued
	p.Reversed += o.Reversed
	p.Redeemed += o.Redeemed
	p.Expired += o.Expired
	for _, t := range o.Tiers {
		tiers[t.T] += t.C
	}
}

// Counts lists m's counts by key, ascending.
func Counts(m map[int]int64) []Count {
	out := []Count{}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, Count{K: k, C: m[k]})
	}
	return out
}
