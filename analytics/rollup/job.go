// Package rollup keeps the rollups the brand's analytics answer from, and
// the job that writes them (Job.Run) from the raw activities, ledger,
// members and referral records of the other rooms: per member, the days
// they purchased net of refunds; per day, purchases, revenue and members
// by their previous purchase day; per cohort month, size, activity and
// revenue by day offset; per day and month, points issued, reversed,
// redeemed and expired and tier moves; per day, the referral funnel. The
// figures (package analytics) read them through Store, a bounded number
// of documents whatever the number of members. The job then runs its
// parts (Part), rollups kept beside these with their own marks: the
// engagement rollups (package analytics/rollup/engagement) and the
// campaign rollups (package analytics/rollup/campaigns, which reads the
// members' purchase days kept here).
//
// Days and months are those of the program's timezone, numbered (calendar.go).
package rollup

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/analytics/rollup/internal/rollupdb"
	"github.com/regulars/regulars/game/program"
)

// Programs reads the brand's program (its timezone).
type Programs interface {
	Get(ctx context.Context) (program.Program, error)
}

// A Part is a set of rollups kept beside the purchase rollups, with its
// own marks, brought up to date by Job.Run after them.
type Part interface {
	// Run brings the part's rollups up to date with everything recorded
	// since its last run; safe to run again at any point. start is when
	// the job's run began, before anything was read: the part advances its
	// marks to it (rollupdb.Advance).
	Run(ctx context.Context, p program.Program, start time.Time) error
	// Reset drops the part's rollups and marks, for a change of the
	// program's timezone.
	Reset(ctx context.Context) error
}

// A PurchaseWatcher is a Part whose rollups count the members' purchase
// days: before the job writes a member's facts, it is told the days whose
// purchases changed (changed: member → days), and records what it must
// recompute before returning.
type PurchaseWatcher interface {
	PurchasesChanged(ctx context.Context, changed map[bson.ObjectID][]int, loc *time.Location) error
}

// Job brings the rollups up to date (Run).
type Job struct {
	store    *Store
	programs Programs
	parts    []Part
	now      func() time.Time
}

// New returns the job writing into store, then running parts in order;
// clock may be nil (time.Now).
func New(store *Store, programs Programs, clock func() time.Time, parts ...Part) *Job {
	if clock == nil {
		clock = time.Now
	}
	return &Job{store: store, programs: programs, parts: parts, now: clock}
}

const memberBatch = rollupdb.MemberBatch

func since(mark time.Time) time.Time { return rollupdb.Since(mark) }

func cohortID(by Grouping, month int) string { return string(by) + ":" + strconv.Itoa(month) }

// Run brings the rollups up to date with everything recorded since the
// last run: it recomputes the facts of every member with a purchase or
// refund recorded since (a late activity, or a refund of an old purchase,
// so touches the day it occurred), then every day and cohort those facts
// changed, the points of every day with ledger entries since, and the
// referral days with new sign-ups, conversions or reversals; then each
// part (Part.Run). AsOf moves only once every part is done. Safe to run
// again at any point, and on one instance at a time (under the jobs'
// lease); a run cut short leaves its marks for the next. It returns the
// number of members whose facts it recomputed.
func (j *Job) Run(ctx context.Context) (int, error) {
	p, err := j.programs.Get(ctx)
	if err != nil {
		return 0, err
	}
	loc := p.Location()
	start := j.now().UTC()
	st, err := j.store.loadState(ctx)
	if err != nil {
		return 0, err
	}
	if st.Timezone != loc.String() {
		if err := j.store.reset(ctx); err != nil {
			return 0, err
		}
		for _, part := range j.parts {
			if err := part.Reset(ctx); err != nil {
				return 0, err
			}
		}
		st = state{ID: stateID, Timezone: loc.String()}
	}
	dirty := newDirty()
	if err := j.store.loadDirty(ctx, dirty); err != nil {
		return 0, err
	}
	touched, next, err := j.touchedMembers(ctx, st)
	if err != nil {
		return 0, err
	}
	for i := 0; i < len(touched); i += memberBatch {
		if err := j.refreshMembers(ctx, touched[i:min(i+memberBatch, len(touched))], loc, dirty); err != nil {
			return 0, err
		}
	}
	if err := j.refreshDays(ctx, dirty.days); err != nil {
		return 0, err
	}
	if err := j.refreshCohorts(ctx, dirty.cohorts); err != nil {
		return 0, err
	}
	if next.Ledger, err = j.refreshPoints(ctx, st.Ledger, loc); err != nil {
		return 0, err
	}
	if next.Accounts, next.Conversions, err = j.refreshReferrals(ctx, st, loc, dirty.referral); err != nil {
		return 0, err
	}
	if err := j.store.clearDirty(ctx, dirty); err != nil {
		return 0, err
	}
	for _, part := range j.parts {
		if err := part.Run(ctx, p, start); err != nil {
			return 0, err
		}
	}
	next.ID, next.Timezone, next.AsOf = stateID, loc.String(), start
	for _, m := range []*time.Time{&next.Activities, &next.Members, &next.Ledger, &next.Accounts, &next.Conversions} {
		*m = rollupdb.Advance(*m, start)
	}
	return len(touched), j.store.saveState(ctx, next)
}

