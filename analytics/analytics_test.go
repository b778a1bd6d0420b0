package analytics

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/regulars/regulars/analytics/rollup"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/testkit"
	"github.com/regulars/regulars/member"
)

func TestMain(m *testing.M) { testkit.Main(m) }

type fixedProgram struct{ p program.Program }

func (f *fixedProgram) Get(context.Context) (program.Program, error) { return f.p, nil }

// dataset is a generated brand history, kept raw so the reference figures
// are computed from it directly.
type dataset struct {
	loc         *time.Location
	members     []rawMember
	acts        []rollup.Activity
	entries     []genEntry
	accounts    []genAccount
	conversions []genConversion
}

const (
	kindPurchase = "PURCHASE"
	kindRefund   = "REFUND"
)

type rawMember struct {
	ID        bson.ObjectID `bson:"_id"`
	CreatedAt time.Time     `bson:"createdAt"`
}

type genEntry struct {
	ID         bson.ObjectID     `bson:"_id"`
	MemberID   bson.ObjectID     `bson:"memberId"`
	Seq        int64             `bson:"seq"`
	Type       string            `bson:"type"`
	Amount     int64             `bson:"amount"`
	Source     map[string]string `bson:"source"`
	State      bson.M            `bson:"state"`
	TierChange bson.M            `bson:"tierChange,omitempty"`
	CreatedAt  time.Time         `bson:"createdAt"`
	tier       string
}

type genAccount struct {
	ID         bson.ObjectID  `bson:"_id"`
	ReferrerID *bson.ObjectID `bson:"referrerId,omitempty"`
	CreatedAt  time.Time      `bson:"createdAt"`
}

type genConversion struct {
	ID     bson.ObjectID `bson:"_id"`
	Status string        `bson:"status"`
	At     time.Time     `bson:"at"`
}

