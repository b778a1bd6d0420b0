package analytics

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// overlap is how far before each watermark a run reads again: a document
// whose createdAt was taken before a later one's but that committed after
// it is still seen. Recomputing is idempotent, so reading twice is harmless.
const overlap = 2 * time.Minute

// memberBatch is how many members' facts one round trip recomputes.
const memberBatch = 1000

// dayRollup is one day of purchases (collDays, _id the day number).
type dayRollup struct {
	Day       int          `bson:"_id"`
	Purchases int64        `bson:"purchases"`
	Members   int64        `bson:"members"` // members with a purchase that day
	Cur       []curAmounts `bson:"cur"`
	// Prev counts that day's purchasing members by their previous purchase
	// day (-1: none, a first purchase). A range [a, b] has as many distinct
	// purchasing members as member-days in it whose previous day is before a.
	Prev []dayCount `bson:"prev"`
	// Single counts members with exactly one purchase that day by previous
	// and next purchase day: a member buys exactly once in [a, b] when such
	// a day in it has its previous day before a and its next after b.
	Single []singleDay `bson:"single"`
}

type dayCount struct {
	K int   `bson:"k"`
	C int64 `bson:"c"`
}

type singleDay struct {
	P int   `bson:"p"`
	X int   `bson:"x"`
	C int64 `bson:"c"`
}

// cohortRollup is one cohort (collCohorts, _id "<by>:<month>").
type cohortRollup struct {
	ID    string   `bson:"_id"`
	By    CohortBy `bson:"by"`
	Month int      `bson:"month"`
	Size  int64    `bson:"size"`
	// Active counts the cohort's members purchasing in month Month+K.
	Active []dayCount `bson:"active"`
	// FirstDays counts members by the day of their first purchase
	// (first-purchase cohorts), and MaxFirstDay is the latest of them.
	FirstDays   []dayCount `bson:"firstDays,omitempty"`
	MaxFirstDay int        `bson:"maxFirstDay"`
	// Revenue is net revenue by currency and days after each member's
	// first purchase (first-purchase cohorts).
	Revenue []offsetRevenue `bson:"revenue,omitempty"`
}

type offsetRevenue struct {
	C   string `bson:"c"`
	O   int    `bson:"o"`
	Rev int64  `bson:"rev"`
}

func cohortID(by CohortBy, month int) string { return string(by) + ":" + strconv.Itoa(month) }

// Refresh brings the rollups up to date with everything recorded since the
// last run: it recomputes the facts of every member with a purchase or
// refund recorded since (a late activity, or a refund of an old purchase,
// so touches the day it occurred), then every day and cohort those facts
// changed, the points of every day with ledger entries since, and the
// referral days with new sign-ups, conversions or reversals. Safe to run
// again at any point, and on one instance at a time (under the jobs'
// lease); a run cut short leaves its marks for the next. It returns the
// number of members whose facts it recomputed.
func (s *Service) Refresh(ctx context.Context) (int, error) {
	p, err := s.programs.Get(ctx)
	if err != nil {
		return 0, err
	}
	loc := p.Location()
	start := s.now().UTC()
	st, err := s.store.loadState(ctx)
	if err != nil {
		return 0, err
	}
	if st.Timezone != loc.String() {
		if err := s.store.reset(ctx); err != nil {
			return 0, err
		}
		st = state{ID: stateID, Timezone: loc.String()}
	}
	dirty := newDirty()
	if err := s.store.loadDirty(ctx, dirty); err != nil {
		return 0, err
	}
	touched, next, err := s.touchedMembers(ctx, st)
	if err != nil {
		return 0, err
	}
	for i := 0; i < len(touched); i += memberBatch {
		if err := s.refreshMembers(ctx, touched[i:min(i+memberBatch, len(touched))], loc, dirty); err != nil {
			return 0, err
		}
	}
	if err := s.refreshDays(ctx, dirty.days); err != nil {
		return 0, err
	}
	if err := s.refreshCohorts(ctx, dirty.cohorts); err != nil {
		return 0, err
	}
	if next.Ledger, err = s.refreshPoints(ctx, st.Ledger, loc); err != nil {
		return 0, err
	}
	if next.Accounts, next.Conversions, err = s.refreshReferrals(ctx, st, loc, dirty.referral); err != nil {
		return 0, err
	}
	if err := s.store.clearDirty(ctx, dirty); err != nil {
		return 0, err
	}
	next.ID, next.Timezone, next.AsOf = stateID, loc.String(), start
	return len(touched), s.store.saveState(ctx, next)
}

