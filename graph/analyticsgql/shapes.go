package analyticsgql

import (
	"time"

	"github.com/regulars/regulars/graph/model"
	"github.com/regulars/regulars/graph/relay"

	"github.com/regulars/regulars/analytics"
	"github.com/regulars/regulars/game/campaign"
	"github.com/regulars/regulars/game/offer"
	"github.com/regulars/regulars/input"
)

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
	if !model.CampaignName(name).IsValid() {
		return "", input.Errorf("campaign", "unknown campaign %q", name)
	}
	return campaignName(model.CampaignName(name), offerID)
}

// campaignName is the holdout key of a campaign (game/campaign), or of the
// offer offerID names; offerId goes with OFFER only.
func campaignName(c model.CampaignName, offerID *string) (string, error) {
	if c == model.CampaignNameOffer {
		if offerID == nil {
			return "", input.Errorf("offerId", "is required for OFFER")
		}
		id, err := relay.DecodeID("Offer", "offerId", *offerID)
		if err != nil {
			return "", err
		}
		return offer.Campaign(id), nil
	}
	if offerID != nil {
		return "", input.Errorf("offerId", "goes with campaign OFFER only")
	}
	switch c {
	case model.CampaignNameBirthday:
		return campaign.Birthday, nil
	case model.CampaignNameWinBack:
		return campaign.WinBack, nil
	case model.CampaignNamePointsExpiring:
		return campaign.PointsExpiring, nil
	case model.CampaignNameStreakAtRisk:
		return campaign.StreakAtRisk, nil
	case model.CampaignNameCouponExpiring:
		return campaign.CouponExpiring, nil
	}
	return "", input.Errorf("campaign", "unknown campaign %q", c)
}
