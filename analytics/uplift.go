package analytics

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/regulars/regulars/analytics/rollup"
	"github.com/regulars/regulars/analytics/rollup/campaigns"
	"github.com/regulars/regulars/game/holdout"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/member"
)

// Bounds of campaignResults' window.
const (
	DefaultWithinDays = 14
	MaxWithinDays     = campaigns.MaxWindowDays
)

// GroupResult is one side of a campaign's comparison.
type GroupResult struct {
	// Members counts the members of the group whose window has ended.
	Members int64
	// Purchasers counts those with a purchase within the window.
	Purchasers int64
	// PurchaseRate is Purchasers ÷ Members (nil without members).
	PurchaseRate *float64
	// RevenueMinor is their net revenue within the window, in the
	// answer's currency; RevenuePerMemberMinor is RevenueMinor ÷ Members.
	RevenueMinor          float64
	RevenuePerMemberMinor *float64

	sumSq float64 // Σ revenue², for the variance
}

// Interval is an estimate with its 95% confidence interval.
type Interval struct {
	Estimate, Low, High float64
}

// Excludes0 reports whether the interval lies wholly on one side of zero.
func (i *Interval) excludes0() bool { return i != nil && (i.Low > 0 || i.High < 0) }

// CampaignResults compares the members a campaign messaged with those it
// held out (game/holdout).
type CampaignResults struct {
	Freshness
	Campaign   string
	From, To   member.Date
	WithinDays int
	Currency   string
	Recipients GroupResult
	Holdout    GroupResult
	// Pending counts members sent to (or held out) whose window has not
	// ended by AsOf: not counted yet.
	Pending int64
	// RateDifference is the recipients' purchase rate less the holdout's
	// (a share: 0.02 is 2 points); RevenueDifference their revenue per
	// member less the holdout's, in minor units. Nil until each group has
	// two members.
	RateDifference    *Interval
	RevenueDifference *Interval
	// Verdict says in plain words what the intervals show.
	Verdict string
}

// NoEffectYet is the verdict until the purchase rate's interval excludes zero.
const NoEffectYet = "no measurable effect yet"

// CampaignResults answers how campaign (a game/campaign name, or
// offer.Campaign of an offer) did for the sends made on the days of r:
// each member counted once, on the day of their first send (or holdout)
// in r, in the group drawn for it. A member purchased if they have a
// purchase (net of refunds, as every figure) on that day or the
// withinDays − 1 days after it; revenue is their net revenue on those
// days in r.Currency (the program's currency if unset). Members whose
// window has not ended by the rollups' asOf are Pending. The difference
// of rates has a two-proportion normal interval, the difference of
// revenue a Welch interval (README, "Campaign uplift"). Errors name
// range.* or withinDays (BAD_USER_INPUT).
//
// It reads the campaign's rollups (analytics_campaigns): at most two
// documents per day of r, whatever the campaign's audience.
func (s *Service) CampaignResults(ctx context.Context, campaign string, r Range, withinDays int) (*CampaignResults, error) {
	if withinDays < 1 || withinDays > MaxWithinDays {
		return nil, input.Errorf("withinDays", "must be between 1 and %d", MaxWithinDays)
	}
	sp, fr, err := s.open(ctx, r)
	if err != nil {
		return nil, err
	}
	currency := sp.currency
	if currency == "" {
		currency = sp.program.Currency
	}
	out := &CampaignResults{Campaign: campaign, From: rollup.Date(sp.a), To: rollup.Date(sp.b), WithinDays: withinDays, Currency: currency}
	days, err := s.campaigns.CampaignDays(ctx, campaign, sp.a, sp.b)
	if err != nil {
		return nil, err
	}
	fr.DocumentsRead += len(days)
	asOfDay := -1
	if !fr.AsOf.IsZero() {
		asOfDay = rollup.DayOf(fr.AsOf, sp.loc)
	}
	for _, d := range days {
		g := &out.Recipients
		if d.Group == holdout.Held {
			g = &out.Holdout
		}
		for _, send := range d.Sends {
			// A member counts once: at the first day of r they were sent to.
			if send.P >= sp.a {
				continue
			}
			if d.Day+withinDays > asOfDay {
				out.Pending += send.Members
				continue
			}
			g.Members += send.Members
			for _, c := range send.FirstBuy {
				if c.K < withinDays {
					g.Purchasers += c.C
				}
			}
			for _, rv := range send.Revenue {
				if rv.C == currency && rv.O < withinDays {
					g.RevenueMinor += float64(rv.Rev)
				}
			}
			for _, sq := range send.Squares {
				if sq.C == currency && sq.O < withinDays {
					g.sumSq += sq.V
				}
			}
		}
	}
	for _, g := range []*GroupResult{&out.Recipients, &out.Holdout} {
		g.PurchaseRate = ratio(g.Purchasers, g.Members)
		if g.Members > 0 {
			m := g.RevenueMinor / float64(g.Members)
			g.RevenuePerMemberMinor = &m
		}
	}
	out.RateDifference = rateInterval(out.Recipients, out.Holdout)
	out.RevenueDifference = welchInterval(out.Recipients, out.Holdout)
	out.Verdict = verdict(out)
	out.Freshness = fr
	return out, nil
}

