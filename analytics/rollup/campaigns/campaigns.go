package campaigns

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/analytics/rollup"
	"github.com/regulars/regulars/analytics/rollup/internal/rollupdb"
	"github.com/regulars/regulars/game/holdout"
)

// MaxWindowDays is the longest window after a send the campaign rollups
// keep purchases for (campaignResults' withinDays).
const MaxWindowDays = 90

// CampaignDay is one day of a campaign's sends to one group
// (collCampaigns, _id "<group>|<day>|<campaign>"): the members whose first
// assignment to the campaign that day put them in the group, with what
// they bought on that day and the MaxWindowDays − 1 days after.
type CampaignDay struct {
	ID       string         `bson:"_id"`
	Campaign string         `bson:"campaign"`
	Group    holdout.Group  `bson:"group"`
	Day      int            `bson:"day"`
	Sends    []CampaignSend `bson:"sends"`
}

// CampaignSend is the members of a CampaignDay whose previous assignment
// to the campaign was on day P (-1: none): a range [a, b] counts a member
// once, at the first day in it they were assigned, so at a day in it
// whose P is before a.
type CampaignSend struct {
	P       int   `bson:"p"`
	Members int64 `bson:"n"`
	// FirstBuy counts members by the offset (days after the send's day) of
	// their first purchase in the window: those with a purchase within w
	// days are the counts of offsets below w.
	FirstBuy []rollup.Count `bson:"firstBuy"`
	// Revenue is their net revenue by currency and offset.
	Revenue []rollup.Revenue `bson:"revenue"`
	// Squares is, by currency and offset, how much Σ (a member's revenue
	// in the window so far)² grows on that offset: summed over offsets
	// below w it is Σ (revenue within w days)², Welch's variance.
	Squares []Square `bson:"squares"`
}

// Square is a growth V of a sum of squares in currency C on offset O.
type Square struct {
	C string  `bson:"c"`
	O int     `bson:"o"`
	V float64 `bson:"v"`
}

type campaignDay struct {
	campaign string
	day      int
}

func campaignDocID(g holdout.Group, day int, campaign string) string {
	return string(g) + "|" + strconv.Itoa(day) + "|" + campaign
}

type assignmentRow struct {
	ID       string        `bson:"_id"`
	Campaign string        `bson:"campaign"`
	MemberID bson.ObjectID `bson:"memberId"`
	Group    holdout.Group `bson:"group"`
	At       time.Time     `bson:"at"`
}

// markAssignments marks dirty, for every assignment recorded since the
// mark, the campaign's days on and after it on which that member was
// assigned (their previous assignment day may have changed). It returns
// the new mark.
func (r *Rollups) markAssignments(ctx context.Context, mark time.Time, loc *time.Location, dirty map[campaignDay]bool) (time.Time, error) {
	next := mark
	type key struct {
		campaign string
		member   bson.ObjectID
	}
	first := map[key]time.Time{}
	err := rollupdb.Each(ctx, r.assignments, bson.D{{Key: "at", Value: bson.D{{Key: "$gte", Value: rollupdb.Since(mark)}}}},
		options.Find().SetProjection(bson.D{{Key: "campaign", Value: 1}, {Key: "memberId", Value: 1}, {Key: "at", Value: 1}}), func(a *assignmentRow) error {
			k := key{a.Campaign, a.MemberID}
			if t, ok := first[k]; !ok || a.At.Before(t) {
				first[k] = a.At
			}
			if a.At.After(next) {
				next = a.At
			}
			return nil
		})
	if err != nil || len(first) == 0 {
		return next, err
	}
	byMember := map[bson.ObjectID]bool{}
	for k := range first {
		byMember[k.member] = true
	}
	ids := slices.Collect(maps.Keys(byMember))
	for i := 0; i < len(ids); i += rollupdb.MemberBatch {
		err := rollupdb.Each(ctx, r.assignments, bson.D{{Key: "memberId", Value: bson.D{{Key: "$in", Value: ids[i:min(i+rollupdb.MemberBatch, len(ids))]}}}},
			options.Find().SetProjection(bson.D{{Key: "campaign", Value: 1}, {Key: "memberId", Value: 1}, {Key: "at", Value: 1}}), func(a *assignmentRow) error {
				if t, ok := first[key{a.Campaign, a.MemberID}]; ok && !a.At.Before(rollup.DayStart(rollup.DayOf(t, loc), loc)) {
					dirty[campaignDay{a.Campaign, rollup.DayOf(a.At, loc)}] = true
				}
				return nil
			})
		if err != nil {
			return mark, err
		}
	}
	return next, nil
}

// markPurchases marks dirty the campaign days whose window holds one of
// the purchase days changed of each member (changed: member → days).
func (r *Rollups) markPurchases(ctx context.Context, changed map[bson.ObjectID][]int, loc *time.Location, dirty map[campaignDay]bool) error {
	if len(changed) == 0 {
		return nil
	}
	ids := slices.Collect(maps.Keys(changed))
	return rollupdb.Each(ctx, r.assignments, bson.D{{Key: "memberId", Value: bson.D{{Key: "$in", Value: ids}}}},
		options.Find().SetProjection(bson.D{{Key: "campaign", Value: 1}, {Key: "memberId", Value: 1}, {Key: "at", Value: 1}}), func(a *assignmentRow) error {
			d := rollup.DayOf(a.At, loc)
			for _, c := range changed[a.MemberID] {
				if c >= d && c < d+MaxWindowDays {
					dirty[campaignDay{a.Campaign, d}] = true
					return nil
				}
			}
			return nil
		})
}

