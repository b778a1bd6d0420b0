package analyticsgql

import (
	"context"
	"time"

	"github.com/regulars/regulars/graph/model"

	"github.com/regulars/regulars/analytics"
)

// Overview is the resolver for the overview field.
func (r Analytics) Overview(ctx context.Context, obj *model.Analytics, rangeArg analytics.Range) (*analytics.Overview, error) {
	return r.AnalyticsService.Overview(ctx, rangeArg)
}

// Retention is the resolver for the retention field.
func (r Analytics) Retention(ctx context.Context, obj *model.Analytics, rangeArg analytics.Range, period analytics.Period) (*analytics.Retention, error) {
	return r.AnalyticsService.Retention(ctx, rangeArg, period)
}

// Cohorts is the resolver for the cohorts field.
func (r Analytics) Cohorts(ctx context.Context, obj *model.Analytics, by analytics.CohortBy, rangeArg analytics.Range) (*analytics.CohortMatrix, error) {
	return r.AnalyticsService.Cohorts(ctx, by, rangeArg)
}

// Ltv is the resolver for the ltv field.
func (r Analytics) Ltv(ctx context.Context, obj *model.Analytics, horizons []int, rangeArg analytics.Range) (*analytics.LTV, error) {
	return r.AnalyticsService.LTV(ctx, horizons, rangeArg)
}

// Economics is the resolver for the economics field.
func (r Analytics) Economics(ctx context.Context, obj *model.Analytics, rangeArg analytics.Range) (*analytics.Economics, error) {
	return r.AnalyticsService.Economics(ctx, rangeArg)
}

// Referrals is the resolver for the referrals field.
func (r Analytics) Referrals(ctx context.Context, obj *model.Analytics, rangeArg analytics.Range) (*analytics.Referrals, error) {
	return r.AnalyticsService.Referrals(ctx, rangeArg)
}

// CampaignResults is the resolver for the campaignResults field.
func (r Analytics) CampaignResults(ctx context.Context, obj *model.Analytics, campaign model.CampaignName, offerID *string, rangeArg analytics.Range, withinDays int) (*analytics.CampaignResults, error) {
	name, err := campaignName(campaign, offerID)
	if err != nil {
		return nil, err
	}
	return r.AnalyticsService.CampaignResults(ctx, name, rangeArg, withinDays)
}

// AsOf is the resolver for the asOf field.
func (r AnalyticsOverview) AsOf(ctx context.Context, obj *analytics.Overview) (*time.Time, error) {
	return asOf(obj.Freshness), nil
}

// AsOf is the resolver for the asOf field.
func (r AnalyticsRetention) AsOf(ctx context.Context, obj *analytics.Retention) (*time.Time, error) {
	return asOf(obj.Freshness), nil
}

// AsOf is the resolver for the asOf field.
func (r CampaignResults) AsOf(ctx context.Context, obj *analytics.CampaignResults) (*time.Time, error) {
	return asOf(obj.Freshness), nil
}

// AsOf is the resolver for the asOf field.
func (r CohortMatrix) AsOf(ctx context.Context, obj *analytics.CohortMatrix) (*time.Time, error) {
	return asOf(obj.Freshness), nil
}

// AsOf is the resolver for the asOf field.
func (r LifetimeValue) AsOf(ctx context.Context, obj *analytics.LTV) (*time.Time, error) {
	return asOf(obj.Freshness), nil
}

// AsOf is the resolver for the asOf field.
func (r ProgramEconomics) AsOf(ctx context.Context, obj *analytics.Economics) (*time.Time, error) {
	return asOf(obj.Freshness), nil
}

// Analytics is the resolver for the analytics field.
func (r Query) Analytics(ctx context.Context) (*model.Analytics, error) {
	return &model.Analytics{}, nil
}

// AsOf is the resolver for the asOf field.
func (r ReferralFunnel) AsOf(ctx context.Context, obj *analytics.Referrals) (*time.Time, error) {
	return asOf(obj.Freshness), nil
}
