package downloads

import (
	"bufio"
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/regulars/regulars/graph/analyticsgql"

	"github.com/gofiber/fiber/v2"

	"github.com/regulars/regulars/analytics"
	"github.com/regulars/regulars/game/leaderboard"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/server/gateway"
)

// AnalyticsExport serves GET /analytics/export/{table}.csv (BRAND and the
// API key): a table of analytics.Tables computed by the same code as the
// API's analytics fields, with their arguments as query parameters (from,
// to, timezone, currency; period; by; horizons=30,90; campaign, offerId,
// withinDays; boards). Bad input is 400 with the field and reason as text.
func (d *Routes) AnalyticsExport(c *fiber.Ctx) error {
	p := gateway.CallerOf(c)
	name, ok := strings.CutSuffix(c.Params("*"), ".csv")
	if !ok {
		return fiber.ErrNotFound
	}
	if !p.Has(member.RoleBrand) {
		if p.MemberID.IsZero() {
			return fiber.ErrUnauthorized
		}
		return fiber.ErrForbidden
	}
	q, err := exportQuery(c)
	if err == nil {
		ctx, cancel := context.WithTimeout(c.UserContext(), 30*time.Second)
		defer cancel()
		var t *analytics.Table
		if t, err = d.Analytics.Export(ctx, name, q); err == nil {
			c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
			c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`.csv"`)
			c.Context().SetBodyStreamWriter(func(w *bufio.Writer) { _ = t.WriteCSV(w) })
			return nil
		}
	}
	if e, ok := input.As(err); ok {
		if e.Field == "table" {
			return fiber.ErrNotFound
		}
		return c.Status(fiber.StatusBadRequest).SendString(e.Error() + "\n")
	}
	return err
}

// exportQuery reads an export's arguments from the query string, checked
// as the API checks them.
func exportQuery(c *fiber.Ctx) (analytics.ExportQuery, error) {
	var q analytics.ExportQuery
	for _, d := range []struct {
		param string
		dst   *member.Date
	}{{"from", &q.Range.From}, {"to", &q.Range.To}} {
		if v := c.Query(d.param); v != "" {
			day, err := member.ParseDate(v)
			if err != nil {
				return q, input.Errorf("range."+d.param, "%q is not a date (YYYY-MM-DD)", v)
			}
			*d.dst = day
		}
	}
	q.Range.Timezone, q.Range.Currency = c.Query("timezone"), c.Query("currency")
	if v := c.Query("period"); v != "" {
		q.Period = analytics.Period(v)
		switch q.Period {
		case analytics.PeriodWeek, analytics.PeriodMonth, analytics.PeriodQuarter, analytics.PeriodYear:
		default:
			return q, input.Errorf("period", "one of WEEK, MONTH, QUARTER, YEAR")
		}
	}
	if v := c.Query("by"); v != "" {
		q.By = analytics.CohortBy(v)
		if q.By != analytics.ByFirstPurchase && q.By != analytics.BySignup {
			return q, input.Errorf("by", "FIRST_PURCHASE or SIGNUP")
		}
	}
	if v := c.Query("horizons"); v != "" {
		for _, h := range strings.Split(v, ",") {
			n, err := strconv.Atoi(h)
			if err != nil {
				return q, input.Errorf("horizons", "%q is not a number of days", h)
			}
			q.Horizons = append(q.Horizons, n)
		}
	}
	if v := c.Query("boards"); v != "" {
		q.Boards = leaderboard.Period(v)
		if q.Boards != leaderboard.PeriodWeekly && q.Boards != leaderboard.PeriodMonthly {
			return q, input.Errorf("boards", "WEEKLY or MONTHLY")
		}
	}
	if v := c.Query("withinDays"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return q, input.Errorf("withinDays", "must be between 1 and %d", analytics.MaxWithinDays)
		}
		q.WithinDays = n
	}
	if v := c.Query("campaign"); v != "" {
		var offerID *string
		if o := c.Query("offerId"); o != "" {
			offerID = &o
		}
		key, err := analyticsgql.CampaignKey(v, offerID)
		if err != nil {
			return q, err
		}
		q.Campaign = key
	} else if c.Params("*") == "campaign-results.csv" {
		return q, input.Errorf("campaign", "is required")
	}
	return q, nil
}