var (
	genStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	genNow   = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

// generate makes members (some never buying), purchases in two currencies
// at times around local midnight, partial and full refunds, late reports
// (recorded long after they occurred), ledger entries with tier changes,
// referral sign-ups, conversions and reversals.
func generate(seed uint64, members int) *dataset {
	r := rand.New(rand.NewPCG(seed, seed*7+1))
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		panic(err) // a fixed zone: the test cannot run without it
	}
	ds := &dataset{loc: loc}
	span := genNow.Sub(genStart)
	at := func(from time.Time) time.Time {
		// Near a local midnight half the time: day boundaries matter.
		t := from.Add(time.Duration(r.Int64N(int64(genNow.Sub(from)))))
		if r.IntN(2) == 0 {
			y, m, d := t.In(loc).Date()
			t = time.Date(y, m, d, 0, 0, 0, 0, loc).Add(time.Duration(r.IntN(240)-120) * time.Second)
		}
		if !t.Before(genNow) || t.Before(from) {
			t = from.Add(time.Minute)
		}
		return t.Truncate(time.Millisecond)
	}
	for i := 0; i < members; i++ {
		m := rawMember{ID: bson.NewObjectID(), CreatedAt: genStart.Add(time.Duration(r.Int64N(int64(span - 24*time.Hour)))).Truncate(time.Millisecond)}
		ds.members = append(ds.members, m)
		acct := genAccount{ID: m.ID, CreatedAt: m.CreatedAt}
		if i > 0 && r.IntN(4) == 0 {
			ref := ds.members[r.IntN(i)].ID
			acct.ReferrerID = &ref
		}
		ds.accounts = append(ds.accounts, acct)
		n := 0
		if r.IntN(5) > 0 { // a fifth never buy
			n = 1 + r.IntN(8)
		}
		var purchases []rollup.Activity
		for j := 0; j < n; j++ {
			cur := "USD"
			if r.IntN(3) == 0 {
				cur = "EUR"
			}
			occ := at(m.CreatedAt)
			created := occ.Add(time.Duration(r.IntN(60)) * time.Second)
			if r.IntN(6) == 0 { // reported late
				created = occ.Add(time.Duration(r.IntN(40*24)) * time.Hour)
				if created.After(genNow) {
					created = genNow.Add(-time.Minute)
				}
			}
			a := rollup.Activity{ID: bson.NewObjectID(), Kind: kindPurchase, MemberID: m.ID, AmountMinor: int64(100 + r.IntN(20000)), Currency: cur, OccurredAt: occ, CreatedAt: created.Truncate(time.Millisecond)}
			purchases = append(purchases, a)
			ds.acts = append(ds.acts, a)
		}
		for _, p := range purchases {
			switch r.IntN(6) {
			case 0: // full refund, in two parts
				half := p.AmountMinor / 2
				for k, amt := range []int64{half, p.AmountMinor - half} {
					t := p.OccurredAt.Add(time.Duration(1+k+r.IntN(20*24)) * time.Hour)
					if t.After(genNow) {
						t = genNow.Add(-time.Second)
					}
					ds.acts = append(ds.acts, rollup.Activity{ID: bson.NewObjectID(), Kind: kindRefund, MemberID: m.ID, AmountMinor: amt, Currency: p.Currency, OccurredAt: t, RefundOf: &p.ID, CreatedAt: t})
				}
			case 1: // partial refund
				t := p.OccurredAt.Add(time.Duration(1+r.IntN(20*24)) * time.Hour)
				if t.After(genNow) {
					t = genNow.Add(-time.Second)
				}
				ds.acts = append(ds.acts, rollup.Activity{ID: bson.NewObjectID(), Kind: kindRefund, MemberID: m.ID, AmountMinor: 1 + r.Int64N(p.AmountMinor-1), Currency: p.Currency, OccurredAt: t, RefundOf: &p.ID, CreatedAt: t})
			}
		}
		// Check-ins are activities the figures ignore.
		if r.IntN(2) == 0 {
			t := at(m.CreatedAt)
			ds.acts = append(ds.acts, rollup.Activity{ID: bson.NewObjectID(), Kind: "CHECK_IN", MemberID: m.ID, OccurredAt: t, CreatedAt: t})
		}
		// Ledger: a chain of entries in time order, with tier moves.
		ne := r.IntN(7)
		t := m.CreatedAt
		tier, balance := "Member", int64(0)
		for seq := int64(1); seq <= int64(ne); seq++ {
			t = t.Add(time.Duration(1+r.IntN(30*24)) * time.Hour)
			if !t.Before(genNow) {
				break
			}
			e := genEntry{ID: bson.NewObjectID(), MemberID: m.ID, Seq: seq, Source: map[string]string{"kind": "ACTIVITY"}, CreatedAt: t.Truncate(time.Millisecond)}
			switch k := r.IntN(8); {
			case k < 3 || balance == 0:
				e.Type, e.Amount = "EARN", int64(1+r.IntN(900))
			case k == 3:
				e.Type, e.Amount = "REDEEM", -min(balance, int64(1+r.IntN(500)))
				e.Source["kind"] = "REDEMPTION"
			case k == 4:
				e.Type, e.Amount = "EXPIRE", -min(balance, int64(1+r.IntN(300)))
				e.Source["kind"] = "LOT"
			case k == 5:
				e.Type, e.Amount = "REFUND", -min(balance, int64(1+r.IntN(200)))
			case k == 6:
				e.Type, e.Amount = "REFERRAL", 500
				e.Source["kind"] = "REFERRAL"
			default:
				e.Type, e.Amount = "ADJUST", int64(r.IntN(400)-200)
				e.Source["kind"] = "ADJUSTMENT"
				if balance+e.Amount < 0 {
					e.Amount = -balance
				}
			}
			balance += e.Amount
			if r.IntN(4) == 0 {
				next := []string{"Member", "Silver", "Gold"}[r.IntN(3)]
				if next != tier {
					e.TierChange = bson.M{"from": tier, "to": next}
					tier = next
				}
			}
			e.tier = tier
			e.State = bson.M{"balance": balance, "tier": bson.M{"name": tier}}
			ds.entries = append(ds.entries, e)
		}
	}
	// Conversions: referees with a purchase, a third reversed later by a
	// refund (recorded in the second part, as game.Reverse follows one).
	for _, a := range ds.accounts {
		if a.ReferrerID == nil || r.IntN(3) == 0 {
			continue
		}
		c := genConversion{ID: a.ID, Status: "REWARDED", At: a.CreatedAt.Add(time.Duration(1+r.IntN(300)) * time.Hour).Truncate(time.Millisecond)}
		if c.At.After(genNow) {
			continue
		}
		if r.IntN(3) == 0 {
			c.Status = "REVERSED"
			refund := genNow.Add(-time.Hour)
			bogus := bson.NewObjectID()
			ds.acts = append(ds.acts, rollup.Activity{ID: bson.NewObjectID(), Kind: kindRefund, MemberID: c.ID, AmountMinor: 1, Currency: "USD", OccurredAt: refund, RefundOf: &bogus, CreatedAt: refund})
		}
		ds.conversions = append(ds.conversions, c)
	}
	return ds
}