func since(mark time.Time) time.Time {
	if mark.IsZero() {
		return time.Time{}
	}
	return mark.Add(-overlap)
}

// touchedMembers lists the members with a purchase or refund recorded, or
// who signed up, since the marks, and the marks after them.
func (s *Service) touchedMembers(ctx context.Context, st state) ([]bson.ObjectID, state, error) {
	next := st
	set := map[bson.ObjectID]bool{}
	type row struct {
		ID        bson.ObjectID `bson:"_id"`
		MemberID  bson.ObjectID `bson:"memberId"`
		CreatedAt time.Time     `bson:"createdAt"`
	}
	byCreated := options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}})
	err := each(ctx, s.store.activities, bson.D{
		{Key: "createdAt", Value: bson.D{{Key: "$gte", Value: since(st.Activities)}}},
		{Key: "kind", Value: bson.D{{Key: "$in", Value: bson.A{kindPurchase, kindRefund}}}},
	}, byCreated.SetProjection(bson.D{{Key: "memberId", Value: 1}, {Key: "createdAt", Value: 1}}), func(r *row) error {
		set[r.MemberID] = true
		if r.CreatedAt.After(next.Activities) {
			next.Activities = r.CreatedAt
		}
		return nil
	})
	if err != nil {
		return nil, st, err
	}
	err = each(ctx, s.store.people, bson.D{{Key: "createdAt", Value: bson.D{{Key: "$gte", Value: since(st.Members)}}}},
		options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}}).SetProjection(bson.D{{Key: "createdAt", Value: 1}}),
		func(r *row) error {
			set[r.ID] = true
			if r.CreatedAt.After(next.Members) {
				next.Members = r.CreatedAt
			}
			return nil
		})
	if err != nil {
		return nil, st, err
	}
	ids := slices.SortedFunc(maps.Keys(set), func(a, b bson.ObjectID) int { return strings.Compare(a.Hex(), b.Hex()) })
	return ids, next, nil
}

// refreshMembers recomputes the facts of ids from their raw activities,
// marking what changed dirty before writing them.
func (s *Service) refreshMembers(ctx context.Context, ids []bson.ObjectID, loc *time.Location, dirty *dirtySet) error {
	in := bson.D{{Key: "$in", Value: ids}}
	var olds []memberFacts
	if err := findAll(ctx, s.store.members, bson.D{{Key: "_id", Value: in}}, nil, &olds); err != nil {
		return err
	}
	old := map[bson.ObjectID]*memberFacts{}
	for i := range olds {
		old[olds[i].ID] = &olds[i]
	}
	var people []struct {
		ID        bson.ObjectID `bson:"_id"`
		CreatedAt time.Time     `bson:"createdAt"`
	}
	if err := findAll(ctx, s.store.people, bson.D{{Key: "_id", Value: in}}, options.Find().SetProjection(bson.D{{Key: "createdAt", Value: 1}}), &people); err != nil {
		return err
	}
	signup := map[bson.ObjectID]time.Time{}
	for _, p := range people {
		signup[p.ID] = p.CreatedAt
	}
	acts := map[bson.ObjectID][]rawActivity{}
	err := each(ctx, s.store.activities, bson.D{{Key: "memberId", Value: in}, {Key: "kind", Value: bson.D{{Key: "$in", Value: bson.A{kindPurchase, kindRefund}}}}},
		nil, func(a *rawActivity) error {
			acts[a.MemberID] = append(acts[a.MemberID], *a)
			return nil
		})
	if err != nil {
		return err
	}
	// A refund may have reversed a referral: its conversion's day is recounted.
	var convs []struct {
		At time.Time `bson:"at"`
	}
	if err := findAll(ctx, s.store.conversions, bson.D{{Key: "_id", Value: in}}, nil, &convs); err != nil {
		return err
	}
	for _, c := range convs {
		dirty.referral[dayOf(c.At, loc)] = true
	}
	keys := make([]any, 0, len(ids))
	docs := make([]memberFacts, 0, len(ids))
	for _, id := range ids {
		at, ok := signup[id]
		if !ok {
			// A member since deleted, or an activity of an unknown member:
			// counted from its first activity's month.
			at = firstRecorded(acts[id])
		}
		f := factsOf(id, at, acts[id], loc)
		f.changes(old[id], dirty)
		keys = append(keys, id)
		docs = append(docs, f)
	}
	if err := s.store.saveDirty(ctx, dirty); err != nil {
		return err
	}
	return replaceAll(ctx, s.store.members, keys, docs)
}

