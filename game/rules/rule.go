// Package rules is the language of the brand's earning rules: declarative
// promotions ("triple points on the Rides category this weekend", "5
// points per item of SKU X, at most 3 times per member") as versioned data,
// their validation, and their evaluation as a pure function of (rule set,
// activity, member snapshot), with explanations. The program's own earning
// fields (base points, escalation, tiers, first purchase, promotions,
// birthday, check-in, review and event points) are built-in rules of the
// same engine (ProgramRules). The rules kept in the database, their limits
// and cache are package ruleset's; dry runs of a change are package
// dryrun's. It knows nothing of storage, HTTP or GraphQL.
package rules

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/input"
)

// Status is where a rule is in its life.
type Status string

const (
	StatusActive   Status = "ACTIVE"   // evaluated for every activity of its trigger
	StatusPaused   Status = "PAUSED"   // kept, not evaluated; can be resumed by an update
	StatusArchived Status = "ARCHIVED" // retired for good; kept for history
)

// Match says whether all conditions must hold or any one.
type Match string

const (
	MatchAll Match = "ALL"
	MatchAny Match = "ANY"
)

// Rule is one earning rule at one version. A change makes a new version;
// every version is kept (Store.History) with who made it and when.
type Rule struct {
	ID      bson.ObjectID        `bson:"_id"`
	Version int64                `bson:"version"`
	Status  Status               `bson:"status"`
	Name    string               `bson:"name"`
	Trigger program.ActivityKind `bson:"trigger"`
	Match   Match                `bson:"match"`
	// Conditions must all (or any, by Match) hold; none: always.
	Conditions []Condition `bson:"conditions,omitempty"`
	// StartsAt and EndsAt bound when activities (by occurredAt) count,
	// whatever Match says; nil: open.
	StartsAt *time.Time `bson:"startsAt,omitempty"`
	EndsAt   *time.Time `bson:"endsAt,omitempty"`
	// Timezone of the day-of-week and hour conditions; empty: the program's.
	Timezone string `bson:"timezone,omitempty"`
	Effect   Effect `bson:"effect"`
	Limits   Limits `bson:"limits"`
	// Priority orders evaluation, highest first (ties by name).
	Priority int `bson:"priority"`
	// Exclusive: when it is the highest-priority rule that matches, no
	// other rule applies; below a matching rule it does not apply.
	Exclusive bool `bson:"exclusive"`
	// ExclusiveSlot is "<priority>" on an active exclusive rule and unset
	// otherwise: a unique sparse index keeps two active exclusive rules
	// from sharing a priority, even when they are written at once.
	ExclusiveSlot *int `bson:"exclusiveSlot,omitempty"`
	// SetVersion is the rule set's version this rule version made.
	SetVersion int64     `bson:"setVersion"`
	UpdatedBy  string    `bson:"updatedBy"`
	UpdatedAt  time.Time `bson:"updatedAt"`
	CreatedAt  time.Time `bson:"createdAt"`
	// BuiltIn marks a rule derived from the program's own fields
	// (ProgramRules): never stored, versioned with the program.
	BuiltIn bool `bson:"-"`
	// say words a built-in rule's reason as the program always has.
	say func(a *Activity, snap *Snapshot, sc scope, pts int64) string
}

// Weekday is a day of the week, as the API names it.
type Weekday string

var weekdays = map[Weekday]time.Weekday{"SUNDAY": time.Sunday, "MONDAY": time.Monday, "TUESDAY": time.Tuesday,
	"WEDNESDAY": time.Wednesday, "THURSDAY": time.Thursday, "FRIDAY": time.Friday, "SATURDAY": time.Saturday}

