package rollup

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
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
	edays    map[int]bool    // analytics_engagement
	streaks  map[string]bool // analytics_streak_counts, by id
	// campaigns: analytics_campaigns, by campaign and day of send
	campaigns map[campaignDay]bool
}

func newDirty() *dirtySet {
	return &dirtySet{days: map[int]bool{}, cohorts: map[string]bool{}, referral: map[int]bool{},
		edays: map[int]bool{}, streaks: map[string]bool{}, campaigns: map[campaignDay]bool{}}
}

type dirtyMark struct {
	ID string `bson:"_id"`
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
	for k := range d.edays {
		ids = append(ids, fmt.Sprintf("eday:%d", k))
	}
	for k := range d.streaks {
		ids = append(ids, "streak:"+k)
	}
	for k := range d.campaigns {
		ids = append(ids, fmt.Sprintf("campaign:%d:%s", k.day, k.campaign))
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
	case strings.HasPrefix(id, "eday:"):
		if n, err := strconv.Atoi(id[5:]); err == nil {
			d.edays[n] = true
		}
	case strings.HasPrefix(id, "streak:"):
		d.streaks[id[7:]] = true
	case strings.HasPrefix(id, "campaign:"):
		dayS, name, ok := strings.Cut(id[9:], ":")
		if n, err := strconv.Atoi(dayS); err == nil && ok {
			d.campaigns[campaignDay{campaign: name, day: n}] = true
		}
	}
}

// save records the marks before the facts that caused them are written.
func (s *Store) saveDirty(ctx context.Context, d *dirtySet) error {
	ids := d.ids()
	if len(ids) == 0 {
		return nil
	}
	keys := make([]any, len(ids))
	docs := make([]dirtyMark, len(ids))
	for i, id := range ids {
		keys[i], docs[i] = id, dirtyMark{ID: id}
	}
	return replaceAll(ctx, s.dirty, keys, docs)
}

func (s *Store) loadDirty(ctx context.Context, d *dirtySet) error {
	var marks []dirtyMark
	if err := findAll(ctx, s.dirty, bson.D{}, nil, &marks); err != nil {
		return err
	}
	for _, m := range marks {
		d.add(m.ID)
	}
	return nil
}

func (s *Store) clearDirty(ctx context.Context, d *dirtySet) error {
	ids := d.ids()
	for len(ids) > 0 {
		n := min(len(ids), 1000)
		if _, err := s.dirty.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids[:n]}}}}); err != nil {
			return fmt.Errorf("analytics dirty marks: %w", err)
		}
		ids = ids[n:]
	}
	return nil
}

// findAll decodes every document of a query into out.
func findAll[T any](ctx context.Context, c *mongo.Collection, filter any, opts *options.FindOptionsBuilder, out *[]T) error {
	if opts == nil {
		opts = options.Find()
	}
	cur, err := c.Find(ctx, filter, opts)
	if err != nil {
		return fmt.Errorf("%s: %w", c.Name(), err)
	}
	if err := cur.All(ctx, out); err != nil {
		return fmt.Errorf("%s: %w", c.Name(), err)
	}
	return nil
}

// each streams a query's documents through fn.
func each[T any](ctx context.Context, c *mongo.Collection, filter any, opts *options.FindOptionsBuilder, fn func(*T) error) error {
	if opts == nil {
		opts = options.Find()
	}
	cur, err := c.Find(ctx, filter, opts.SetBatchSize(2000))
	if err != nil {
		return fmt.Errorf("%s: %w", c.Name(), err)
	}
	defer func() { _ = cur.Close(context.WithoutCancel(ctx)) }()
	for cur.Next(ctx) {
		var v T
		if err := cur.Decode(&v); err != nil {
			return fmt.Errorf("%s: %w", c.Name(), err)
		}
		if err := fn(&v); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("%s: %w", c.Name(), err)
	}
	return nil
}