// z95 is the standard normal's 97.5th percentile.
var z95 = distuv.UnitNormal.Quantile(0.975)

// rateInterval is the two-proportion normal (Wald) interval of p1 − p0:
// (p1 − p0) ± z × √(p1(1−p1)/n1 + p0(1−p0)/n0), z = 1.96.
func rateInterval(t, h GroupResult) *Interval {
	if t.Members < 2 || h.Members < 2 {
		return nil
	}
	p1, p0 := *t.PurchaseRate, *h.PurchaseRate
	se := math.Sqrt(p1*(1-p1)/float64(t.Members) + p0*(1-p0)/float64(h.Members))
	d := p1 - p0
	return &Interval{Estimate: d, Low: d - z95*se, High: d + z95*se}
}

// welchInterval is Welch's interval of the difference of mean revenue:
// (m1 − m0) ± t(0.975, ν) × √(s1²/n1 + s0²/n0), with the sample variances
// s² (n − 1 in the denominator) and the Welch–Satterthwaite degrees of
// freedom ν = (s1²/n1 + s0²/n0)² ÷ ((s1²/n1)²/(n1−1) + (s0²/n0)²/(n0−1)).
func welchInterval(t, h GroupResult) *Interval {
	if t.Members < 2 || h.Members < 2 {
		return nil
	}
	n1, n0 := float64(t.Members), float64(h.Members)
	m1, m0 := t.RevenueMinor/n1, h.RevenueMinor/n0
	v1 := math.Max(0, (t.sumSq-n1*m1*m1)/(n1-1)) / n1
	v0 := math.Max(0, (h.sumSq-n0*m0*m0)/(n0-1)) / n0
	d := m1 - m0
	se := math.Sqrt(v1 + v0)
	if se == 0 {
		return &Interval{Estimate: d, Low: d, High: d}
	}
	nu := (v1 + v0) * (v1 + v0) / (v1*v1/(n1-1) + v0*v0/(n0-1))
	q := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: nu}.Quantile(0.975)
	return &Interval{Estimate: d, Low: d - q*se, High: d + q*se}
}

// verdict puts the intervals in words: an effect is claimed only when the
// purchase rate's interval excludes zero.
func verdict(r *CampaignResults) string {
	d := r.RateDifference
	if !d.excludes0() {
		if r.Recipients.Members < 2 || r.Holdout.Members < 2 {
			return NoEffectYet + ": too few members with a complete window in each group"
		}
		return NoEffectYet
	}
	dir := "raised"
	if d.Estimate < 0 {
		dir = "lowered"
	}
	v := fmt.Sprintf("the campaign %s the purchase rate within %d days by %.1f points (95%% confidence: %.1f to %.1f)",
		dir, r.WithinDays, 100*math.Abs(d.Estimate), 100*d.Low, 100*d.High)
	if rv := r.RevenueDifference; rv.excludes0() {
		v += fmt.Sprintf(", and revenue per member by %.0f %s minor units (%.0f to %.0f)", rv.Estimate, r.Currency, rv.Low, rv.High)
	} else {
		v += "; no measurable effect on revenue per member yet"
	}
	return v
}
