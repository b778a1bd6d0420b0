package analytics

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/regulars/regulars/analytics/rollup"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/member"
)

// MaxRangeYears bounds a range: its end is less than 5 years after its start.
const MaxRangeYears = 5

// Range is a span of calendar days, both ends included, of the program's
// timezone.
type Range struct {
	From, To member.Date
	// Timezone, if set, must be the program's (the zone rollups are kept
	// in): it lets a dashboard say which calendar it means.
	Timezone string
	// Currency, if set, keeps money figures to that ISO 4217 currency.
	Currency string
}

// span is a checked range: days a to b of the rollups' calendar, in the
// program's timezone.
type span struct {
	a, b     int
	currency string
	loc      *time.Location
	program  program.Program
}

// open starts every figure: it checks r against the program and reads how
// fresh the rollups are. Errors name the field as the API has it
// ("range.to").
func (s *Service) open(ctx context.Context, r Range) (span, Freshness, error) {
	sp, err := s.check(ctx, r)
	if err != nil {
		return sp, Freshness{}, err
	}
	asOf, err := s.rollups.AsOf(ctx)
	return sp, Freshness{AsOf: asOf, DocumentsRead: 1}, err
}

func (s *Service) check(ctx context.Context, r Range) (span, error) {
	p, err := s.programs.Get(ctx)
	if err != nil {
		return span{}, err
	}
	loc := p.Location()
	sp := span{a: rollup.DayNumber(r.From.Year, r.From.Month, r.From.Day), b: rollup.DayNumber(r.To.Year, r.To.Month, r.To.Day), loc: loc, program: p}
	from, to := rollup.DayDate(sp.a), rollup.DayDate(sp.b)
	switch {
	case r.From.Year == 0:
		return sp, input.Errorf("range.from", "is required")
	case r.To.Year == 0:
		return sp, input.Errorf("range.to", "is required")
	case sp.b < sp.a:
		return sp, input.Errorf("range.to", "is before range.from")
	case !to.Before(from.AddDate(MaxRangeYears, 0, 0)):
		return sp, input.Errorf("range.to", "a range spans less than %d years", MaxRangeYears)
	}
	if r.Timezone != "" {
		z, err := time.LoadLocation(r.Timezone)
		if err != nil || strings.TrimSpace(r.Timezone) != r.Timezone {
			return sp, input.Errorf("range.timezone", "%q is not an IANA timezone", r.Timezone)
		}
		if z.String() != loc.String() {
			return sp, input.Errorf("range.timezone", "analytics are kept in the program's timezone, %s", loc)
		}
	}
	if r.Currency != "" {
		sp.currency = strings.ToUpper(r.Currency)
		if !program.ValidISO(sp.currency) {
			return sp, input.Errorf("range.currency", "%q is not an ISO 4217 currency", r.Currency)
		}
	}
	return sp, nil
}

// Freshness says how current an answer is.
type Freshness struct {
	// AsOf is when the rollups were last brought up to date: everything
	// recorded before it is counted. Zero before the first run.
	AsOf time.Time
	// DocumentsRead is how many rollup documents the answer read.
	DocumentsRead int
}

// CurrencyFigures are a range's money figures in one currency.
type CurrencyFigures struct {
	Currency  string
	Purchases int64
	// RevenueMinor is a float so that any sum stays exact past 2^31 (to
	// 2^53), as do the point sums of Economics.
	RevenueMinor float64
	// AOVMinor is RevenueMinor ÷ Purchases (nil without purchases).
	AOVMinor *float64
}

// Overview is a range's purchase figures.
type Overview struct {
	Freshness
	From, To member.Date
	// Purchases counts purchases with something left after refunds.
	Purchases int64
	// PurchasingMembers counts distinct members with a purchase in the range.
	PurchasingMembers int64
	// RepeatPurchasers counts those with at least two.
	RepeatPurchasers int64
	// RepeatPurchaseRate is RepeatPurchasers ÷ PurchasingMembers.
	RepeatPurchaseRate *float64
	// PurchaseFrequency is Purchases ÷ PurchasingMembers.
	PurchaseFrequency *float64
	// NewCustomers counts members whose first purchase is in the range;
	// Customers those with a purchase on or before its last day.
	NewCustomers, Customers int64
	Currencies              []CurrencyFigures
}