func firstRecorded(acts []rawActivity) time.Time {
	var t time.Time
	for _, a := range acts {
		if t.IsZero() || a.OccurredAt.Before(t) {
			t = a.OccurredAt
		}
	}
	return t
}

// refreshDays recomputes the dirty days from the facts of the members with
// a purchase on one of them, in one query.
func (s *Service) refreshDays(ctx context.Context, dirty map[int]bool) error {
	if len(dirty) == 0 {
		return nil
	}
	days := slices.Sorted(maps.Keys(dirty))
	type acc struct {
		r      dayRollup
		cur    map[string]*curAmounts
		prev   map[int]int64
		single map[[2]int]int64
	}
	rolls := map[int]*acc{}
	for _, d := range days {
		rolls[d] = &acc{r: dayRollup{Day: d}, cur: map[string]*curAmounts{}, prev: map[int]int64{}, single: map[[2]int]int64{}}
	}
	for i := 0; i < len(days); i += 5000 {
		chunk := days[i:min(i+5000, len(days))]
		err := each(ctx, s.store.members, bson.D{{Key: "days.d", Value: bson.D{{Key: "$in", Value: chunk}}}}, nil, func(f *memberFacts) error {
			for _, fd := range f.Days {
				a := rolls[fd.D]
				if a == nil {
					continue
				}
				a.r.Purchases += fd.N
				a.r.Members++
				a.prev[fd.P]++
				if fd.N == 1 {
					a.single[[2]int{fd.P, fd.X}]++
				}
				for _, c := range fd.Cur {
					t := a.cur[c.C]
					if t == nil {
						t = &curAmounts{C: c.C}
						a.cur[c.C] = t
					}
					t.N += c.N
					t.Rev += c.Rev
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	keys := make([]any, 0, len(days))
	docs := make([]dayRollup, 0, len(days))
	for _, d := range days {
		a := rolls[d]
		a.r.Cur, a.r.Prev, a.r.Single = []curAmounts{}, []dayCount{}, []singleDay{}
		for _, c := range slices.Sorted(maps.Keys(a.cur)) {
			a.r.Cur = append(a.r.Cur, *a.cur[c])
		}
		for _, k := range slices.Sorted(maps.Keys(a.prev)) {
			a.r.Prev = append(a.r.Prev, dayCount{K: k, C: a.prev[k]})
		}
		for k, c := range a.single {
			a.r.Single = append(a.r.Single, singleDay{P: k[0], X: k[1], C: c})
		}
		slices.SortFunc(a.r.Single, func(x, y singleDay) int {
			if x.P != y.P {
				return x.P - y.P
			}
			return x.X - y.X
		})
		keys = append(keys, d)
		docs = append(docs, a.r)
	}
	for i := 0; i < len(docs); i += 1000 {
		if err := replaceAll(ctx, s.store.days, keys[i:min(i+1000, len(keys))], docs[i:min(i+1000, len(docs))]); err != nil {
			return err
		}
	}
	return nil
}

// refreshCohorts recomputes the dirty cohorts from their members' facts.
func (s *Service) refreshCohorts(ctx context.Context, dirty map[string]bool) error {
	if len(dirty) == 0 {
		return nil
	}
	var firstMonths, signupMonths []int
	type acc struct {
		r       cohortRollup
		active  map[int]map[bson.ObjectID]bool
		firsts  map[int]int64
		revenue map[offsetRevenue]int64 // keyed without Rev
	}
	rolls := map[string]*acc{}
	for id := range dirty {
		by, m, ok := strings.Cut(id, ":")
		month, err := strconv.Atoi(m)
		if !ok || err != nil {
			continue
		}
		switch CohortBy(by) {
		case ByFirstPurchase:
			firstMonths = append(firstMonths, month)
		case BySignup:
			signupMonths = append(signupMonths, month)
		default:
			continue
		}
		rolls[id] = &acc{r: cohortRollup{ID: id, By: CohortBy(by), Month: month, MaxFirstDay: -1},
			active: map[int]map[bson.ObjectID]bool{}, firsts: map[int]int64{}, revenue: map[offsetRevenue]int64{}}
	}
	add := func(a *acc, f *memberFacts) {
		a.r.Size++
		for _, fd := range f.Days {
			k := monthOfDay(fd.D) - a.r.Month
			if a.active[k] == nil {
				a.active[k] = map[bson.ObjectID]bool{}
			}
			a.active[k][f.ID] = true
			if a.r.By == ByFirstPurchase {
				for _, c := range fd.Cur {
					a.revenue[offsetRevenue{C: c.C, O: fd.D - f.FirstDay}] += c.Rev
				}
			}
		}
		if a.r.By == ByFirstPurchase {
			a.firsts[f.FirstDay]++
			a.r.MaxFirstDay = max(a.r.MaxFirstDay, f.FirstDay)
		}
	}
	filter := bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "firstMonth", Value: bson.D{{Key: "$in", Value: append(firstMonths, -2)}}}},
		bson.D{{Key: "signupMonth", Value: bson.D{{Key: "$in", Value: append(signupMonths, -2)}}}},
	}}}
	err := each(ctx, s.store.members, filter, nil, func(f *memberFacts) error {
		if a := rolls[cohortID(ByFirstPurchase, f.FirstMonth)]; a != nil && f.FirstMonth >= 0 {
			add(a, f)
		}
		if a := rolls[cohortID(BySignup, f.SignupMonth)]; a != nil {
			add(a, f)
		}
		return nil
	})
	if err != nil {
		return err
	}
	var keys []any
	var docs []cohortRollup
	for _, id := range slices.Sorted(maps.Keys(rolls)) {
		a := rolls[id]
		a.r.Active = []dayCount{}
		for _, k := range slices.Sorted(maps.Keys(a.active)) {
			a.r.Active = append(a.r.Active, dayCount{K: k, C: int64(len(a.active[k]))})
		}
		for _, d := range slices.Sorted(maps.Keys(a.firsts)) {
			a.r.FirstDays = append(a.r.FirstDays, dayCount{K: d, C: a.firsts[d]})
		}
		for k, rev := range a.revenue {
			k.Rev = rev
			a.r.Revenue = append(a.r.Revenue, k)
		}
		slices.SortFunc(a.r.Revenue, func(x, y offsetRevenue) int {
			if c := strings.Compare(x.C, y.C); c != 0 {
				return c
			}
			return x.O - y.O
		})
		keys = append(keys, id)
		docs = append(docs, a.r)
	}
	return replaceAll(ctx, s.store.cohorts, keys, docs)
}

