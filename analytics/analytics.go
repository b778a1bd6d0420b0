// Package analytics answers the brand's questions about its program from
// rollups: retention, repeat purchase rate, purchase frequency, average
// order value and lifetime value by cohort, the program's economics
// (points issued, redeemed, expired, outstanding and their worth) and the
// referral funnel, how a campaign did against its holdout, and engagement
// (active members and posters, streaks, badge unlocks, leaderboard
// participation, event attendance: engagement.go). Rollups
// (package analytics/rollup, with its parts analytics/rollup/engagement and
// analytics/rollup/campaigns) are written by a background job (Refresh)
// from the raw activities, ledger, members and referral records, and
// dashboard answers read only rollups: a bounded number of documents (one per day of
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

	"github.com/regulars/regulars/analytics/rollup"
	"github.com/regulars/regulars/analytics/rollup/campaigns"
	"github.com/regulars/regulars/analytics/rollup/engagement"
	"github.com/regulars/regulars/game/program"
)

// Programs reads the brand's program (its timezone and point value).
type Programs interface {
	Get(ctx context.Context) (program.Program, error)
}

// Service answers the brand's analytics, and keeps their rollups fresh.
type Service struct {
	rollups    *rollup.Store
	engagement *engagement.Rollups
	campaigns  *campaigns.Rollups
	job        *rollup.Job
	programs   Programs
}

// New returns the analytics over db; clock may be nil (time.Now).
func New(db *mongo.Database, programs Programs, clock func() time.Time) *Service {
	rollups := rollup.NewStore(db)
	e, c := engagement.New(db), campaigns.New(db, rollups)
	return &Service{rollups: rollups, engagement: e, campaigns: c, job: rollup.New(rollups, programs, clock, c, e), programs: programs}
}

// EnsureIndexes creates the indexes the rollup job reads by; safe to repeat.
func (s *Service) EnsureIndexes(ctx context.Context) error {
	if err := s.rollups.EnsureIndexes(ctx); err != nil {
		return err
	}
	if err := s.engagement.EnsureIndexes(ctx); err != nil {
		return err
	}
	return s.campaigns.EnsureIndexes(ctx)
}

// Refresh brings the rollups up to date with everything recorded since the
// last run (rollup.Job.Run): safe to run again at any point, on one
// instance at a time (under the jobs' lease). It returns the number of
// members whose facts it recomputed.
func (s *Service) Refresh(ctx context.Context) (int, error) { return s.job.Run(ctx) }

// CohortBy is what groups members into cohorts.
type CohortBy string

const (
	ByFirstPurchase = CohortBy(rollup.ByFirstPurchase) // the month of a member's first purchase
	BySignup        = CohortBy(rollup.BySignup)        // the month a member signed up
)

// Period is the length of the periods a range is cut into.
type Period string

const (
	PeriodWeek    Period = "WEEK" // ISO weeks, Monday to Sunday
	PeriodMonth   Period = "MONTH"
	PeriodQuarter Period = "QUARTER"
	PeriodYear    Period = "YEAR"
)