// load inserts what was recorded before cut (the activities by createdAt,
// everything else by its own time), or, with after, what was recorded since.
func (ds *dataset) load(t testing.TB, db *mongo.Database, cut time.Time, after bool) {
	t.Helper()
	ctx := context.Background()
	in := func(at time.Time) bool { return at.Before(cut) != after }
	insert := func(coll string, docs []any) {
		if len(docs) == 0 {
			return
		}
		if _, err := db.Collection(coll).InsertMany(ctx, docs); err != nil {
			t.Fatalf("insert %s: %v", coll, err)
		}
	}
	var ms, as, es, accs, cs []any
	for _, m := range ds.members {
		if in(m.CreatedAt) {
			ms = append(ms, m)
		}
	}
	for _, a := range ds.acts {
		if in(a.CreatedAt) {
			as = append(as, a)
		}
	}
	for _, e := range ds.entries {
		if in(e.CreatedAt) {
			es = append(es, e)
		}
	}
	for _, a := range ds.accounts {
		if in(a.CreatedAt) {
			accs = append(accs, a)
		}
	}
	insert("members", ms)
	insert("activities", as)
	insert("ledger", es)
	insert("accounts", accs)
	// A conversion is written once; a reversal updates it later (here: it
	// is stored as REWARDED first and reversed in the second part).
	for _, c := range ds.conversions {
		switch {
		case in(c.At) && !after:
			first := c
			if c.Status == "REVERSED" {
				first.Status = "REWARDED"
			}
			cs = append(cs, first)
		case !c.At.Before(cut) && after:
			cs = append(cs, c)
		case after && c.Status == "REVERSED":
			if _, err := db.Collection("referral_conversions").UpdateByID(ctx, c.ID, bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: "REVERSED"}}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	insert("referral_conversions", cs)
}

// --- the reference: figures straight from the raw data -----------------

type refPurchase struct {
	member bson.ObjectID
	day    string // YYYY-MM-DD in the program's zone
	cur    string
	net    int64
}

func (ds *dataset) purchases() []refPurchase {
	refunded := map[bson.ObjectID]int64{}
	for _, a := range ds.acts {
		if a.Kind == kindRefund {
			refunded[*a.RefundOf] += a.AmountMinor
		}
	}
	var out []refPurchase
	for _, a := range ds.acts {
		if a.Kind == kindPurchase && a.AmountMinor-refunded[a.ID] > 0 {
			out = append(out, refPurchase{a.MemberID, a.OccurredAt.In(ds.loc).Format(time.DateOnly), a.Currency, a.AmountMinor - refunded[a.ID]})
		}
	}
	return out
}

func (ds *dataset) firstDays() map[bson.ObjectID]string {
	first := map[bson.ObjectID]string{}
	for _, p := range ds.purchases() {
		if f, ok := first[p.member]; !ok || p.day < f {
			first[p.member] = p.day
		}
	}
	return first
}

func feq(t *testing.T, what string, got *float64, want float64, ok bool) {
	t.Helper()
	switch {
	case !ok && got != nil:
		t.Errorf("%s = %v, want none", what, *got)
	case ok && got == nil:
		t.Errorf("%s = none, want %v", what, want)
	case ok && math.Abs(*got-want) > 1e-9:
		t.Errorf("%s = %v, want %v", what, *got, want)
	}
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err) // dates written in the tests
	}
	return t
}

func date(s string) member.Date {
	d, err := member.ParseDate(s)
	if err != nil {
		panic(err) // dates written in the tests
	}
	return d
}

