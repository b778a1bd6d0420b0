// Package analytics answers the brand's questions about its program from
// rollups: retention, repeat purchase rate, purchase frequency, average
// order value and lifetime value by cohort, the program's economics
// (points issued, redeemed, expired, outstanding and their worth) and the
// referral funnel. Rollups are written by a background job (Refresh) from
// the raw activities, ledger, members and referral records, and dashboard
// answers read only rollups: a bounded number of documents (one per day of
// the range, one per cohort month, one per month of the program's history)
// whatever the number of members. Every answer says how fresh it is (AsOf).
//
// Days and months are those of the program's timezone. The definitions of
// every figure are in the README, under "Brand analytics", exactly as
// computed here.
package analytics

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/regulars/regulars/game/program"
)

// Programs reads the brand's program (its timezone and point value).
type Programs interface {
	Get(ctx context.Context) (program.Program, error)
}

// Service computes and answers the brand's analytics.
type Service struct {
	store    stores
	programs Programs
	now      func() time.Time
}

// New returns the analytics over db; clock may be nil (time.Now).
func New(db *mongo.Database, programs Programs, clock func() time.Time) *Service {
	if clock == nil {
		clock = time.Now
	}
	return &Service{store: newStores(db), programs: programs, now: clock}
}

// EnsureIndexes creates the indexes the rollup job reads by; safe to repeat.
func (s *Service) EnsureIndexes(ctx context.Context) error { return s.store.ensureIndexes(ctx) }

// CohortBy is what groups members into cohorts.
type CohortBy string

const (
	ByFirstPurchase CohortBy = "FIRST_PURCHASE" // the month of a member's first purchase
	BySignup        CohortBy = "SIGNUP"         // the month a member signed up
)

// Period is the length of the periods a range is cut into.
type Period string

const (
	PeriodWeek    Period = "WEEK" // ISO weeks, Monday to Sunday
	PeriodMonth   Period = "MONTH"
	PeriodQuarter Period = "QUARTER"
	PeriodYear    Period = "YEAR"
)