// touchedMembers lists the members with a purchase or refund recorded, or
// who signed up, since the marks, and the marks after them.
func (j *Job) touchedMembers(ctx context.Context, st state) ([]bson.ObjectID, state, error) {
	next := st
	set := map[bson.ObjectID]bool{}
	type row struct {
		ID        bson.ObjectID `bson:"_id"`
		MemberID  bson.ObjectID `bson:"memberId"`
		CreatedAt time.Time     `bson:"createdAt"`
	}
	byCreated := options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}})
	err := rollupdb.Each(ctx, j.store.activities, bson.D{
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
	err = rollupdb.Each(ctx, j.store.people, bson.D{{Key: "createdAt", Value: bson.D{{Key: "$gte", Value: since(st.Members)}}}},
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
func (j *Job) refreshMembers(ctx context.Context, ids []bson.ObjectID, loc *time.Location, dirty *dirtySet) error {
	in := bson.D{{Key: "$in", Value: ids}}
	var olds []Facts
	if err := rollupdb.All(ctx, j.store.members, bson.D{{Key: "_id", Value: in}}, nil, &olds); err != nil {
		return err
	}
	old := map[bson.ObjectID]*Facts{}
	for i := range olds {
		old[olds[i].ID] = &olds[i]
	}
	var people []struct {
		ID        bson.ObjectID `bson:"_id"`
		CreatedAt time.Time     `bson:"createdAt"`
	}
	if err := rollupdb.All(ctx, j.store.people, bson.D{{Key: "_id", Value: in}}, options.Find().SetProjection(bson.D{{Key: "createdAt", Value: 1}}), &people); err != nil {
		return err
	}
	signup := map[bson.ObjectID]time.Time{}
	for _, p := range people {
		signup[p.ID] = p.CreatedAt
	}
	acts := map[bson.ObjectID][]Activity{}
	err := rollupdb.Each(ctx, j.store.activities, bson.D{{Key: "memberId", Value: in}, {Key: "kind", Value: bson.D{{Key: "$in", Value: bson.A{kindPurchase, kindRefund}}}}},
		nil, func(a *Activity) error {
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
	if err := rollupdb.All(ctx, j.store.conversions, bson.D{{Key: "_id", Value: in}}, nil, &convs); err != nil {
		return err
	}
	for _, c := range convs {
		dirty.referral[DayOf(c.At, loc)] = true
	}
	keys := make([]any, 0, len(ids))
	docs := make([]Facts, 0, len(ids))
	changed := map[bson.ObjectID][]int{}
	for _, id := range ids {
		at, ok := signup[id]
		if !ok {
			// A member since deleted, or an activity of an unknown member:
			// counted from its first activity's month.
			at = firstRecorded(acts[id])
		}
		f := factsOf(id, at, acts[id], loc)
		f.changes(old[id], dirty)
		if days := purchaseChanges(old[id], f); len(days) > 0 {
			changed[id] = days
		}
		keys = append(keys, id)
		docs = append(docs, f)
	}
	// The parts counting purchase days (the campaign days whose windows
	// hold a changed day) record what they recount first.
	if len(changed) > 0 {
		for _, part := range j.parts {
			if w, ok := part.(PurchaseWatcher); ok {
				if err := w.PurchasesChanged(ctx, changed, loc); err != nil {
					return err
				}
			}
		}
	}
	if err := j.store.saveDirty(ctx, dirty); err != nil {
		return err
	}
	return rollupdb.ReplaceAll(ctx, j.store.members, keys, docs)
}

func firstRecorded(acts []Activity) time.Time {
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
func (j *Job) refreshDays(ctx context.Context, dirty map[int]bool) error {
	if len(dirty) == 0 {
		return nil
	}
	days := slices.Sorted(maps.Keys(dirty))
	type acc struct {
		r      Day
		cur    map[string]*Amounts
		prev   map[int]int64
		single map[[2]int]int64
	}
	rolls := map[int]*acc{}
	for _, d := range days {
		rolls[d] = &acc{r: Day{Day: d}, cur: map[string]*Amounts{}, prev: map[int]int64{}, single: map[[2]int]int64{}}
	}
	for i := 0; i < len(days); i += 5000 {
		chunk := days[i:min(i+5000, len(days))]
		err := rollupdb.Each(ctx, j.store.members, bson.D{{Key: "days.d", Value: bson.D{{Key: "$in", Value: chunk}}}}, nil, func(f *Facts) error {
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
						t = &Amounts{C: c.C}
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
	docs := make([]Day, 0, len(days))
	for _, d := range days {
		a := rolls[d]
		a.r.Cur, a.r.Prev, a.r.Single = []Amounts{}, []Count{}, []Single{}
		for _, c := range slices.Sorted(maps.Keys(a.cur)) {
			a.r.Cur = append(a.r.Cur, *a.cur[c])
		}
		for _, k := range slices.Sorted(maps.Keys(a.prev)) {
			a.r.Prev = append(a.r.Prev, Count{K: k, C: a.prev[k]})
		}
		for k, c := range a.single {
			a.r.Single = append(a.r.Single, Single{P: k[0], X: k[1], C: c})
		}
		slices.SortFunc(a.r.Single, func(x, y Single) int {
			if x.P != y.P {
				return x.P - y.P
			}
			return x.X - y.X
		})
		keys = append(keys, d)
		docs = append(docs, a.r)
	}
	for i := 0; i < len(docs); i += 1000 {
		if err := rollupdb.ReplaceAll(ctx, j.store.days, keys[i:min(i+1000, len(keys))], docs[i:min(i+1000, len(docs))]); err != nil {
			return err
		}
	}
	return nil
}

// refreshCohorts recomputes the dirty cohorts from their members' facts.
func (j *Job) refreshCohorts(ctx context.Context, dirty map[string]bool) error {
	if len(dirty) == 0 {
		return nil
	}
	var firstMonths, signupMonths []int
	type acc struct {
		r       Cohort
		active  map[int]map[bson.ObjectID]bool
		firsts  map[int]int64
		revenue map[Revenue]int64 // keyed without Rev
	}
	rolls := map[string]*acc{}
	for id := range dirty {
		by, m, ok := strings.Cut(id, ":")
		month, err := strconv.Atoi(m)
		if !ok || err != nil {
			continue
		}
		switch Grouping(by) {
		case ByFirstPurchase:
			firstMonths = append(firstMonths, month)
		case BySignup:
			signupMonths = append(signupMonths, month)
		default:
			continue
		}
		rolls[id] = &acc{r: Cohort{ID: id, By: Grouping(by), Month: month, MaxFirstDay: -1},
			active: map[int]map[bson.ObjectID]bool{}, firsts: map[int]int64{}, revenue: map[Revenue]int64{}}
	}
	add := func(a *acc, f *Facts) {
		a.r.Size++
		for _, fd := range f.Days {
			k := MonthOf(fd.D) - a.r.Month
			if a.active[k] == nil {
				a.active[k] = map[bson.ObjectID]bool{}
			}
			a.active[k][f.ID] = true
			if a.r.By == ByFirstPurchase {
				for _, c := range fd.Cur {
					a.revenue[Revenue{C: c.C, O: fd.D - f.FirstDay}] += c.Rev
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
	err := rollupdb.Each(ctx, j.store.members, filter, nil, func(f *Facts) error {
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
	var docs []Cohort
	for _, id := range slices.Sorted(maps.Keys(rolls)) {
		a := rolls[id]
		a.r.Active = []Count{}
		for _, k := range slices.Sorted(maps.Keys(a.active)) {
			a.r.Active = append(a.r.Active, Count{K: k, C: int64(len(a.active[k]))})
		}
		for _, d := range slices.Sorted(maps.Keys(a.firsts)) {
			a.r.FirstDays = append(a.r.FirstDays, Count{K: d, C: a.firsts[d]})
		}
		for k, rev := range a.revenue {
			k.Rev = rev
			a.r.Revenue = append(a.r.Revenue, k)
		}
		slices.SortFunc(a.r.Revenue, func(x, y Revenue) int {
			if c := strings.Compare(x.C, y.C); c != 0 {
				return c
			}
			return x.O - y.O
		})
		keys = append(keys, id)
		docs = append(docs, a.r)
	}
	return rollupdb.ReplaceAll(ctx, j.store.cohorts, keys, docs)
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

func (p *Points) add(e *rawEntry, tiers map[string]int64) {
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

// refreshPoints recomputes every day from the one of the mark (less the
// overlap) on, reading the ledger entries of those days once: entries are
// dated when written, so no older day changes. Months touched are summed
// again from their days. It returns the new mark.
func (j *Job) refreshPoints(ctx context.Context, mark time.Time, loc *time.Location) (time.Time, error) {
	from := time.Time{}
	if !mark.IsZero() {
		from = DayStart(DayOf(since(mark), loc), loc)
	}
	rolls := map[int]*Points{}
	tiers := map[int]map[string]int64{}
	next := mark
	err := rollupdb.Each(ctx, j.store.ledger, bson.D{{Key: "createdAt", Value: bson.D{{Key: "$gte", Value: from}}}},
		options.Find().SetProjection(bson.D{{Key: "type", Value: 1}, {Key: "amount", Value: 1}, {Key: "seq", Value: 1}, {Key: "source.kind", Value: 1},
			{Key: "state.tier.name", Value: 1}, {Key: "tierChange", Value: 1}, {Key: "createdAt", Value: 1}}),
		func(e *rawEntry) error {
			d := DayOf(e.CreatedAt, loc)
			if rolls[d] == nil {
				rolls[d], tiers[d] = &Points{Key: d}, map[string]int64{}
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
	var docs []Points
	months := map[int]bool{}
	for _, d := range slices.Sorted(maps.Keys(rolls)) {
		r := rolls[d]
		r.Tiers = tierList(tiers[d])
		keys, docs = append(keys, d), append(docs, *r)
		months[MonthOf(d)] = true
	}
	for i := 0; i < len(docs); i += 1000 {
		if err := rollupdb.ReplaceAll(ctx, j.store.points, keys[i:min(i+1000, len(keys))], docs[i:min(i+1000, len(docs))]); err != nil {
			return mark, err
		}
	}
	keys, docs = nil, nil
	for _, m := range slices.Sorted(maps.Keys(months)) {
		var days []Points
		if err := rollupdb.All(ctx, j.store.points, bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: MonthStart(m)}, {Key: "$lt", Value: MonthStart(m + 1)}}}}, nil, &days); err != nil {
			return mark, err
		}
		sum := Points{Key: m}
		t := map[string]int64{}
		for _, d := range days {
			sum.Plus(d, t)
		}
		sum.Tiers = tierList(t)
		keys, docs = append(keys, m), append(docs, sum)
	}
	if err := rollupdb.ReplaceAll(ctx, j.store.monthly, keys, docs); err != nil {
		return mark, err
	}
	return next, nil
}

func tierList(m map[string]int64) []TierCount {
	out := []TierCount{}
	for _, t := range slices.Sorted(maps.Keys(m)) {
		if m[t] != 0 {
			out = append(out, TierCount{T: t, C: m[t]})
		}
	}
	return out
}

// refreshReferrals recounts the days with sign-ups or conversions since the
// marks, and the dirty days (a conversion a refund may have reversed).
func (j *Job) refreshReferrals(ctx context.Context, st state, loc *time.Location, dirty map[int]bool) (time.Time, time.Time, error) {
	nextAcc, nextConv := st.Accounts, st.Conversions
	type account struct {
		CreatedAt time.Time `bson:"createdAt"`
	}
	type conversion struct {
		Status string    `bson:"status"`
		At     time.Time `bson:"at"`
	}
	// Days of new sign-ups and conversions, from the marks on.
	err := rollupdb.Each(ctx, j.store.accounts, bson.D{{Key: "createdAt", Value: bson.D{{Key: "$gte", Value: since(st.Accounts)}}}, {Key: "referrerId", Value: bson.D{{Key: "$exists", Value: true}}}},
		options.Find().SetProjection(bson.D{{Key: "createdAt", Value: 1}}), func(a *account) error {
			dirty[DayOf(a.CreatedAt, loc)] = true
			if a.CreatedAt.After(nextAcc) {
				nextAcc = a.CreatedAt
			}
			return nil
		})
	if err != nil {
		return st.Accounts, st.Conversions, err
	}
	err = rollupdb.Each(ctx, j.store.conversions, bson.D{{Key: "at", Value: bson.D{{Key: "$gte", Value: since(st.Conversions)}}}},
		options.Find().SetProjection(bson.D{{Key: "at", Value: 1}}), func(c *conversion) error {
			dirty[DayOf(c.At, loc)] = true
			if c.At.After(nextConv) {
				nextConv = c.At
			}
			return nil
		})
	if err != nil || len(dirty) == 0 {
		return nextAcc, nextConv, err
	}
	days := slices.Sorted(maps.Keys(dirty))
	window := bson.D{{Key: "$gte", Value: DayStart(days[0], loc)}, {Key: "$lt", Value: DayStart(days[len(days)-1]+1, loc)}}
	rolls := map[int]*Referral{}
	for _, d := range days {
		rolls[d] = &Referral{Day: d}
	}
	err = rollupdb.Each(ctx, j.store.accounts, bson.D{{Key: "createdAt", Value: window}, {Key: "referrerId", Value: bson.D{{Key: "$exists", Value: true}}}},
		options.Find().SetProjection(bson.D{{Key: "createdAt", Value: 1}}), func(a *account) error {
			if r := rolls[DayOf(a.CreatedAt, loc)]; r != nil {
				r.SignUps++
			}
			return nil
		})
	if err != nil {
		return st.Accounts, st.Conversions, err
	}
	err = rollupdb.Each(ctx, j.store.conversions, bson.D{{Key: "at", Value: window}},
		options.Find().SetProjection(bson.D{{Key: "at", Value: 1}, {Key: "status", Value: 1}}), func(c *conversion) error {
			if r := rolls[DayOf(c.At, loc)]; r != nil {
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
	var docs []Referral
	for _, d := range days {
		keys, docs = append(keys, d), append(docs, *rolls[d])
	}
	if err := rollupdb.ReplaceAll(ctx, j.store.referrals, keys, docs); err != nil {
		return st.Accounts, st.Conversions, err
	}
	return nextAcc, nextConv, nil
}