func (ds *dataset) checkOverview(t *testing.T, s *Service, from, to string) {
	t.Helper()
	got, err := s.Overview(context.Background(), Range{From: date(from), To: date(to)})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[bson.ObjectID]int64{}
	var purchases int64
	rev, n := map[string]int64{}, map[string]int64{}
	for _, p := range ds.purchases() {
		if p.day >= from && p.day <= to {
			counts[p.member]++
			purchases++
			rev[p.cur] += p.net
			n[p.cur]++
		}
	}
	var repeat int64
	for _, c := range counts {
		if c >= 2 {
			repeat++
		}
	}
	var newC, customers int64
	for _, f := range ds.firstDays() {
		if f >= from && f <= to {
			newC++
		}
		if f <= to {
			customers++
		}
	}
	where := fmt.Sprintf("%s..%s", from, to)
	if got.Purchases != purchases || got.PurchasingMembers != int64(len(counts)) || got.RepeatPurchasers != repeat || got.NewCustomers != newC || got.Customers != customers {
		t.Errorf("%s: purchases %d members %d repeat %d new %d customers %d, want %d %d %d %d %d", where,
			got.Purchases, got.PurchasingMembers, got.RepeatPurchasers, got.NewCustomers, got.Customers, purchases, len(counts), repeat, newC, customers)
	}
	feq(t, where+" repeat rate", got.RepeatPurchaseRate, float64(repeat)/float64(len(counts)), len(counts) > 0)
	feq(t, where+" frequency", got.PurchaseFrequency, float64(purchases)/float64(len(counts)), len(counts) > 0)
	if len(got.Currencies) != len(rev) {
		t.Errorf("%s: currencies %+v, want %v", where, got.Currencies, rev)
	}
	for _, c := range got.Currencies {
		if c.RevenueMinor != float64(rev[c.Currency]) || c.Purchases != n[c.Currency] {
			t.Errorf("%s %s: revenue %v purchases %d, want %d %d", where, c.Currency, c.RevenueMinor, c.Purchases, rev[c.Currency], n[c.Currency])
		}
		feq(t, where+" AOV "+c.Currency, c.AOVMinor, float64(rev[c.Currency])/float64(n[c.Currency]), true)
	}
}

func (ds *dataset) checkRetention(t *testing.T, s *Service, from, to string, period Period) {
	t.Helper()
	got, err := s.Retention(context.Background(), Range{From: date(from), To: date(to)}, period)
	if err != nil {
		t.Fatal(err)
	}
	// Periods, the reference's way: walk the dates.
	var bounds [][2]string
	for d := day(from); !d.After(day(to)); {
		var end time.Time
		switch period {
		case PeriodWeek:
			end = d
			for end.Weekday() != time.Sunday {
				end = end.AddDate(0, 0, 1)
			}
		case PeriodMonth:
			end = time.Date(d.Year(), d.Month()+1, 0, 0, 0, 0, 0, time.UTC)
		}
		if end.After(day(to)) {
			end = day(to)
		}
		bounds = append(bounds, [2]string{d.Format(time.DateOnly), end.Format(time.DateOnly)})
		d = end.AddDate(0, 0, 1)
	}
	if len(got.Periods) != len(bounds) {
		t.Fatalf("retention %s: %d periods, want %d", period, len(got.Periods), len(bounds))
	}
	first := ds.firstDays()
	purchases := ds.purchases()
	for i, b := range bounds {
		var start, newC int64
		for _, f := range first {
			if f < b[0] {
				start++
			}
			if f >= b[0] && f <= b[1] {
				newC++
			}
		}
		active := map[bson.ObjectID]bool{}
		for _, p := range purchases {
			if p.day >= b[0] && p.day <= b[1] {
				active[p.member] = true
			}
		}
		g := got.Periods[i]
		where := fmt.Sprintf("retention %s %s", period, b[0])
		if g.From.String() != b[0] || g.To.String() != b[1] || g.CustomersAtStart != start || g.NewCustomers != newC || g.ActiveCustomers != int64(len(active)) {
			t.Errorf("%s: %+v, want %v start %d new %d active %d", where, g, b, start, newC, len(active))
		}
		feq(t, where, g.Rate, float64(int64(len(active))-newC)/float64(start), start > 0)
	}
}

func month(s string) string { return s[:7] }

func monthsBetween(a, b string) int {
	ta, tb := day(a+"-01"), day(b+"-01")
	return (tb.Year()-ta.Year())*12 + int(tb.Month()) - int(ta.Month())
}

