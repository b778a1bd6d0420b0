package graph

import (
	"time"

	"github.com/regulars/regulars/analytics"
	"github.com/regulars/regulars/game/campaign"
	"github.com/regulars/regulars/game/offer"
	"github.com/regulars/regulars/input"
)

// Analytics is the brand's analytics root: its fields resolve through the
// analytics service.
type Analytics struct{}

// asOf is nil before the first rollup.
func asOf(f analytics.Freshness) *time.Time {
	if f.AsOf.IsZero() {
		return nil
	}
	t := f.AsOf
	return &t
}

// CampaignKey is the holdout key of the campaign a CampaignName value
// (BIRTHDAY, …, OFFER with offerID) names, for the CSV export; errors
// name campaign or offerId.
func CampaignKey(name string, offerID *string) (string, error) {
	if !CampaignName(name).IsValid() {
		return "", input.Errorf("campaign", "unknown campaign %q", name)
	}
	return campaignName(CampaignName(name), offerID)
}

// campaignName is the holdout key of a campaign (game/campaign), or of the
// offer offerID names; offerId goes with OFFER only.
func campaignName(c CampaignName, offerID *string) (string, error) {
	if c == CampaignNameOffer {
		if offerID == nil {
			return "", input.Errorf("offerId", "is required for OFFER")
		}
		id, err := decodeID("Offer", "offerId", *offerID)
		if err != nil {
			return "", err
		}
		return offer.Campaign(id), nil
	}
	if offerID != nil {
		return "", input.Errorf("offerId", "goes with campaign OFFER only")
	}
	switch c {
	case CampaignNameBirthday:
		return campaign.Birthday, nil
	case CampaignNameWinBack:
		return campaign.WinBack, nil
	case CampaignNamePointsExpiring:
		return campaign.PointsExpiring, nil
	case CampaignNameStreakAtRisk:
		return campaign.StreakAtRisk, nil
	case CampaignNameCouponExpiring:
		return campaign.CouponExpiring, nil
	}
	return "", input.Errorf("campaign", "unknown campaign %q", c)
}