// pointsRollup is one day's (or month's) points (collPoints: _id the day;
// collPointsMonthly: _id the month). Every ledger entry falls in exactly
// one of the four amounts, so issued − reversed − redeemed − expired is
// the change of the points outstanding.
type pointsRollup struct {
	Key int `bson:"_id"`
	// Issued: EARN, REFERRAL and ADJUST entries that credit.
	Issued int64 `bson:"issued"`
	// Reversed: what refunds took back (REFUND entries of a purchase),
	// reversed referrals (REFERRAL debits) and ADJUST debits.
	Reversed int64 `bson:"reversed"`
	// Redeemed: REDEEM entries (rewards, offers, streak freezes) less the
	// points cancelled redemptions gave back (REFUND entries of a redemption).
	Redeemed int64 `bson:"redeemed"`
	// Expired: EXPIRE entries.
	Expired int64 `bson:"expired"`
	// Tiers is the change of members per tier: a member's first entry adds
	// them to its tier, a tier change moves them.
	Tiers []tierCount `bson:"tiers"`
}

type tierCount struct {
	T string `bson:"t"`
	C int64  `bson:"c"`
}

type rawEntry struct {
	Type   string `bson:"type"`
	Amount int64  `bson:"amount"`
	Seq    int64  `bson:"seq"`
	Source struct {
		Kind string `bson:"kind"`
	} `bson:"source"`
	State struct {
		Tier struct {
			Name string `bson:"name"`
		} `bson:"tier"`
	} `bson:"state"`
	TierChange *struct {
		From string `bson:"from"`
		To   string `bson:"to"`
	} `bson:"tierChange"`
	CreatedAt time.Time `bson:"createdAt"`
}