func (ds *dataset) checkCohorts(t *testing.T, s *Service, by CohortBy, from, to string) {
	t.Helper()
	got, err := s.Cohorts(context.Background(), by, Range{From: date(from), To: date(to)})
	if err != nil {
		t.Fatal(err)
	}
	cohortOf := map[bson.ObjectID]string{}
	if by == BySignup {
		for _, m := range ds.members {
			cohortOf[m.ID] = month(m.CreatedAt.In(ds.loc).Format(time.DateOnly))
		}
	} else {
		for id, f := range ds.firstDays() {
			cohortOf[id] = month(f)
		}
	}
	size := map[string]int64{}
	for _, c := range cohortOf {
		if c >= month(from) && c <= month(to) {
			size[c]++
		}
	}
	active := map[string]map[int]map[bson.ObjectID]bool{}
	for _, p := range ds.purchases() {
		c, ok := cohortOf[p.member]
		if !ok || size[c] == 0 {
			continue
		}
		k := monthsBetween(c, month(p.day))
		if active[c] == nil {
			active[c] = map[int]map[bson.ObjectID]bool{}
		}
		if active[c][k] == nil {
			active[c][k] = map[bson.ObjectID]bool{}
		}
		active[c][k][p.member] = true
	}
	if len(got.Cohorts) != len(size) {
		t.Fatalf("cohorts %s: %d, want %d", by, len(got.Cohorts), len(size))
	}
	asOf := month(genNow.In(ds.loc).Format(time.DateOnly))
	for _, g := range got.Cohorts {
		c := g.Month.String()[:7]
		if g.Size != size[c] || len(g.Members) != monthsBetween(c, asOf)+1 || len(g.Rates) != len(g.Members) {
			t.Errorf("cohort %s %s: size %d cells %d, want %d %d", by, c, g.Size, len(g.Members), size[c], monthsBetween(c, asOf)+1)
		}
		for k, n := range g.Members {
			want := int64(len(active[c][k]))
			if n != want {
				t.Errorf("cohort %s %s month %d: %d members, want %d", by, c, k, n, want)
			}
			feq(t, "cohort rate", g.Rates[k], float64(want)/float64(size[c]), true)
		}
	}
}

func (ds *dataset) checkLTV(t *testing.T, s *Service) {
	t.Helper()
	horizons := []int{1, 30, 90, 180, 365}
	got, err := s.LTV(context.Background(), horizons, Range{From: date("2025-01-01"), To: date("2026-03-01")})
	if err != nil {
		t.Fatal(err)
	}
	first := ds.firstDays()
	size, maxFirst := map[string]int64{}, map[string]string{}
	for _, f := range first {
		size[month(f)]++
		if f > maxFirst[month(f)] {
			maxFirst[month(f)] = f
		}
	}
	today := genNow.In(ds.loc).Format(time.DateOnly)
	type key struct{ cohort, cur string }
	total := map[key]int64{}
	within := map[key]map[int]int64{}
	for _, p := range ds.purchases() {
		k := key{month(first[p.member]), p.cur}
		total[k] += p.net
		age := int(day(p.day).Sub(day(first[p.member])).Hours() / 24)
		if within[k] == nil {
			within[k] = map[int]int64{}
		}
		for _, h := range horizons {
			if age < h {
				within[k][h] += p.net
			}
		}
	}
	if len(got.Cohorts) != len(size) {
		t.Fatalf("ltv: %d cohorts, want %d", len(got.Cohorts), len(size))
	}
	for _, g := range got.Cohorts {
		c := g.Month.String()[:7]
		for _, v := range g.Values {
			k := key{c, v.Currency}
			if math.Abs(v.HistoricMinor-float64(total[k])/float64(size[c])) > 1e-9 {
				t.Errorf("ltv %s %s: %v, want %v", c, v.Currency, v.HistoricMinor, float64(total[k])/float64(size[c]))
			}
			for i, h := range horizons {
				complete := !day(maxFirst[c]).AddDate(0, 0, h).After(day(today))
				feq(t, fmt.Sprintf("ltv %s %s @%d", c, v.Currency, h), v.AtHorizonsMinor[i], float64(within[k][h])/float64(size[c]), complete)
			}
		}
	}
}