func ratio(n, d int64) *float64 {
	if d == 0 {
		return nil
	}
	r := float64(n) / float64(d)
	return &r
}

// periodFigures are the purchase figures of days a..b.
type periodFigures struct {
	purchases, members, single, newCustomers int64
	cur                                      map[string]*rollup.Amounts
	// customersAtStart had their first purchase before a, customersAtEnd
	// on or before b.
	customersAtStart, customersAtEnd int64
}

// purchases answers the purchase figures of each of periods (first and
// last days within sp) from one read of the rollups: the days of sp and
// the first-purchase cohorts up to its end, counted into fr.
func (s *Service) purchases(ctx context.Context, sp span, periods [][2]int, fr *Freshness) ([]periodFigures, error) {
	days, err := s.rollups.Days(ctx, sp.a, sp.b)
	if err != nil {
		return nil, err
	}
	cohorts, err := s.rollups.Cohorts(ctx, rollup.ByFirstPurchase, 0, rollup.MonthOf(sp.b))
	if err != nil {
		return nil, err
	}
	fr.DocumentsRead += len(days) + len(cohorts)
	out := make([]periodFigures, len(periods))
	for i, pr := range periods {
		out[i] = figuresOf(days, pr[0], pr[1])
		out[i].customersAtStart, out[i].customersAtEnd = customersBefore(cohorts, pr[0]), customersBefore(cohorts, pr[1]+1)
	}
	return out, nil
}

func figuresOf(days []rollup.Day, a, b int) periodFigures {
	f := periodFigures{cur: map[string]*rollup.Amounts{}}
	for _, d := range days {
		if d.Day < a || d.Day > b {
			continue
		}
		f.purchases += d.Purchases
		for _, p := range d.Prev {
			if p.K < a {
				f.members += p.C
			}
			if p.K == -1 {
				f.newCustomers += p.C
			}
		}
		for _, x := range d.Single {
			if x.P < a && (x.X == -1 || x.X > b) {
				f.single += x.C
			}
		}
		for _, c := range d.Cur {
			t := f.cur[c.C]
			if t == nil {
				t = &rollup.Amounts{C: c.C}
				f.cur[c.C] = t
			}
			t.N += c.N
			t.Rev += c.Rev
		}
	}
	return f
}

func (f periodFigures) currencies(only string) []CurrencyFigures {
	out := []CurrencyFigures{}
	for _, c := range slices.Sorted(maps.Keys(f.cur)) {
		if only != "" && c != only {
			continue
		}
		t := f.cur[c]
		out = append(out, CurrencyFigures{Currency: c, Purchases: t.N, RevenueMinor: float64(t.Rev), AOVMinor: ratio(t.Rev, t.N)})
	}
	return out
}

// customersBefore counts members whose first purchase is before day, from
// the first-purchase cohorts (one document per month of history).
func customersBefore(cohorts []rollup.Cohort, day int) int64 {
	var n int64
	for _, c := range cohorts {
		for _, f := range c.FirstDays {
			if f.K < day {
				n += f.C
			}
		}
	}
	return n
}

// Overview answers a range's purchases, members, repeat purchase rate,
// frequency, revenue and AOV per currency.
func (s *Service) Overview(ctx context.Context, r Range) (*Overview, error) {
	sp, fr, err := s.open(ctx, r)
	if err != nil {
		return nil, err
	}
	fs, err := s.purchases(ctx, sp, [][2]int{{sp.a, sp.b}}, &fr)
	if err != nil {
		return nil, err
	}
	f := fs[0]
	return &Overview{
		Freshness: fr, From: rollup.Date(sp.a), To: rollup.Date(sp.b),
		Purchases: f.purchases, PurchasingMembers: f.members, RepeatPurchasers: f.members - f.single,
		RepeatPurchaseRate: ratio(f.members-f.single, f.members), PurchaseFrequency: ratio(f.purchases, f.members),
		NewCustomers: f.newCustomers, Customers: f.customersAtEnd,
		Currencies: f.currencies(sp.currency),
	}, nil
}

// RetentionPeriod is one period's customer retention.
type RetentionPeriod struct {
	From, To member.Date
	// CustomersAtStart: members with a purchase before From.
	CustomersAtStart int64
	// ActiveCustomers: members with a purchase in the period; NewCustomers:
	// those of them whose first purchase it is.
	ActiveCustomers, NewCustomers int64
	// Rate is (ActiveCustomers − NewCustomers) ÷ CustomersAtStart: the
	// share of earlier customers who bought again in the period.
	Rate *float64
}

