package rollup

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/regulars/regulars/analytics/rollup/internal/rollupdb"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Facts is one member's purchases as the figures count them: per
// day of the program's timezone, purchases net of refunds. It is the
// job's working set, recomputed from the member's raw activities whenever
// one of them is recorded; comparing it with the stored one says which
// days and cohorts to recompute.
type Facts struct {
	ID          bson.ObjectID `bson:"_id"`
	SignupMonth int           `bson:"signupMonth"`
	FirstDay    int           `bson:"firstDay"`   // -1: no purchase
	FirstMonth  int           `bson:"firstMonth"` // -1: no purchase
	Days        []FactDay     `bson:"days"`       // by day, ascending
}

// FactDay is a day the member made at least one purchase that counts.
type FactDay struct {
	D   int       `bson:"d"`
	P   int       `bson:"p"` // the member's previous purchase day, -1 for none
	X   int       `bson:"x"` // the member's next purchase day, -1 for none
	N   int64     `bson:"n"` // purchases
	Cur []Amounts `bson:"cur"`
}

// Amounts are purchases and net revenue (minor units) in one currency.
type Amounts struct {
	C   string `bson:"c"`
	N   int64  `bson:"n"`
	Rev int64  `bson:"rev"`
}

// Activity is what the job reads of an activity (recorded by game, in
// "activities"): purchases and refunds count, other kinds are skipped.
type Activity struct {
	ID          bson.ObjectID  `bson:"_id"`
	Kind        string         `bson:"kind"`
	MemberID    bson.ObjectID  `bson:"memberId"`
	AmountMinor int64          `bson:"amountMinor"`
	Currency    string         `bson:"currency"`
	OccurredAt  time.Time      `bson:"occurredAt"`
	RefundOf    *bson.ObjectID `bson:"refundOf"`
	CreatedAt   time.Time      `bson:"createdAt"`
}

const (
	kindPurchase = "PURCHASE"
	kindRefund   = "REFUND"
)

// factsOf computes a member's facts from all their purchases and refunds.
// A purchase counts, on the day it occurred, with its amount less every
// refund naming it, if anything is left; a refund moves nothing else.
func factsOf(id bson.ObjectID, signup time.Time, acts []Activity, loc *time.Location) Facts {
	refunded := map[bson.ObjectID]int64{}
	for _, a := range acts {
		if a.Kind == kindRefund && a.RefundOf != nil {
			refunded[*a.RefundOf] += a.AmountMinor
		}
	}
	byDay := map[int]map[string]*Amounts{}
	for _, a := range acts {
		if a.Kind != kindPurchase {
			continue
		}
		net := a.AmountMinor - refunded[a.ID]
		if net <= 0 {
			continue
		}
		d := DayOf(a.OccurredAt, loc)
		if byDay[d] == nil {
			byDay[d] = map[string]*Amounts{}
		}
		c := byDay[d][a.Currency]
		if c == nil {
			c = &Amounts{C: a.Currency}
			byDay[d][a.Currency] = c
		}
		c.N++
		c.Rev += net
	}
	f := Facts{ID: id, SignupMonth: MonthOf(DayOf(signup, loc)), FirstDay: -1, FirstMonth: -1, Days: []FactDay{}}
	days := slices.Sorted(maps.Keys(byDay))
	for i, d := range days {
		fd := FactDay{D: d, P: -1, X: -1}
		if i > 0 {
			fd.P = days[i-1]
		}
		if i+1 < len(days) {
			fd.X = days[i+1]
		}
		for _, cur := range slices.Sorted(maps.Keys(byDay[d])) {
			c := byDay[d][cur]
			fd.N += c.N
			fd.Cur = append(fd.Cur, *c)
		}
		f.Days = append(f.Days, fd)
	}
	if len(days) > 0 {
		f.FirstDay = days[0]
		f.FirstMonth = MonthOf(days[0])
	}
	return f
}