// Condition is one test of an activity and its member. Exactly one of its
// fields is set; that field says what it tests.
type Condition struct {
	// BasketTotalAtLeast: the activity's amount, minor units, at least this.
	BasketTotalAtLeast *int64 `bson:"basketTotalAtLeast,omitempty"`
	// Items: line items whose SKU or category is in the sets, with at
	// least MinQuantity units between them. The rule's per-unit,
	// multiplier and per-item effects then count these items only.
	Items *ItemCondition `bson:"items,omitempty"`
	// NthPurchase: the purchase is the member's n-th by date (escalation's
	// position, see game.earnPurchase).
	NthPurchase *int64 `bson:"nthPurchase,omitempty"`
	// Tiers: the member's tier is one of these.
	Tiers []string `bson:"tiers,omitempty"`
	// BadgeHeld: the member holds a level of this badge (its id, hex).
	BadgeHeld string `bson:"badgeHeld,omitempty"`
	// DaysSinceLastPurchaseAtLeast: this many days or more since the
	// member's previous purchase (a member with none passes).
	DaysSinceLastPurchaseAtLeast *int64 `bson:"daysSinceLastPurchaseAtLeast,omitempty"`
	// DaysOfWeek: the local day (rule's timezone) is one of these.
	DaysOfWeek []Weekday `bson:"daysOfWeek,omitempty"`
	// Hours: the local hour is in [From, To); To < From wraps past midnight.
	Hours *HourWindow `bson:"hours,omitempty"`
	// FirstPurchase and Birthday are the built-in rules' own tests
	// (ProgramRules), which the API cannot write: the member's first
	// purchase awarded (Snapshot.First), the member's birthday month
	// (Snapshot.BirthdayYear).
	FirstPurchase bool `bson:"firstPurchase,omitempty"`
	Birthday      bool `bson:"birthday,omitempty"`
}

// ItemCondition selects line items.
type ItemCondition struct {
	SKUs        []string `bson:"skus,omitempty"`
	Categories  []string `bson:"categories,omitempty"`
	MinQuantity int64    `bson:"minQuantity"`
}

// HourWindow is [From, To) in local hours, 0–24.
type HourWindow struct {
	From int64 `bson:"from"`
	To   int64 `bson:"to"`
}

// Effect is what a matching rule earns; the parts add up to one ledger line.
type Effect struct {
	// PointsPerUnit per major currency unit of the basket (or of the
	// matching items).
	PointsPerUnit int64 `bson:"pointsPerUnit,omitempty"`
	// MultiplierPercent of the base points (program.pointsPerUnit) of the
	// basket or matching items: 300 is triple points, so the rule adds
	// twice the base. 101 to MaxMultiplierPercent.
	MultiplierPercent int64 `bson:"multiplierPercent,omitempty"`
	FixedPoints       int64 `bson:"fixedPoints,omitempty"`
	// PointsPerItem per unit of the matching items (every item without an
	// item condition).
	PointsPerItem int64 `bson:"pointsPerItem,omitempty"`
	// ExpiresAfterDays and PendingDays replace the program's
	// pointsExpireDays and returnWindowDays for these points; nil: the
	// program's (pending applies to purchases only).
	ExpiresAfterDays *int64 `bson:"expiresAfterDays,omitempty"`
	PendingDays      *int64 `bson:"pendingDays,omitempty"`
}

// Limits cap what a rule gives. Zero is no limit.
type Limits struct {
	PerMember          int64 `bson:"perMember,omitempty"`          // times per member, ever
	PerMemberPerDay    int64 `bson:"perMemberPerDay,omitempty"`    // times per member per local day
	PerMemberPerPeriod int64 `bson:"perMemberPerPeriod,omitempty"` // times per member per period of PeriodDays
	PeriodDays         int64 `bson:"periodDays,omitempty"`         // periods counted from the Unix epoch, local days
	BudgetPoints       int64 `bson:"budgetPoints,omitempty"`       // points the rule gives in all, across members
}

// Bounds of a rule's numbers and lists (BAD_USER_INPUT past them).
const (
	MaxName              = 100
	MaxConditions        = 20
	MaxSetItems          = 100 // SKUs, categories, tiers per condition
	MaxMultiplierPercent = 1000
	MaxNthPurchase       = 1000
	MaxDays              = 3650
	MaxPendingDays       = 365
	MaxTimes             = 1_000_000
	MaxPriority          = 1000
	MaxActiveRules       = 200
)

// Input is a rule as the brand writes it (create and update alike).
type Input struct {
	Name       string
	Trigger    program.ActivityKind
	Match      Match
	Conditions []Condition
	StartsAt   *time.Time
	EndsAt     *time.Time
	Timezone   string
	Effect     Effect
	Limits     Limits
	Priority   int
	Exclusive  bool
}