func (ds *dataset) checkEconomics(t *testing.T, s *Service, from, to string) {
	t.Helper()
	got, err := s.Economics(context.Background(), Range{From: date(from), To: date(to)})
	if err != nil {
		t.Fatal(err)
	}
	var issued, reversed, redeemed, expired, before, end int64
	for _, e := range ds.entries {
		d := e.CreatedAt.In(ds.loc).Format(time.DateOnly)
		if d < from {
			before += e.Amount
		}
		if d <= to {
			end += e.Amount
		}
		if d < from || d > to {
			continue
		}
		switch {
		case e.Type == "EXPIRE":
			expired -= e.Amount
		case e.Type == "REDEEM":
			redeemed -= e.Amount
		case e.Amount > 0:
			issued += e.Amount
		default:
			reversed -= e.Amount
		}
	}
	f := func(n int64) float64 { return float64(n) }
	if got.Issued != f(issued) || got.Reversed != f(reversed) || got.Redeemed != f(redeemed) || got.Expired != f(expired) ||
		got.OutstandingAtStart != f(before) || got.OutstandingAtEnd != f(end) || got.LiabilityMinor != f(end*3) {
		t.Errorf("economics %s..%s: %+v, want issued %d reversed %d redeemed %d expired %d outstanding %d..%d", from, to, got, issued, reversed, redeemed, expired, before, end)
	}
	feq(t, "breakage", got.BreakageRate, float64(expired)/float64(issued), issued > 0)
	feq(t, "redemption rate", got.RedemptionRate, float64(redeemed)/float64(issued), issued > 0)
	// Tier distribution at each snapshot: each member's latest entry by then.
	for _, snap := range got.Tiers {
		endDay := snap.Date.String()
		latest := map[bson.ObjectID]genEntry{}
		for _, e := range ds.entries {
			if e.CreatedAt.In(ds.loc).Format(time.DateOnly) <= endDay && e.Seq > latest[e.MemberID].Seq {
				latest[e.MemberID] = e
			}
		}
		want := map[string]int64{}
		for _, e := range latest {
			want[e.tier]++
		}
		for i, tier := range snap.Tiers {
			if want[tier] != snap.Members[i] {
				t.Errorf("tiers at %s: %s %d, want %d", endDay, tier, snap.Members[i], want[tier])
			}
			delete(want, tier)
		}
		if len(want) > 0 {
			t.Errorf("tiers at %s: missing %v", endDay, want)
		}
	}
}

func (ds *dataset) checkReferrals(t *testing.T, s *Service, from, to string) {
	t.Helper()
	got, err := s.Referrals(context.Background(), Range{From: date(from), To: date(to)})
	if err != nil {
		t.Fatal(err)
	}
	var signUps, converted, reversed int64
	for _, a := range ds.accounts {
		if d := a.CreatedAt.In(ds.loc).Format(time.DateOnly); a.ReferrerID != nil && d >= from && d <= to {
			signUps++
		}
	}
	for _, c := range ds.conversions {
		if d := c.At.In(ds.loc).Format(time.DateOnly); d >= from && d <= to {
			converted++
			if c.Status == "REVERSED" {
				reversed++
			}
		}
	}
	if got.SignUps != signUps || got.Converted != converted || got.Reversed != reversed {
		t.Errorf("referrals %s..%s: %+v, want %d %d %d", from, to, got, signUps, converted, reversed)
	}
}

// TestFiguresMatchTheRawData builds the rollups in two runs (the second
// after late activities, refunds of old purchases and reversals) and
// checks every figure against a reference computed from the raw data,
// for several seeds.
func TestFiguresMatchTheRawData(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			ds := generate(seed, 60)
			db := testkit.Database(t)
			p := program.Default()
			p.Timezone, p.PointValueMinor = "America/New_York", 3
			clock := testkit.NewClock(genNow.AddDate(0, 0, -20))
			s := New(db, &fixedProgram{p}, clock.Now)
			testkit.EnsureIndexes(t, s.EnsureIndexes)
			ctx := context.Background()

			ds.load(t, db, clock.Now(), false)
			testkit.Must(s.Refresh(ctx))(t)
			ds.load(t, db, clock.Now(), true)
			clock.Set(genNow)
			testkit.Must(s.Refresh(ctx))(t)
			// A run with nothing new reads the overlap again and changes nothing.
			testkit.Must(s.Refresh(ctx))(t)

			r := rand.New(rand.NewPCG(seed, 99))
			ranges := [][2]string{{"2025-01-01", "2026-03-01"}, {"2025-06-01", "2025-06-30"}, {"2026-02-01", "2026-03-01"}}
			for i := 0; i < 4; i++ {
				a := genStart.AddDate(0, 0, r.IntN(400))
				b := a.AddDate(0, 0, r.IntN(120))
				ranges = append(ranges, [2]string{a.Format(time.DateOnly), b.Format(time.DateOnly)})
			}
			for _, rg := range ranges {
				ds.checkOverview(t, s, rg[0], rg[1])
				ds.checkRetention(t, s, rg[0], rg[1], PeriodMonth)
				if day(rg[1]).Sub(day(rg[0])) < 400*24*time.Hour {
					ds.checkRetention(t, s, rg[0], rg[1], PeriodWeek)
				}
				ds.checkEconomics(t, s, rg[0], rg[1])
				ds.checkReferrals(t, s, rg[0], rg[1])
				ds.checkCohorts(t, s, ByFirstPurchase, rg[0], rg[1])
				ds.checkCohorts(t, s, BySignup, rg[0], rg[1])
			}
			ds.checkLTV(t, s)
		})
	}
}

