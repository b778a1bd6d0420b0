package analytics

import (
	"context"
	"encoding/csv"
	"io"
	"strconv"
	"time"

	"github.com/regulars/regulars/game/leaderboard"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/member"
)

// Tables are the exports' names, one per figure of the API.
var Tables = []string{"overview", "retention", "cohorts", "ltv", "economics", "tiers", "referrals", "campaign-results",
	"engagement", "streaks", "badge-unlocks", "leaderboards", "events"}

// ExportQuery is what a table is computed for: the arguments of the API
// field it repeats.
type ExportQuery struct {
	Range      Range
	Period     Period   // retention; MONTH if empty
	By         CohortBy // cohorts; FIRST_PURCHASE if empty
	Horizons   []int    // ltv; DefaultHorizons if empty
	Campaign   string   // campaign-results: a holdout key (graph.CampaignKey)
	WithinDays int      // campaign-results; DefaultWithinDays if 0
	// Boards: leaderboards (engagement's boards); MONTHLY if empty.
	Boards leaderboard.Period
}

// Table is an export: a header and its rows, each value as the API gives
// it (floats in Go's shortest exact form, a null as an empty cell).
type Table struct {
	Header []string
	Rows   [][]string
}

// WriteCSV writes t as CSV (RFC 4180) to w.
func (t *Table) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(t.Header); err != nil {
		return err
	}
	for _, r := range t.Rows {
		if err := cw.Write(r); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func i64(n int64) string   { return strconv.FormatInt(n, 10) }
func f64(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
func opt(f *float64) string {
	if f == nil {
		return ""
	}
	return f64(*f)
}
func ds(d member.Date) string { return d.String() }

// Export computes the table name for q, from the same figures as the API
// (the same errors, naming the same fields; an unknown table names "table").
func (s *Service) Export(ctx context.Context, name string, q ExportQuery) (*Table, error) {
	switch name {
	case "overview":
		o, err := s.Overview(ctx, q.Range)
		if err != nil {
			return nil, err
		}
		t := &Table{Header: []string{"from", "to", "purchases", "purchasing_members", "repeat_purchasers", "repeat_purchase_rate", "purchase_frequency",
			"new_customers", "customers", "currency", "currency_purchases", "revenue_minor", "aov_minor"}}
		base := []string{ds(o.From), ds(o.To), i64(o.Purchases), i64(o.PurchasingMembers), i64(o.RepeatPurchasers), opt(o.RepeatPurchaseRate),
			opt(o.PurchaseFrequency), i64(o.NewCustomers), i64(o.Customers)}
		if len(o.Currencies) == 0 {
			t.Rows = append(t.Rows, append(base, "", "", "", ""))
		}
		for _, c := range o.Currencies {
			t.Rows = append(t.Rows, append(append([]string{}, base...), c.Currency, i64(c.Purchases), f64(c.RevenueMinor), opt(c.AOVMinor)))
		}
		return t, nil
	case "retention":
		p := q.Period
		if p == "" {
			p = PeriodMonth
		}
		r, err := s.Retention(ctx, q.Range, p)
		if err != nil {
			return nil, err
		}
		t := &Table{Header: []string{"from", "to", "customers_at_start", "active_customers", "new_customers", "rate"}}
		for _, x := range r.Periods {
			t.Rows = append(t.Rows, []string{ds(x.From), ds(x.To), i64(x.CustomersAtStart), i64(x.ActiveCustomers), i64(x.NewCustomers), opt(x.Rate)})
		}
		return t, nil
	case "cohorts":
		by := q.By
		if by == "" {
			by = ByFirstPurchase
		}
		m, err := s.Cohorts(ctx, by, q.Range)
		if err != nil {
			return nil, err
		}
		t := &Table{Header: []string{"month", "size", "k", "members", "rate"}}
		for _, c := range m.Cohorts {
			for k := range c.Members {
				t.Rows = append(t.Rows, []string{ds(c.Month), i64(c.Size), strconv.Itoa(k), i64(c.Members[k]), opt(c.Rates[k])})
			}
		}
		return t, nil
	case "ltv":
		l, err := s.LTV(ctx, q.Horizons, q.Range)
		if err != nil {
			return nil, err
		}
		t := &Table{Header: []string{"month", "size", "currency", "historic_minor", "horizon_days", "at_horizon_minor"}}
		for _, c := range l.Cohorts {
			for _, v := range c.Values {
				for i, h := range l.Horizons {
					t.Rows = append(t.Rows, []string{ds(c.Month), i64(c.Size), v.Currency, f64(v.HistoricMinor), strconv.Itoa(h), opt(v.AtHorizonsMinor[i])})
				}
			}
		}
		return t, nil
	case "economics", "tiers":
		e, err := s.Economics(ctx, q.Range)
		if err != nil {
			return nil, err
		}
		if name == "tiers" {
			t := &Table{Header: []string{"date", "tier", "members"}}
			for _, sn := range e.Tiers {
				for i, tier := range sn.Tiers {
					t.Rows = append(t.Rows, []string{ds(sn.Date), tier, i64(sn.Members[i])})
				}
			}
			return t, nil
		}
		return &Table{Header: []string{"from", "to", "issued", "reversed", "redeemed", "expired", "outstanding_at_start", "outstanding_at_end",
			"currency", "point_value_minor", "liability_minor", "breakage_rate", "redemption_rate"},
			Rows: [][]string{{ds(e.From), ds(e.To), f64(e.Issued), f64(e.Reversed), f64(e.Redeemed), f64(e.Expired), f64(e.OutstandingAtStart),
				f64(e.OutstandingAtEnd), e.Currency, i64(e.PointValueMinor), f64(e.LiabilityMinor), opt(e.BreakageRate), opt(e.RedemptionRate)}}}, nil
	case "referrals":
		r, err := s.Referrals(ctx, q.Range)
		if err != nil {
			return nil, err
		}
		return &Table{Header: []string{"from", "to", "sign_ups", "converted", "reversed", "conversion_rate", "reversal_rate"},
			Rows: [][]string{{ds(r.From), ds(r.To), i64(r.SignUps), i64(r.Converted), i64(r.Reversed), opt(r.ConversionRate), opt(r.ReversalRate)}}}, nil
	case "campaign-results":
		n := q.WithinDays
		if n == 0 {
			n = DefaultWithinDays
		}
		c, err := s.CampaignResults(ctx, q.Campaign, q.Range, n)
		if err != nil {
			return nil, err
		}
		t := &Table{Header: []string{"row", "members", "purchasers", "purchase_rate", "revenue_minor", "revenue_per_member_minor",
			"estimate", "low", "high", "currency", "within_days", "pending", "verdict"}}
		meta := []string{c.Currency, strconv.Itoa(c.WithinDays), i64(c.Pending), c.Verdict}
		for _, g := range []struct {
			name string
			g    GroupResult
		}{{"recipients", c.Recipients}, {"holdout", c.Holdout}} {
			t.Rows = append(t.Rows, append([]string{g.name, i64(g.g.Members), i64(g.g.Purchasers), opt(g.g.PurchaseRate), f64(g.g.RevenueMinor),
				opt(g.g.RevenuePerMemberMinor), "", "", ""}, meta...))
		}
		for _, d := range []struct {
			name string
			iv   *Interval
		}{{"rate_difference", c.RateDifference}, {"revenue_difference", c.RevenueDifference}} {
			row := []string{d.name, "", "", "", "", "", "", "", ""}
			if d.iv != nil {
				row[6], row[7], row[8] = f64(d.iv.Estimate), f64(d.iv.Low), f64(d.iv.High)
			}
			t.Rows = append(t.Rows, append(row, meta...))
		}
		return t, nil
	case "engagement", "streaks", "badge-unlocks", "leaderboards", "events":
		return s.exportEngagement(ctx, name, q)
	}
	return nil, input.Errorf("table", "no table %q", name)
}

// exportEngagement is the tables of Engagement: the range's figures and
// the event totals (one row), the streak buckets, the badge levels, the
// boards and the events.
func (s *Service) exportEngagement(ctx context.Context, name string, q ExportQuery) (*Table, error) {
	boards := q.Boards
	if boards == "" {
		boards = leaderboard.PeriodMonthly
	}
	e, err := s.Engagement(ctx, q.Range, boards)
	if err != nil {
		return nil, err
	}
	attendance := func(a EventAttendance) []string {
		return []string{i64(a.Seated), i64(a.Confirmed), i64(a.Attended), i64(a.NoShows), i64(a.Waitlisted), i64(a.Cancelled), opt(a.AttendanceRate), opt(a.NoShowRate)}
	}
	attendanceHeader := []string{"seated", "confirmed", "attended", "no_shows", "waitlisted", "cancelled", "attendance_rate", "no_show_rate"}
	t := &Table{}
	switch name {
	case "engagement":
		t.Header = append([]string{"from", "to", "active_members", "active_posters", "poster_rate", "streak_members"}, attendanceHeader...)
		t.Rows = [][]string{append([]string{ds(e.From), ds(e.To), i64(e.ActiveMembers), i64(e.ActivePosters), opt(e.PosterRate), i64(e.Streaks.Members)}, attendance(e.EventTotals)...)}
	case "streaks":
		t.Header = []string{"min", "max", "members"}
		for _, b := range e.Streaks.Buckets {
			hi := ""
			if b.Max != nil {
				hi = strconv.Itoa(*b.Max)
			}
			t.Rows = append(t.Rows, []string{strconv.Itoa(b.Min), hi, i64(b.Members)})
		}
	case "badge-unlocks":
		t.Header = []string{"badge", "level", "unlocks"}
		for _, b := range e.Badges {
			t.Rows = append(t.Rows, []string{b.Name, b.Level, i64(b.Unlocks)})
		}
	case "leaderboards":
		t.Header = []string{"board", "from", "to", "participants", "active_members", "rate"}
		for _, b := range e.Leaderboards {
			t.Rows = append(t.Rows, []string{b.Board, ds(b.From), ds(b.To), i64(b.Participants), i64(b.ActiveMembers), opt(b.Rate)})
		}
	case "events":
		t.Header = append([]string{"title", "starts_at"}, attendanceHeader...)
		for _, ev := range e.Events {
			t.Rows = append(t.Rows, append([]string{ev.Title, ev.StartsAt.UTC().Format(time.RFC3339Nano)}, attendance(ev)...))
		}
	}
	return t, nil
}