// MaxPeriods bounds the periods of one retention answer (five years of months).
const MaxPeriods = 60

// Retention is a range cut into periods.
type Retention struct {
	Freshness
	Period  Period
	Periods []RetentionPeriod
}

// periodsOf cuts days a..b into periods (the first and last clipped to the range).
func periodsOf(a, b int, p Period) [][2]int {
	var out [][2]int
	for start := a; start <= b; {
		t := rollup.DayDate(start)
		var next time.Time
		switch p {
		case PeriodWeek:
			wd := (int(t.Weekday()) + 6) % 7 // Monday 0
			next = t.AddDate(0, 0, 7-wd)
		case PeriodQuarter:
			q := (int(t.Month()) - 1) / 3
			next = time.Date(t.Year(), time.Month(q*3+4), 1, 0, 0, 0, 0, time.UTC)
		case PeriodYear:
			next = time.Date(t.Year()+1, 1, 1, 0, 0, 0, 0, time.UTC)
		default:
			next = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC)
		}
		end := min(rollup.DayNumber(next.Date())-1, b)
		out = append(out, [2]int{start, end})
		start = end + 1
	}
	return out
}

// Retention answers the customer retention rate of each period of r.
func (s *Service) Retention(ctx context.Context, r Range, period Period) (*Retention, error) {
	sp, fr, err := s.open(ctx, r)
	if err != nil {
		return nil, err
	}
	switch period {
	case PeriodWeek, PeriodMonth, PeriodQuarter, PeriodYear:
	default:
		return nil, input.Errorf("period", "unknown period %q", period)
	}
	periods := periodsOf(sp.a, sp.b, period)
	if len(periods) > MaxPeriods {
		return nil, input.Errorf("period", "the range has %d periods of a %s; at most %d: choose a longer period", len(periods), period, MaxPeriods)
	}
	fs, err := s.purchases(ctx, sp, periods, &fr)
	if err != nil {
		return nil, err
	}
	out := &Retention{Freshness: fr, Period: period, Periods: []RetentionPeriod{}}
	for i, pr := range periods {
		f := fs[i]
		out.Periods = append(out.Periods, RetentionPeriod{
			From: rollup.Date(pr[0]), To: rollup.Date(pr[1]), CustomersAtStart: f.customersAtStart,
			ActiveCustomers: f.members, NewCustomers: f.newCustomers, Rate: ratio(f.members-f.newCustomers, f.customersAtStart),
		})
	}
	return out, nil
}

// Cohort is one row of the retention matrix.
type Cohort struct {
	Month member.Date // its first day
	Size  int64
	// Members[k] counts the cohort's members with a purchase in the kth
	// month after its own (0: the cohort month), up to the month of AsOf;
	// Rates[k] is Members[k] ÷ Size.
	Members []int64
	Rates   []*float64
}

// CohortMatrix is the retention matrix of the cohorts whose month is in a range.
type CohortMatrix struct {
	Freshness
	By      CohortBy
	Cohorts []Cohort
}

// Cohorts answers the cohort retention matrix: cohorts by month of first
// purchase or of sign-up, each cell the share of the cohort with a
// purchase in the Kth month after.
func (s *Service) Cohorts(ctx context.Context, by CohortBy, r Range) (*CohortMatrix, error) {
	sp, fr, err := s.open(ctx, r)
	if err != nil {
		return nil, err
	}
	if by != ByFirstPurchase && by != BySignup {
		return nil, input.Errorf("by", "unknown cohort grouping %q", by)
	}
	cs, err := s.rollups.Cohorts(ctx, rollup.Grouping(by), rollup.MonthOf(sp.a), rollup.MonthOf(sp.b))
	if err != nil {
		return nil, err
	}
	fr.DocumentsRead += len(cs)
	last := rollup.MonthOf(rollup.DayOf(fr.AsOf, sp.loc))
	out := &CohortMatrix{Freshness: fr, By: by, Cohorts: []Cohort{}}
	for _, c := range cs {
		active := map[int]int64{}
		for _, a := range c.Active {
			active[a.K] = a.C
		}
		row := Cohort{Month: rollup.Date(rollup.MonthStart(c.Month)), Size: c.Size, Members: []int64{}, Rates: []*float64{}}
		for k := 0; c.Month+k <= last; k++ {
			row.Members = append(row.Members, active[k])
			row.Rates = append(row.Rates, ratio(active[k], c.Size))
		}
		out.Cohorts = append(out.Cohorts, row)
	}
	return out, nil
}