func (p *pointsRollup) add(e *rawEntry, tiers map[string]int64) {
	switch {
	case e.Type == "EXPIRE":
		p.Expired -= e.Amount
	case e.Type == "REDEEM":
		p.Redeemed -= e.Amount
	case e.Type == "REFUND" && e.Source.Kind == "REDEMPTION":
		p.Redeemed -= e.Amount
	case e.Amount > 0:
		p.Issued += e.Amount
	default:
		p.Reversed -= e.Amount
	}
	switch {
	case e.Seq == 1:
		tiers[e.State.Tier.Name]++
	case e.TierChange != nil:
		tiers[e.TierChange.From]--
		tiers[e.TierChange.To]++
	}
}

const collPointsMonthly = "analytics_points_monthly"

// refreshPoints recomputes every day from the one of the mark (less the
// overlap) on, reading the ledger entries of those days once: entries are
// dated when written, so no older day changes. Months touched are summed
// again from their days. It returns the new mark.
func (s *Service) refreshPoints(ctx context.Context, mark time.Time, loc *time.Location) (time.Time, error) {
	from := time.Time{}
	if !mark.IsZero() {
		from = dayStart(dayOf(since(mark), loc), loc)
	}
	rolls := map[int]*pointsRollup{}
	tiers := map[int]map[string]int64{}
	next := mark
	err := each(ctx, s.store.ledger, bson.D{{Key: "createdAt", Value: bson.D{{Key: "$gte", Value: from}}}},
		options.Find().SetProjection(bson.D{{Key: "type", Value: 1}, {Key: "amount", Value: 1}, {Key: "seq", Value: 1}, {Key: "source.kind", Value: 1},
			{Key: "state.tier.name", Value: 1}, {Key: "tierChange", Value: 1}, {Key: "createdAt", Value: 1}}),
		func(e *rawEntry) error {
			d := dayOf(e.CreatedAt, loc)
			if rolls[d] == nil {
				rolls[d], tiers[d] = &pointsRollup{Key: d}, map[string]int64{}
			}
			rolls[d].add(e, tiers[d])
			if e.CreatedAt.After(next) {
				next = e.CreatedAt
			}
			return nil
		})
	if err != nil {
		return mark, err
	}
	if len(rolls) == 0 {
		return next, nil
	}
	var keys []any
	var docs []pointsRollup
	months := map[int]bool{}
	for _, d := range slices.Sorted(maps.Keys(rolls)) {
		r := rolls[d]
		r.Tiers = tierList(tiers[d])
		keys, docs = append(keys, d), append(docs, *r)
		months[monthOfDay(d)] = true
	}
	for i := 0; i < len(docs); i += 1000 {
		if err := replaceAll(ctx, s.store.points, keys[i:min(i+1000, len(keys))], docs[i:min(i+1000, len(docs))]); err != nil {
			return mark, err
		}
	}
	monthly := s.store.points.Database().Collection(collPointsMonthly)
	keys, docs = nil, nil
	for _, m := range slices.Sorted(maps.Keys(months)) {
		var days []pointsRollup
		if err := findAll(ctx, s.store.points, bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: monthFirstDay(m)}, {Key: "$lt", Value: monthFirstDay(m + 1)}}}}, nil, &days); err != nil {
			return mark, err
		}
		sum := pointsRollup{Key: m}
		t := map[string]int64{}
		for _, d := range days {
			sum.plus(d, t)
		}
		sum.Tiers = tierList(t)
		keys, docs = append(keys, m), append(docs, sum)
	}
	if err := replaceAll(ctx, monthly, keys, docs); err != nil {
		return mark, err
	}
	return next, nil
}

func (p *pointsRollup) plus(o pointsRollup, tiers map[string]int64) {
	p.Issued += o.Issued
	p.Reversed += o.Reversed
	p.Redeemed += o.Redeemed
	p.Expired += o.Expired
	for _, t := range o.Tiers {
		tiers[t.T] += t.C
	}
}