// rolledUp loads all of ds, recorded an hour before genNow, into a fresh
// database of a New York program and runs the rollup job once.
func rolledUp(t *testing.T, ds *dataset) *Service {
	t.Helper()
	db := testkit.Database(t)
	p := program.Default()
	p.Timezone = "America/New_York"
	s := New(db, &fixedProgram{p}, func() time.Time { return genNow })
	testkit.EnsureIndexes(t, s.EnsureIndexes)
	ds.load(t, db, genNow.Add(time.Hour), false)
	testkit.Must(s.Refresh(context.Background()))(t)
	return s
}

// TestDashboardReadsDoNotGrowWithMembers: the same days and cohorts with
// four times the members read the same number of rollup documents.
func TestDashboardReadsDoNotGrowWithMembers(t *testing.T) {
	reads := func(members int) []int {
		s := rolledUp(t, generate(5, members))
		ctx := context.Background()
		rg := Range{From: date("2025-03-01"), To: date("2025-03-31")}
		o := testkit.Must(s.Overview(ctx, rg))(t)
		e := testkit.Must(s.Economics(ctx, rg))(t)
		c := testkit.Must(s.Cohorts(ctx, ByFirstPurchase, rg))(t)
		return []int{o.DocumentsRead, e.DocumentsRead, c.DocumentsRead}
	}
	small, large := reads(40), reads(160)
	for i := range small {
		// At most one document per day of the range, month of history and cohort.
		if small[i] > 31+15+15+1 || large[i] > 31+15+15+1 {
			t.Errorf("query %d read %d and %d documents", i, small[i], large[i])
		}
	}
	t.Logf("documents read with 40 and 160 members: %v, %v", small, large)
}

func TestBadRanges(t *testing.T) {
	db := testkit.Database(t)
	p := program.Default()
	s := New(db, &fixedProgram{p}, nil)
	ctx := context.Background()
	for _, c := range []struct {
		r     Range
		field string
	}{
		{Range{From: date("2020-01-01"), To: date("2025-01-01")}, "range.to"},
		{Range{From: date("2025-02-01"), To: date("2025-01-01")}, "range.to"},
		{Range{From: date("2025-01-01"), To: date("2025-02-01"), Timezone: "Mars/Olympus"}, "range.timezone"},
		{Range{From: date("2025-01-01"), To: date("2025-02-01"), Timezone: "Europe/Paris"}, "range.timezone"},
		{Range{From: date("2025-01-01"), To: date("2025-02-01"), Currency: "XYZ"}, "range.currency"},
	} {
		_, err := s.Overview(ctx, c.r)
		if e, ok := input.As(err); !ok || e.Field != c.field {
			t.Errorf("%+v: %v, want an error on %s", c.r, err, c.field)
		}
	}
	if _, err := s.Overview(ctx, Range{From: date("2020-01-01"), To: date("2024-12-31"), Timezone: "UTC", Currency: "eur"}); err != nil {
		t.Errorf("a range just under 5 years: %v", err)
	}
	if _, err := s.LTV(ctx, []int{0}, Range{From: date("2025-01-01"), To: date("2025-01-02")}); err == nil {
		t.Error("a horizon of 0 days was accepted")
	}
}