// changes adds to dirty the days and cohorts where old and new differ.
func (f Facts) changes(old *Facts, dirty *dirtySet) {
	oldDays := map[int]FactDay{}
	if old != nil {
		for _, d := range old.Days {
			oldDays[d.D] = d
		}
	}
	changed := old == nil || old.SignupMonth != f.SignupMonth || old.FirstDay != f.FirstDay
	for _, d := range f.Days {
		if o, ok := oldDays[d.D]; !ok || !sameDay(o, d) {
			dirty.days[d.D] = true
			changed = true
		}
		delete(oldDays, d.D)
	}
	for d := range oldDays {
		dirty.days[d] = true
		changed = true
	}
	if !changed {
		return
	}
	dirty.cohorts[cohortID(BySignup, f.SignupMonth)] = true
	if f.FirstMonth >= 0 {
		dirty.cohorts[cohortID(ByFirstPurchase, f.FirstMonth)] = true
	}
	if old != nil {
		dirty.cohorts[cohortID(BySignup, old.SignupMonth)] = true
		if old.FirstMonth >= 0 {
			dirty.cohorts[cohortID(ByFirstPurchase, old.FirstMonth)] = true
		}
	}
}

func sameDay(a, b FactDay) bool {
	return a.D == b.D && a.P == b.P && a.X == b.X && a.N == b.N && slices.Equal(a.Cur, b.Cur)
}

// dirtySet is what a run must recompute, also stored (collDirty) so a run
// cut short is finished by the next.
type dirtySet struct {
	days     map[int]bool    // analytics_days
	cohorts  map[string]bool // analytics_cohorts, by id
	referral map[int]bool    // analytics_referrals
}

func newDirty() *dirtySet {
	return &dirtySet{days: map[int]bool{}, cohorts: map[string]bool{}, referral: map[int]bool{}}
}

func (d *dirtySet) ids() []string {
	var ids []string
	for k := range d.days {
		ids = append(ids, fmt.Sprintf("day:%d", k))
	}
	for k := range d.cohorts {
		ids = append(ids, "cohort:"+k)
	}
	for k := range d.referral {
		ids = append(ids, fmt.Sprintf("referral:%d", k))
	}
	return ids
}

func (d *dirtySet) add(id string) {
	var n int
	switch {
	case len(id) > 4 && id[:4] == "day:":
		if _, err := fmt.Sscanf(id[4:], "%d", &n); err == nil {
			d.days[n] = true
		}
	case len(id) > 7 && id[:7] == "cohort:":
		d.cohorts[id[7:]] = true
	case len(id) > 9 && id[:9] == "referral:":
		if _, err := fmt.Sscanf(id[9:], "%d", &n); err == nil {
			d.referral[n] = true
		}
	}
}

// saveDirty records the marks before the facts that caused them are
// written. The job's parts keep their own marks in the same collection,
// under their own prefixes.
func (s *Store) saveDirty(ctx context.Context, d *dirtySet) error {
	return rollupdb.SaveMarks(ctx, s.dirty, d.ids())
}

func (s *Store) loadDirty(ctx context.Context, d *dirtySet) error {
	ids, err := rollupdb.LoadMarks(ctx, s.dirty, "day:", "cohort:", "referral:")
	for _, id := range ids {
		d.add(id)
	}
	return err
}

func (s *Store) clearDirty(ctx context.Context, d *dirtySet) error {
	return rollupdb.ClearMarks(ctx, s.dirty, d.ids())
}

// purchaseChanges lists the days whose purchases differ between old and f.
func purchaseChanges(old *Facts, f Facts) []int {
	before := map[int]FactDay{}
	if old != nil {
		for _, d := range old.Days {
			before[d.D] = d
		}
	}
	var out []int
	for _, d := range f.Days {
		if o, ok := before[d.D]; !ok || o.N != d.N || !slices.Equal(o.Cur, d.Cur) {
			out = append(out, d.D)
		}
		delete(before, d.D)
	}
	for d := range before {
		out = append(out, d)
	}
	return out
}