// DefaultHorizons are the LTV horizons when none are asked for.
var DefaultHorizons = []int{30, 90, 180, 365}

// MaxHorizonDays bounds an LTV horizon; at most MaxHorizons are asked at once.
const (
	MaxHorizonDays = 3650
	MaxHorizons    = 10
)

// LTVValue is a cohort's average net revenue per member in one currency.
type LTVValue struct {
	Currency string
	// HistoricMinor: since each member's first purchase, to AsOf.
	HistoricMinor float64
	// AtHorizonsMinor[i]: within Horizons[i] days of each member's first
	// purchase (the first purchase's day being day 0); nil while a member
	// of the cohort has had fewer days.
	AtHorizonsMinor []*float64
}

// LTVCohort is one first-purchase cohort's lifetime value.
type LTVCohort struct {
	Month  member.Date
	Size   int64
	Values []LTVValue
}

// LTV is the historic lifetime value per first-purchase cohort.
type LTV struct {
	Freshness
	Horizons []int
	Cohorts  []LTVCohort
}

// LTV answers historic LTV per first-purchase cohort whose month is in r,
// overall and at each horizon (in days).
func (s *Service) LTV(ctx context.Context, horizons []int, r Range) (*LTV, error) {
	sp, fr, err := s.open(ctx, r)
	if err != nil {
		return nil, err
	}
	if len(horizons) == 0 {
		horizons = DefaultHorizons
	}
	if len(horizons) > MaxHorizons {
		return nil, input.Errorf("horizons", "at most %d horizons", MaxHorizons)
	}
	for _, h := range horizons {
		if h < 1 || h > MaxHorizonDays {
			return nil, input.Errorf("horizons", "a horizon is 1 to %d days, not %d", MaxHorizonDays, h)
		}
	}
	cs, err := s.rollups.Cohorts(ctx, rollup.ByFirstPurchase, rollup.MonthOf(sp.a), rollup.MonthOf(sp.b))
	if err != nil {
		return nil, err
	}
	fr.DocumentsRead += len(cs)
	today := rollup.DayOf(fr.AsOf, sp.loc)
	out := &LTV{Freshness: fr, Horizons: horizons, Cohorts: []LTVCohort{}}
	for _, c := range cs {
		row := LTVCohort{Month: rollup.Date(rollup.MonthStart(c.Month)), Size: c.Size, Values: []LTVValue{}}
		byCur := map[string][]rollup.Revenue{}
		for _, rv := range c.Revenue {
			byCur[rv.C] = append(byCur[rv.C], rv)
		}
		for _, cur := range slices.Sorted(maps.Keys(byCur)) {
			if sp.currency != "" && cur != sp.currency {
				continue
			}
			v := LTVValue{Currency: cur}
			var total int64
			for _, rv := range byCur[cur] {
				total += rv.Rev
			}
			v.HistoricMinor = float64(total) / float64(c.Size)
			for _, h := range horizons {
				var value *float64
				// Complete once the cohort's latest first purchase is h days old.
				if c.MaxFirstDay+h <= today {
					var n int64
					for _, rv := range byCur[cur] {
						if rv.O < h {
							n += rv.Rev
						}
					}
					value = ratio(n, c.Size)
				}
				v.AtHorizonsMinor = append(v.AtHorizonsMinor, value)
			}
			row.Values = append(row.Values, v)
		}
		out.Cohorts = append(out.Cohorts, row)
	}
	return out, nil
}

// TierSnapshot is the tier distribution at the end of a day: Members[i]
// members hold Tiers[i].
type TierSnapshot struct {
	Date    member.Date
	Tiers   []string
	Members []int64
}