// Catalog answers what validation must know of the program: its tiers and
// badges.
type Catalog interface {
	TierExists(name string) bool
	BadgeExists(id string) bool
}

// Validate checks in against the program, normalising it; the first problem
// is an input error naming its field (conditions[1].items.skus[0],
// effect.multiplierPercent…).
func (in *Input) Validate(cat Catalog) error {
	var err error
	if in.Name, err = input.Line("name", in.Name, MaxName); err != nil {
		return err
	}
	if !in.Trigger.Valid() || in.Trigger == program.ActivityRefund {
		return input.Errorf("trigger", "%q cannot trigger a rule; refunds take back what their purchase earned", in.Trigger)
	}
	switch in.Match {
	case "":
		in.Match = MatchAll
	case MatchAll, MatchAny:
	default:
		return input.Errorf("match", "must be ALL or ANY")
	}
	if in.StartsAt != nil && in.EndsAt != nil && !in.EndsAt.After(*in.StartsAt) {
		return input.Errorf("endsAt", "must be after the start")
	}
	if in.Timezone != "" {
		if _, err := time.LoadLocation(in.Timezone); err != nil || in.Timezone == "Local" {
			return input.Errorf("timezone", "%q is not an IANA timezone", in.Timezone)
		}
	}
	if len(in.Conditions) > MaxConditions {
		return input.Errorf("conditions", "at most %d conditions", MaxConditions)
	}
	for i := range in.Conditions {
		if err := in.Conditions[i].validate(fmt.Sprintf("conditions[%d]", i), in.Trigger, cat); err != nil {
			return err
		}
	}
	if err := in.Effect.validate(in.Trigger, in.Conditions); err != nil {
		return err
	}
	if err := in.Limits.validate(); err != nil {
		return err
	}
	if in.Priority < 0 || in.Priority > MaxPriority {
		return input.Errorf("priority", "must be between 0 and %d", MaxPriority)
	}
	return nil
}