func tierList(m map[string]int64) []tierCount {
	out := []tierCount{}
	for _, t := range slices.Sorted(maps.Keys(m)) {
		if m[t] != 0 {
			out = append(out, tierCount{T: t, C: m[t]})
		}
	}
	return out
}

// referralRollup is one day of the referral funnel (collReferral).
type referralRollup struct {
	Day int `bson:"_id"`
	// SignUps: members who joined that day with a referral code.
	SignUps int64 `bson:"signUps"`
	// Converted: referees whose first qualifying purchase was converted
	// that day (rewarded, capped or since reversed); Reversed: those of
	// them whose rewards a refund has since taken back.
	Converted int64 `bson:"converted"`
	Reversed  int64 `bson:"reversed"`
}

// refreshReferrals recounts the days with sign-ups or conversions since the
// marks, and the dirty days (a conversion a refund may have reversed).
func (s *Service) refreshReferrals(ctx context.Context, st state, loc *time.Location, dirty map[int]bool) (time.Time, time.Time, error) {
	nextAcc, nextConv := st.Accounts, st.Conversions
	type account struct {
		CreatedAt time.Time `bson:"createdAt"`
	}
	type conversion struct {
		Status string    `bson:"status"`
		At     time.Time `bson:"at"`
	}
	// Days of new sign-ups and conversions, from the marks on.
	err := each(ctx, s.store.accounts, bson.D{{Key: "createdAt", Value: bson.D{{Key: "$gte", Value: since(st.Accounts)}}}, {Key: "referrerId", Value: bson.D{{Key: "$exists", Value: true}}}},
		options.Find().SetProjection(bson.D{{Key: "createdAt", Value: 1}}), func(a *account) error {
			dirty[dayOf(a.CreatedAt, loc)] = true
			if a.CreatedAt.After(nextAcc) {
				nextAcc = a.CreatedAt
			}
			return nil
		})
	if err != nil {
		return st.Accounts, st.Conversions, err
	}
	err = each(ctx, s.store.conversions, bson.D{{Key: "at", Value: bson.D{{Key: "$gte", Value: since(st.Conversions)}}}},
		options.Find().SetProjection(bson.D{{Key: "at", Value: 1}}), func(c *conversion) error {
			dirty[dayOf(c.At, loc)] = true
			if c.At.After(nextConv) {
				nextConv = c.At
			}
			return nil
		})
	if err != nil || len(dirty) == 0 {
		return nextAcc, nextConv, err
	}
	days := slices.Sorted(maps.Keys(dirty))
	window := bson.D{{Key: "$gte", Value: dayStart(days[0], loc)}, {Key: "$lt", Value: dayStart(days[len(days)-1]+1, loc)}}
	rolls := map[int]*referralRollup{}
	for _, d := range days {
		rolls[d] = &referralRollup{Day: d}
	}
	err = each(ctx, s.store.accounts, bson.D{{Key: "createdAt", Value: window}, {Key: "referrerId", Value: bson.D{{Key: "$exists", Value: true}}}},
		options.Find().SetProjection(bson.D{{Key: "createdAt", Value: 1}}), func(a *account) error {
			if r := rolls[dayOf(a.CreatedAt, loc)]; r != nil {
				r.SignUps++
			}
			return nil
		})
	if err != nil {
		return st.Accounts, st.Conversions, err
	}
	err = each(ctx, s.store.conversions, bson.D{{Key: "at", Value: window}},
		options.Find().SetProjection(bson.D{{Key: "at", Value: 1}, {Key: "status", Value: 1}}), func(c *conversion) error {
			if r := rolls[dayOf(c.At, loc)]; r != nil {
				r.Converted++
				if c.Status == "REVERSED" {
					r.Reversed++
				}
			}
			return nil
		})
	if err != nil {
		return st.Accounts, st.Conversions, err
	}
	var keys []any
	var docs []referralRollup
	for _, d := range days {
		keys, docs = append(keys, d), append(docs, *rolls[d])
	}
	if err := replaceAll(ctx, s.store.referrals, keys, docs); err != nil {
		return st.Accounts, st.Conversions, err
	}
	return nextAcc, nextConv, nil
}