// Economics is what the program's points did in a range and what is owed.
type Economics struct {
	Freshness
	From, To member.Date
	// Points issued, reversed, redeemed and expired in the range (see
	// rollup.Points for what each counts).
	Issued, Reversed, Redeemed, Expired float64
	// Outstanding points (the sum of every balance) at the start and end.
	OutstandingAtStart, OutstandingAtEnd float64
	// PointValueMinor is what a point is worth in Currency's minor units
	// (the program's pointValueMinor); LiabilityMinor is
	// OutstandingAtEnd × PointValueMinor.
	Currency        string
	PointValueMinor int64
	LiabilityMinor  float64
	// BreakageRate is Expired ÷ Issued; RedemptionRate is Redeemed ÷ Issued.
	BreakageRate, RedemptionRate *float64
	// Tiers is the distribution at the end of each month of the range (the
	// last at the range's end): members with a ledger entry, by the tier of
	// their latest entry.
	Tiers []TierSnapshot
}

// Economics answers the program's points economics over r.
func (s *Service) Economics(ctx context.Context, r Range) (*Economics, error) {
	sp, fr, err := s.open(ctx, r)
	if err != nil {
		return nil, err
	}
	firstMonth := rollup.MonthOf(sp.a)
	months, err := s.rollups.MonthsBefore(ctx, firstMonth)
	if err != nil {
		return nil, err
	}
	days, err := s.rollups.PointDays(ctx, rollup.MonthStart(firstMonth), sp.b)
	if err != nil {
		return nil, err
	}
	fr.DocumentsRead += len(months) + len(days)
	var before rollup.Points
	tiers := map[string]int64{}
	for _, m := range months {
		before.Plus(m, tiers)
	}
	var in rollup.Points
	e := &Economics{Freshness: fr, From: rollup.Date(sp.a), To: rollup.Date(sp.b), Currency: sp.program.Currency, PointValueMinor: sp.program.PointValueMinor, Tiers: []TierSnapshot{}}
	snapshot := func(day int) {
		snap := TierSnapshot{Date: rollup.Date(day), Tiers: []string{}, Members: []int64{}}
		for _, t := range slices.Sorted(maps.Keys(tiers)) {
			if tiers[t] != 0 {
				snap.Tiers, snap.Members = append(snap.Tiers, t), append(snap.Members, tiers[t])
			}
		}
		e.Tiers = append(e.Tiers, snap)
	}
	i := 0
	for day := rollup.MonthStart(firstMonth); day <= sp.b; day++ {
		if i < len(days) && days[i].Key == day {
			if day < sp.a {
				before.Plus(days[i], tiers)
			} else {
				in.Plus(days[i], tiers)
			}
			i++
		}
		if day >= sp.a && (day == sp.b || rollup.MonthOf(day+1) != rollup.MonthOf(day)) {
			snapshot(day)
		}
	}
	start := before.Issued - before.Reversed - before.Redeemed - before.Expired
	end := start + in.Issued - in.Reversed - in.Redeemed - in.Expired
	e.Issued, e.Reversed, e.Redeemed, e.Expired = float64(in.Issued), float64(in.Reversed), float64(in.Redeemed), float64(in.Expired)
	e.OutstandingAtStart, e.OutstandingAtEnd = float64(start), float64(end)
	e.LiabilityMinor = float64(end) * float64(sp.program.PointValueMinor)
	e.BreakageRate, e.RedemptionRate = ratio(in.Expired, in.Issued), ratio(in.Redeemed, in.Issued)
	return e, nil
}

// Referrals is the referral funnel of a range.
type Referrals struct {
	Freshness
	From, To member.Date
	// SignUps: members who joined with a referral code in the range.
	SignUps int64
	// Converted: referees whose first qualifying purchase converted in the
	// range; Reversed: those of them a refund has since reversed.
	Converted, Reversed int64
	// ConversionRate is Converted ÷ SignUps; ReversalRate Reversed ÷ Converted.
	ConversionRate, ReversalRate *float64
}

// Referrals answers the referral funnel over r.
func (s *Service) Referrals(ctx context.Context, r Range) (*Referrals, error) {
	sp, fr, err := s.open(ctx, r)
	if err != nil {
		return nil, err
	}
	days, err := s.rollups.ReferralDays(ctx, sp.a, sp.b)
	if err != nil {
		return nil, err
	}
	fr.DocumentsRead += len(days)
	out := &Referrals{Freshness: fr, From: rollup.Date(sp.a), To: rollup.Date(sp.b)}
	for _, d := range days {
		out.SignUps += d.SignUps
		out.Converted += d.Converted
		out.Reversed += d.Reversed
	}
	out.ConversionRate, out.ReversalRate = ratio(out.Converted, out.SignUps), ratio(out.Reversed, out.Converted)
	return out, nil
}