func (c *Condition) validate(field string, trigger program.ActivityKind, cat Catalog) error {
	set := 0
	for _, on := range []bool{c.BasketTotalAtLeast != nil, c.Items != nil, c.NthPurchase != nil, c.Tiers != nil,
		c.BadgeHeld != "", c.DaysSinceLastPurchaseAtLeast != nil, c.DaysOfWeek != nil, c.Hours != nil, c.FirstPurchase, c.Birthday} {
		if on {
			set++
		}
	}
	if set != 1 {
		return input.Errorf(field, "a condition tests exactly one thing: basketTotalAtLeast, items, nthPurchase, tiers, badgeHeld, daysSinceLastPurchaseAtLeast, daysOfWeek or hours")
	}
	purchaseOnly := func(name string) error {
		if trigger != program.ActivityPurchase {
			return input.Errorf(field+"."+name, "applies to purchases only, not %s", trigger)
		}
		return nil
	}
	var err error
	switch {
	case c.FirstPurchase || c.Birthday:
		return input.Errorf(field, "only the program's built-in rules test the first purchase or the birthday")
	case c.BasketTotalAtLeast != nil:
		if v := *c.BasketTotalAtLeast; v < 0 || v > program.MaxAmountMinor {
			return input.Errorf(field+".basketTotalAtLeast", "must be between 0 and %d minor units", program.MaxAmountMinor)
		}
		return purchaseOnly("basketTotalAtLeast")
	case c.Items != nil:
		it := c.Items
		if len(it.SKUs)+len(it.Categories) == 0 {
			return input.Errorf(field+".items", "name at least one SKU or category")
		}
		for _, l := range []struct {
			name string
			vs   []string
		}{{"skus", it.SKUs}, {"categories", it.Categories}} {
			if len(l.vs) > MaxSetItems {
				return input.Errorf(field+".items."+l.name, "at most %d", MaxSetItems)
			}
			for j, v := range l.vs {
				if l.vs[j], err = input.Identifier(fmt.Sprintf("%s.items.%s[%d]", field, l.name, j), v, 128); err != nil {
					return err
				}
			}
		}
		if it.MinQuantity == 0 {
			it.MinQuantity = 1
		}
		if it.MinQuantity < 1 || it.MinQuantity > program.MaxQuantity {
			return input.Errorf(field+".items.minQuantity", "must be between 1 and %d", program.MaxQuantity)
		}
		return purchaseOnly("items")
	case c.NthPurchase != nil:
		if v := *c.NthPurchase; v < 1 || v > MaxNthPurchase {
			return input.Errorf(field+".nthPurchase", "must be between 1 and %d", MaxNthPurchase)
		}
		return purchaseOnly("nthPurchase")
	case c.Tiers != nil:
		if len(c.Tiers) == 0 || len(c.Tiers) > MaxSetItems {
			return input.Errorf(field+".tiers", "name 1 to %d tiers", MaxSetItems)
		}
		for j, t := range c.Tiers {
			if !cat.TierExists(t) {
				return input.Errorf(fmt.Sprintf("%s.tiers[%d]", field, j), "the program has no tier %q", t)
			}
		}
	case c.BadgeHeld != "":
		if !cat.BadgeExists(c.BadgeHeld) {
			return input.Errorf(field+".badgeHeld", "no such badge")
		}
	case c.DaysSinceLastPurchaseAtLeast != nil:
		if v := *c.DaysSinceLastPurchaseAtLeast; v < 1 || v > MaxDays {
			return input.Errorf(field+".daysSinceLastPurchaseAtLeast", "must be between 1 and %d", MaxDays)
		}
	case c.DaysOfWeek != nil:
		if len(c.DaysOfWeek) == 0 || len(c.DaysOfWeek) > 7 {
			return input.Errorf(field+".daysOfWeek", "name 1 to 7 days")
		}
		for j, d := range c.DaysOfWeek {
			if _, ok := weekdays[d]; !ok {
				return input.Errorf(fmt.Sprintf("%s.daysOfWeek[%d]", field, j), "%q is not a day of the week", d)
			}
		}
	case c.Hours != nil:
		h := c.Hours
		switch {
		case h.From < 0 || h.From > 23:
			return input.Errorf(field+".hours.from", "must be an hour from 0 to 23")
		case h.To < 1 || h.To > 24:
			return input.Errorf(field+".hours.to", "must be an hour from 1 to 24")
		case h.To == h.From:
			return input.Errorf(field+".hours.to", "the window ends where it starts: it would be empty")
		}
	}
	return nil
}

func (e *Effect) validate(trigger program.ActivityKind, conds []Condition) error {
	if e.PointsPerUnit == 0 && e.MultiplierPercent == 0 && e.FixedPoints == 0 && e.PointsPerItem == 0 {
		return input.Errorf("effect", "give points: pointsPerUnit, multiplierPercent, fixedPoints or pointsPerItem")
	}
	for _, f := range []struct {
		name string
		v    int64
	}{{"effect.pointsPerUnit", e.PointsPerUnit}, {"effect.fixedPoints", e.FixedPoints}, {"effect.pointsPerItem", e.PointsPerItem}} {
		if f.v < 0 || f.v > program.MaxPoints {
			return input.Errorf(f.name, "must be between 0 and %d", program.MaxPoints)
		}
	}
	if e.MultiplierPercent != 0 && (e.MultiplierPercent <= 100 || e.MultiplierPercent > MaxMultiplierPercent) {
		return input.Errorf("effect.multiplierPercent", "must be above 100 (1×) and at most %d (%d×)", MaxMultiplierPercent, MaxMultiplierPercent/100)
	}
	if trigger != program.ActivityPurchase && (e.PointsPerUnit != 0 || e.MultiplierPercent != 0 || e.PointsPerItem != 0) {
		field := "effect.pointsPerUnit"
		if e.MultiplierPercent != 0 {
			field = "effect.multiplierPercent"
		} else if e.PointsPerItem != 0 {
			field = "effect.pointsPerItem"
		}
		return input.Errorf(field, "a %s has no amount or items: use fixedPoints", trigger)
	}
	if v := e.ExpiresAfterDays; v != nil && (*v < 0 || *v > MaxDays) {
		return input.Errorf("effect.expiresAfterDays", "must be between 0 (never) and %d", MaxDays)
	}
	if v := e.PendingDays; v != nil && (*v < 0 || *v > MaxPendingDays) {
		return input.Errorf("effect.pendingDays", "must be between 0 and %d", MaxPendingDays)
	}
	return nil
}