// refreshCampaigns recomputes the dirty campaign days: both groups of
// each, from the day's assignments, each member's previous assignment to
// the campaign and their purchase days.
func (r *Rollups) refreshCampaigns(ctx context.Context, dirty map[campaignDay]bool, loc *time.Location) error {
	for _, cd := range slices.SortedFunc(maps.Keys(dirty), func(x, y campaignDay) int {
		if c := strings.Compare(x.campaign, y.campaign); c != 0 {
			return c
		}
		return x.day - y.day
	}) {
		if err := r.refreshCampaignDay(ctx, cd, loc); err != nil {
			return err
		}
	}
	return nil
}

func (r *Rollups) refreshCampaignDay(ctx context.Context, cd campaignDay, loc *time.Location) error {
	start := rollup.DayStart(cd.day, loc)
	group := map[bson.ObjectID]holdout.Group{}
	var order []bson.ObjectID
	err := rollupdb.Each(ctx, r.assignments, bson.D{{Key: "campaign", Value: cd.campaign}, {Key: "at", Value: bson.D{{Key: "$gte", Value: start}, {Key: "$lt", Value: rollup.DayStart(cd.day+1, loc)}}}},
		options.Find().SetSort(bson.D{{Key: "campaign", Value: 1}, {Key: "at", Value: 1}, {Key: "_id", Value: 1}}), func(a *assignmentRow) error {
			if _, ok := group[a.MemberID]; !ok {
				group[a.MemberID] = a.Group
				order = append(order, a.MemberID)
			}
			return nil
		})
	if err != nil {
		return err
	}
	prev := map[bson.ObjectID]int{}
	facts := map[bson.ObjectID]*rollup.Facts{}
	for i := 0; i < len(order); i += rollupdb.MemberBatch {
		chunk := order[i:min(i+rollupdb.MemberBatch, len(order))]
		err := rollupdb.Each(ctx, r.assignments, bson.D{{Key: "memberId", Value: bson.D{{Key: "$in", Value: chunk}}}, {Key: "campaign", Value: cd.campaign},
			{Key: "at", Value: bson.D{{Key: "$lt", Value: start}}}},
			options.Find().SetProjection(bson.D{{Key: "memberId", Value: 1}, {Key: "at", Value: 1}}), func(a *assignmentRow) error {
				if d, ok := prev[a.MemberID]; !ok || rollup.DayOf(a.At, loc) > d {
					prev[a.MemberID] = rollup.DayOf(a.At, loc)
				}
				return nil
			})
		if err != nil {
			return err
		}
		fs, err := r.facts.PurchaseDays(ctx, chunk)
		if err != nil {
			return err
		}
		for k := range fs {
			facts[fs[k].ID] = &fs[k]
		}
	}
	type acc struct {
		n       int64
		first   map[int]int64
		revenue map[rollup.Revenue]int64 // keyed without Rev
		squares map[Square]float64
	}
	sends := map[holdout.Group]map[int]*acc{holdout.Treated: {}, holdout.Held: {}}
	for _, id := range order {
		p, ok := prev[id]
		if !ok {
			p = -1
		}
		g := sends[group[id]]
		if g == nil {
			continue
		}
		a := g[p]
		if a == nil {
			a = &acc{first: map[int]int64{}, revenue: map[rollup.Revenue]int64{}, squares: map[Square]float64{}}
			g[p] = a
		}
		a.n++
		f := facts[id]
		if f == nil {
			continue
		}
		bought := false
		so := map[string]int64{} // revenue so far per currency
		for _, d := range f.Days {
			o := d.D - cd.day
			if o < 0 || o >= MaxWindowDays {
				continue
			}
			if !bought {
				a.first[o]++
				bought = true
			}
			for _, c := range d.Cur {
				a.revenue[rollup.Revenue{C: c.C, O: o}] += c.Rev
				before := float64(so[c.C])
				so[c.C] += c.Rev
				after := float64(so[c.C])
				a.squares[Square{C: c.C, O: o}] += after*after - before*before
			}
		}
	}
	var keys []any
	var docs []CampaignDay
	for _, g := range []holdout.Group{holdout.Treated, holdout.Held} {
		doc := CampaignDay{ID: campaignDocID(g, cd.day, cd.campaign), Campaign: cd.campaign, Group: g, Day: cd.day, Sends: []CampaignSend{}}
		for _, p := range slices.Sorted(maps.Keys(sends[g])) {
			a := sends[g][p]
			s := CampaignSend{P: p, Members: a.n, FirstBuy: rollup.Counts(a.first), Revenue: []rollup.Revenue{}, Squares: []Square{}}
			for k, v := range a.revenue {
				k.Rev = v
				s.Revenue = append(s.Revenue, k)
			}
			for k, v := range a.squares {
				k.V = v
				s.Squares = append(s.Squares, k)
			}
			slices.SortFunc(s.Revenue, func(x, y rollup.Revenue) int {
				if c := strings.Compare(x.C, y.C); c != 0 {
					return c
				}
				return x.O - y.O
			})
			slices.SortFunc(s.Squares, func(x, y Square) int {
				if c := strings.Compare(x.C, y.C); c != 0 {
					return c
				}
				return x.O - y.O
			})
			doc.Sends = append(doc.Sends, s)
		}
		keys, docs = append(keys, doc.ID), append(docs, doc)
	}
	return rollupdb.ReplaceAll(ctx, r.campaigns, keys, docs)
}

// CampaignDays returns the campaign's sends of days a to b, both
// included: at most two documents (one per group) per day.
func (r *Rollups) CampaignDays(ctx context.Context, campaign string, a, b int) ([]CampaignDay, error) {
	var days []CampaignDay
	err := rollupdb.All(ctx, r.campaigns, bson.D{{Key: "campaign", Value: campaign}, {Key: "day", Value: bson.D{{Key: "$gte", Value: a}, {Key: "$lte", Value: b}}}}, nil, &days)
	return days, err
}
