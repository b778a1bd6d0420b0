package rollup

import (
	"context"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/analytics/rollup/internal/rollupdb"
)

// What the figures read: every read is by _id (a day, a month, a member)
// or by a cohort's grouping and month, and returns at most one document
// per day, month or member asked for.

// AsOf is when the last complete run started: everything recorded before
// it is in the rollups. Zero before the first run.
func (s *Store) AsOf(ctx context.Context) (time.Time, error) {
	st, err := s.loadState(ctx)
	return st.AsOf, err
}

// Days returns the purchase rollups of days a to b, both included (the
// days with a purchase; in no particular order).
func (s *Store) Days(ctx context.Context, a, b int) ([]Day, error) {
	var days []Day
	err := rollupdb.All(ctx, s.days, Between(a, b), nil, &days)
	return days, err
}

// Cohorts returns the cohorts of a grouping whose month is fromMonth to
// toMonth, both included, by month.
func (s *Store) Cohorts(ctx context.Context, by Grouping, fromMonth, toMonth int) ([]Cohort, error) {
	var cs []Cohort
	err := rollupdb.All(ctx, s.cohorts, bson.D{{Key: "by", Value: by}, {Key: "month", Value: bson.D{{Key: "$gte", Value: fromMonth}, {Key: "$lte", Value: toMonth}}}}, nil, &cs)
	slices.SortFunc(cs, func(x, y Cohort) int { return x.Month - y.Month })
	return cs, err
}

// MonthsBefore returns the points of every month before month (Points.Key
// a month).
func (s *Store) MonthsBefore(ctx context.Context, month int) ([]Points, error) {
	var ms []Points
	err := rollupdb.All(ctx, s.monthly, bson.D{{Key: "_id", Value: bson.D{{Key: "$lt", Value: month}}}}, nil, &ms)
	return ms, err
}

// PointDays returns the points of days a to b, both included, by day
// (Points.Key a day).
func (s *Store) PointDays(ctx context.Context, a, b int) ([]Points, error) {
	var days []Points
	err := rollupdb.All(ctx, s.points, Between(a, b), nil, &days)
	slices.SortFunc(days, func(x, y Points) int { return x.Key - y.Key })
	return days, err
}

// ReferralDays returns the referral funnel of days a to b, both included.
func (s *Store) ReferralDays(ctx context.Context, a, b int) ([]Referral, error) {
	var days []Referral
	err := rollupdb.All(ctx, s.referrals, Between(a, b), nil, &days)
	return days, err
}

// PurchaseDays returns the purchase days (Facts.Days, with ID) of the
// members ids, at most 1,000 a call; a member without a purchase may be
// missing.
func (s *Store) PurchaseDays(ctx context.Context, ids []bson.ObjectID) ([]Facts, error) {
	var fs []Facts
	err := rollupdb.All(ctx, s.members, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		options.Find().SetProjection(bson.D{{Key: "days", Value: 1}}), &fs)
	return fs, err
}

// Between is the filter of the documents whose _id (a day or month
// number) is in [a, b].
func Between(a, b int) bson.D {
	return bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: a}, {Key: "$lte", Value: b}}}}
}