func (l *Limits) validate() error {
	for _, f := range []struct {
		name    string
		v, most int64
	}{{"limits.perMember", l.PerMember, MaxTimes}, {"limits.perMemberPerDay", l.PerMemberPerDay, MaxTimes},
		{"limits.perMemberPerPeriod", l.PerMemberPerPeriod, MaxTimes}, {"limits.periodDays", l.PeriodDays, MaxDays},
		{"limits.budgetPoints", l.BudgetPoints, program.MaxBalance}} {
		if f.v < 0 || f.v > f.most {
			return input.Errorf(f.name, "must be between 0 (no limit) and %d", f.most)
		}
	}
	if (l.PerMemberPerPeriod > 0) != (l.PeriodDays > 0) {
		return input.Errorf("limits.periodDays", "perMemberPerPeriod and periodDays go together")
	}
	return nil
}

// Slot sets the exclusive rule's claim on its priority (Rule.ExclusiveSlot).
func (r *Rule) Slot() {
	r.ExclusiveSlot = nil
	if r.Exclusive && r.Status == StatusActive {
		p := r.Priority
		r.ExclusiveSlot = &p
	}
}

// Apply makes r the rule in describes (keeping its id, status and history).
func (r *Rule) Apply(in Input) {
	r.Name, r.Trigger, r.Match = in.Name, in.Trigger, in.Match
	r.Conditions = slices.Clone(in.Conditions)
	r.StartsAt, r.EndsAt, r.Timezone = in.StartsAt, in.EndsAt, in.Timezone
	r.Effect, r.Limits, r.Priority, r.Exclusive = in.Effect, in.Limits, in.Priority, in.Exclusive
}

// InputOf is the Input that makes r: the starting point of an edit.
func InputOf(r *Rule) Input {
	return Input{Name: r.Name, Trigger: r.Trigger, Match: r.Match, Conditions: slices.Clone(r.Conditions), StartsAt: r.StartsAt,
		EndsAt: r.EndsAt, Timezone: r.Timezone, Effect: r.Effect, Limits: r.Limits, Priority: r.Priority, Exclusive: r.Exclusive}
}

// describe is the condition in words, for explanations.
func (c *Condition) describe() string {
	switch {
	case c.BasketTotalAtLeast != nil:
		return fmt.Sprintf("basket total at least %d (minor units)", *c.BasketTotalAtLeast)
	case c.Items != nil:
		var parts []string
		if len(c.Items.SKUs) > 0 {
			parts = append(parts, "SKU "+strings.Join(c.Items.SKUs, "/"))
		}
		if len(c.Items.Categories) > 0 {
			parts = append(parts, "category "+strings.Join(c.Items.Categories, "/"))
		}
		return fmt.Sprintf("at least %d item(s) of %s", c.Items.MinQuantity, strings.Join(parts, " or "))
	case c.NthPurchase != nil:
		return fmt.Sprintf("the member's purchase number %d", *c.NthPurchase)
	case c.Tiers != nil:
		return "tier " + strings.Join(c.Tiers, " or ")
	case c.BadgeHeld != "":
		return "holds badge " + c.BadgeHeld
	case c.DaysSinceLastPurchaseAtLeast != nil:
		return fmt.Sprintf("at least %d days since the last purchase", *c.DaysSinceLastPurchaseAtLeast)
	case c.DaysOfWeek != nil:
		ds := make([]string, len(c.DaysOfWeek))
		for i, d := range c.DaysOfWeek {
			ds[i] = strings.ToLower(string(d))
		}
		return "on " + strings.Join(ds, "/")
	case c.Hours != nil:
		return fmt.Sprintf("between %02d:00 and %02d:00", c.Hours.From, c.Hours.To)
	case c.FirstPurchase:
		return "the member's first purchase"
	case c.Birthday:
		return "in the member's birthday month"
	}
	return "nothing"
}
