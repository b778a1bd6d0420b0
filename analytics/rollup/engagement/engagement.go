package engagement

import (
	"context"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/analytics/rollup"
	"github.com/regulars/regulars/analytics/rollup/internal/rollupdb"
	"github.com/regulars/regulars/community/events/rsvp"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/game/streak"
)

// The engagement rollup documents, and how Run computes them.

// Trail is one member's days (program timezone) with at least one
// activity of any kind but REFUND (Active), and with at least one forum
// post written (Posted), ascending (collTrails, the job's working set).
type Trail struct {
	ID     bson.ObjectID `bson:"_id"`
	Active []int         `bson:"active"`
	Posted []int         `bson:"posted"`
}

// EngagementDay is one day's active members and posters (collEngagement),
// each counted by their previous such day (-1: none), as Day.Prev: a
// range [a, b] has as many distinct active members as member-days in it
// whose previous day is before a.
type EngagementDay struct {
	Day        int            `bson:"_id"`
	Active     int64          `bson:"active"`
	ActivePrev []rollup.Count `bson:"activePrev"`
	Posters    int64          `bson:"posters"`
	PosterPrev []rollup.Count `bson:"posterPrev"`
}

// BadgeDay is one day's badge levels unlocked (collBadges), by the day the
// award was written.
type BadgeDay struct {
	Day     int          `bson:"_id"`
	Unlocks []BadgeCount `bson:"unlocks"`
}

// BadgeCount is a number of unlocks (C) of level L of badge B.
type BadgeCount struct {
	B bson.ObjectID `bson:"b"`
	L string        `bson:"l"`
	C int64         `bson:"c"`
}

// StreakBuckets are the lower bounds of the streak buckets: a current
// streak of c periods falls in the last bucket whose bound is ≤ c.
var StreakBuckets = []int{1, 2, 4, 7, 14, 30, 60, 100}

// StreakBucket is the index in StreakBuckets of a current streak ≥ 1.
func StreakBucket(current int) int {
	b := 0
	for i, lo := range StreakBuckets {
		if current >= lo {
			b = i
		}
	}
	return b
}

// memberStreak is one member's streak as the rollups count it
// (collStreaks): its bucket, and the instant (Unix seconds) it lapses
// (streak.State.LapsesAt in the member's timezone). It keeps the part of
// the streak's state the lapse is computed from, so that a member who
// moves to another timezone has it computed again without an entry of
// theirs being read (refreshMovedStreaks); a document written before
// it kept them (Last 0) waits for the member's next entry.
type memberStreak struct {
	ID    bson.ObjectID `bson:"_id"`
	B     int           `bson:"b"`
	Lapse int64         `bson:"lapse"`

	Current int       `bson:"current"`
	Last    int64     `bson:"last"`
	LastAt  time.Time `bson:"lastAt"`
	Zone    string    `bson:"zone"`
	Freezes int       `bson:"freezes"`
}

// state is the part of the member's streak.State the document keeps.
func (m memberStreak) state() streak.State {
	return streak.State{Current: m.Current, Last: m.Last, LastAt: m.LastAt, Timezone: m.Zone, Freezes: m.Freezes}
}

func (m memberStreak) key() string { return strconv.Itoa(m.B) + ":" + strconv.FormatInt(m.Lapse, 10) }

// StreakCount counts (C) the members whose streak is in bucket B and
// lapses at Lapse (collStreakCounts): at an instant t, the members with a
// streak in bucket B are the C of every count with Lapse > t. The count
// of _id streakTotal (B −1, Lapse MaxInt64) is every member who ever had
// a streak.
type StreakCount struct {
	ID    string `bson:"_id"`
	B     int    `bson:"b"`
	Lapse int64  `bson:"lapse"`
	C     int64  `bson:"c"`
}

const streakTotal = "total"

// Board is a leaderboard's participation (collBoards, _id its key as
// game/leaderboard names it): members with a score above 0 on it.
type Board struct {
	Key          string `bson:"_id"`
	Participants int64  `bson:"participants"`
}

// EventCounts is an event's RSVPs by their status now (collEvents).
type EventCounts struct {
	ID         bson.ObjectID `bson:"_id"`
	Title      string        `bson:"title"`
	StartsAt   time.Time     `bson:"startsAt"`
	Status     string        `bson:"status"`
	Confirmed  int64         `bson:"confirmed"`
	Waitlisted int64         `bson:"waitlisted"`
	Offered    int64         `bson:"offered"`
	Cancelled  int64         `bson:"cancelled"`
	Attended   int64         `bson:"attended"`
	NoShow     int64         `bson:"noShow"`
}

// --- the job -------------------------------------------------------------

// refreshTrails recomputes the trails of every member with an activity or
// a forum post recorded since the marks, marking dirty the days whose
// counts that changed (before writing). It returns the new marks.
func (r *Rollups) refreshTrails(ctx context.Context, st state, loc *time.Location, dirty *dirtySet) (time.Time, time.Time, error) {
	nextActs, nextPosts := st.AllActivities, st.Posts
	set := map[bson.ObjectID]bool{}
	type row struct {
		MemberID  bson.ObjectID `bson:"memberId"`
		AuthorID  bson.ObjectID `bson:"authorId"`
		CreatedAt time.Time     `bson:"createdAt"`
	}
	err := rollupdb.Each(ctx, r.activities, bson.D{
		{Key: "createdAt", Value: bson.D{{Key: "$gte", Value: rollupdb.Since(st.AllActivities)}}},
		{Key: "kind", Value: bson.D{{Key: "$ne", Value: "REFUND"}}},
	}, options.Find().SetProjection(bson.D{{Key: "memberId", Value: 1}, {Key: "createdAt", Value: 1}}), func(r *row) error {
		set[r.MemberID] = true
		if r.CreatedAt.After(nextActs) {
			nextActs = r.CreatedAt
		}
		return nil
	})
	if err != nil {
		return st.AllActivities, st.Posts, err
	}
	err = rollupdb.Each(ctx, r.posts, bson.D{{Key: "createdAt", Value: bson.D{{Key: "$gte", Value: rollupdb.Since(st.Posts)}}}},
		options.Find().SetProjection(bson.D{{Key: "authorId", Value: 1}, {Key: "createdAt", Value: 1}}), func(r *row) error {
			set[r.AuthorID] = true
			if r.CreatedAt.After(nextPosts) {
				nextPosts = r.CreatedAt
			}
			return nil
		})
	if err != nil {
		return st.AllActivities, st.Posts, err
	}
	ids := slices.SortedFunc(maps.Keys(set), func(a, b bson.ObjectID) int { return strings.Compare(a.Hex(), b.Hex()) })
	for i := 0; i < len(ids); i += rollupdb.MemberBatch {
		if err := r.refreshTrailBatch(ctx, ids[i:min(i+rollupdb.MemberBatch, len(ids))], loc, dirty); err != nil {
			return st.AllActivities, st.Posts, err
		}
	}
	return nextActs, nextPosts, nil
}

func (r *Rollups) refreshTrailBatch(ctx context.Context, ids []bson.ObjectID, loc *time.Location, dirty *dirtySet) error {
	in := bson.D{{Key: "$in", Value: ids}}
	var olds []Trail
	if err := rollupdb.All(ctx, r.trails, bson.D{{Key: "_id", Value: in}}, nil, &olds); err != nil {
		return err
	}
	old := map[bson.ObjectID]Trail{}
	for _, t := range olds {
		old[t.ID] = t
	}
	active, posted := map[bson.ObjectID]map[int]bool{}, map[bson.ObjectID]map[int]bool{}
	add := func(m map[bson.ObjectID]map[int]bool, id bson.ObjectID, d int) {
		if m[id] == nil {
			m[id] = map[int]bool{}
		}
		m[id][d] = true
	}
	type row struct {
		MemberID   bson.ObjectID `bson:"memberId"`
		AuthorID   bson.ObjectID `bson:"authorId"`
		OccurredAt time.Time     `bson:"occurredAt"`
		CreatedAt  time.Time     `bson:"createdAt"`
	}
	err := rollupdb.Each(ctx, r.activities, bson.D{{Key: "memberId", Value: in}, {Key: "kind", Value: bson.D{{Key: "$ne", Value: "REFUND"}}}},
		options.Find().SetProjection(bson.D{{Key: "memberId", Value: 1}, {Key: "occurredAt", Value: 1}}), func(r *row) error {
			add(active, r.MemberID, rollup.DayOf(r.OccurredAt, loc))
			return nil
		})
	if err != nil {
		return err
	}
	err = rollupdb.Each(ctx, r.posts, bson.D{{Key: "authorId", Value: in}},
		options.Find().SetProjection(bson.D{{Key: "authorId", Value: 1}, {Key: "createdAt", Value: 1}}), func(r *row) error {
			add(posted, r.AuthorID, rollup.DayOf(r.CreatedAt, loc))
			return nil
		})
	if err != nil {
		return err
	}
	keys := make([]any, 0, len(ids))
	docs := make([]Trail, 0, len(ids))
	for _, id := range ids {
		t := Trail{ID: id, Active: slices.Sorted(maps.Keys(active[id])), Posted: slices.Sorted(maps.Keys(posted[id]))}
		if t.Active == nil {
			t.Active = []int{}
		}
		if t.Posted == nil {
			t.Posted = []int{}
		}
		o := old[id]
		markPairs(o.Active, t.Active, dirty.edays)
		markPairs(o.Posted, t.Posted, dirty.edays)
		keys, docs = append(keys, id), append(docs, t)
	}
	if err := r.saveDirty(ctx, dirty); err != nil {
		return err
	}
	return rollupdb.ReplaceAll(ctx, r.trails, keys, docs)
}

// markPairs marks the days whose (day, previous day) pair is in one of
// old and new but not the other: the days whose counts the change moves.
func markPairs(old, new []int, dirty map[int]bool) {
	pairs := func(days []int) map[[2]int]bool {
		m := map[[2]int]bool{}
		for i, d := range days {
			p := -1
			if i > 0 {
				p = days[i-1]
			}
			m[[2]int{d, p}] = true
		}
		return m
	}
	o, n := pairs(old), pairs(new)
	for k := range o {
		if !n[k] {
			dirty[k[0]] = true
		}
	}
	for k := range n {
		if !o[k] {
			dirty[k[0]] = true
		}
	}
}

// refreshEngagementDays recomputes the dirty engagement days from the
// trails with one of them.
func (r *Rollups) refreshEngagementDays(ctx context.Context, dirty map[int]bool) error {
	if len(dirty) == 0 {
		return nil
	}
	days := slices.Sorted(maps.Keys(dirty))
	type acc struct{ active, posted map[int]int64 }
	rolls := map[int]*EngagementDay{}
	accs := map[int]*acc{}
	for _, d := range days {
		rolls[d], accs[d] = &EngagementDay{Day: d}, &acc{active: map[int]int64{}, posted: map[int]int64{}}
	}
	count := func(list []int, n func(*EngagementDay), prev func(*acc) map[int]int64) {
		for i, d := range list {
			if rolls[d] == nil {
				continue
			}
			p := -1
			if i > 0 {
				p = list[i-1]
			}
			n(rolls[d])
			prev(accs[d])[p]++
		}
	}
	for i := 0; i < len(days); i += 5000 {
		chunk := days[i:min(i+5000, len(days))]
		err := rollupdb.Each(ctx, r.trails, bson.D{{Key: "$or", Value: bson.A{
			bson.D{{Key: "active", Value: bson.D{{Key: "$in", Value: chunk}}}},
			bson.D{{Key: "posted", Value: bson.D{{Key: "$in", Value: chunk}}}},
		}}}, nil, func(t *Trail) error {
			count(t.Active, func(e *EngagementDay) { e.Active++ }, func(a *acc) map[int]int64 { return a.active })
			count(t.Posted, func(e *EngagementDay) { e.Posters++ }, func(a *acc) map[int]int64 { return a.posted })
			return nil
		})
		if err != nil {
			return err
		}
	}
	keys := make([]any, 0, len(days))
	docs := make([]EngagementDay, 0, len(days))
	for _, d := range days {
		r := rolls[d]
		r.ActivePrev, r.PosterPrev = rollup.Counts(accs[d].active), rollup.Counts(accs[d].posted)
		keys, docs = append(keys, d), append(docs, *r)
	}
	for i := 0; i < len(docs); i += 1000 {
		if err := rollupdb.ReplaceAll(ctx, r.engagement, keys[i:min(i+1000, len(keys))], docs[i:min(i+1000, len(docs))]); err != nil {
			return err
		}
	}
	return nil
}

// engagementEntry is what the job reads of an entry of a member's
// engagement chain (game/engagement, collection engagement).
type engagementEntry struct {
	MemberID   bson.ObjectID `bson:"memberId"`
	Seq        int64         `bson:"seq"`
	Kind       string        `bson:"kind"`
	At         time.Time     `bson:"at"`
	BadgeID    bson.ObjectID `bson:"badgeId"`
	BadgeLevel string        `bson:"badgeLevel"`
	State      struct {
		Streak streak.State `bson:"streak"`
	} `bson:"state"`
}

// refreshStreaksAndBadges reads the engagement entries written since the
// day of the mark (less the overlap): it recounts the badge unlocks of
// each of those days (entries are dated when written, so no older day
// changes), and recomputes the streak of each member with an entry since
// (their latest entry holds it), marking dirty the streak counts it moves
// before writing. It returns the new mark.
func (r *Rollups) refreshStreaksAndBadges(ctx context.Context, mark time.Time, rules program.StreakRules, loc *time.Location, dirty *dirtySet) (time.Time, error) {
	from := time.Time{}
	if !mark.IsZero() {
		from = rollup.DayStart(rollup.DayOf(rollupdb.Since(mark), loc), loc)
	}
	next := mark
	latest := map[bson.ObjectID]streak.State{}
	seqs := map[bson.ObjectID]int64{}
	unlocks := map[int]map[BadgeCount]int64{}
	err := rollupdb.Each(ctx, r.engaged, bson.D{{Key: "at", Value: bson.D{{Key: "$gte", Value: from}}}},
		options.Find().SetProjection(bson.D{{Key: "memberId", Value: 1}, {Key: "seq", Value: 1}, {Key: "kind", Value: 1}, {Key: "at", Value: 1},
			{Key: "badgeId", Value: 1}, {Key: "badgeLevel", Value: 1}, {Key: "state.streak", Value: 1}}),
		func(e *engagementEntry) error {
			if e.At.After(next) {
				next = e.At
			}
			if e.Seq > seqs[e.MemberID] {
				seqs[e.MemberID], latest[e.MemberID] = e.Seq, e.State.Streak
			}
			if e.Kind == "BADGE" {
				d := rollup.DayOf(e.At, loc)
				if unlocks[d] == nil {
					unlocks[d] = map[BadgeCount]int64{}
				}
				unlocks[d][BadgeCount{B: e.BadgeID, L: e.BadgeLevel}]++
			}
			return nil
		})
	if err != nil {
		return mark, err
	}
	var keys []any
	var docs []BadgeDay
	for _, d := range slices.Sorted(maps.Keys(unlocks)) {
		bd := BadgeDay{Day: d, Unlocks: []BadgeCount{}}
		for k, c := range unlocks[d] {
			k.C = c
			bd.Unlocks = append(bd.Unlocks, k)
		}
		slices.SortFunc(bd.Unlocks, func(x, y BadgeCount) int {
			if c := strings.Compare(x.B.Hex(), y.B.Hex()); c != 0 {
				return c
			}
			return strings.Compare(x.L, y.L)
		})
		keys, docs = append(keys, d), append(docs, bd)
	}
	if err := rollupdb.ReplaceAll(ctx, r.badgeDays, keys, docs); err != nil {
		return mark, err
	}
	ids := slices.SortedFunc(maps.Keys(latest), func(a, b bson.ObjectID) int { return strings.Compare(a.Hex(), b.Hex()) })
	for i := 0; i < len(ids); i += rollupdb.MemberBatch {
		if err := r.refreshStreakBatch(ctx, ids[i:min(i+rollupdb.MemberBatch, len(ids))], latest, rules, dirty); err != nil {
			return mark, err
		}
	}
	return next, nil
}

// refreshMovedStreaks computes again the lapse of the streak of each
// member whose profile changed since the mark (members.updatedAt), from
// the state their streak document keeps: a new timezone moves the instant
// their streak lapses, as they see it (streak.State.View in their zone),
// though they recorded nothing since. Members with an entry since were
// done by refreshStreaksAndBadges, and come out the same. It returns the
// new mark.
func (r *Rollups) refreshMovedStreaks(ctx context.Context, mark time.Time, rules program.StreakRules, dirty *dirtySet) (time.Time, error) {
	next := mark
	var moved []bson.ObjectID
	type changed struct {
		ID        bson.ObjectID `bson:"_id"`
		UpdatedAt time.Time     `bson:"updatedAt"`
	}
	err := rollupdb.Each(ctx, r.people, bson.D{{Key: "updatedAt", Value: bson.D{{Key: "$gte", Value: rollupdb.Since(mark)}}}},
		options.Find().SetProjection(bson.D{{Key: "updatedAt", Value: 1}}),
		func(m *changed) error {
			if m.UpdatedAt.After(next) {
				next = m.UpdatedAt
			}
			moved = append(moved, m.ID)
			return nil
		})
	if err != nil {
		return mark, err
	}
	for i := 0; i < len(moved); i += rollupdb.MemberBatch {
		batch := moved[i:min(i+rollupdb.MemberBatch, len(moved))]
		var kept []memberStreak
		if err := rollupdb.All(ctx, r.streaks, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: batch}}}}, nil, &kept); err != nil {
			return mark, err
		}
		latest := make(map[bson.ObjectID]streak.State, len(kept))
		old := make(map[bson.ObjectID]memberStreak, len(kept))
		ids := make([]bson.ObjectID, 0, len(kept))
		for _, k := range kept {
			latest[k.ID], old[k.ID] = k.state(), k
			ids = append(ids, k.ID)
		}
		if err := r.saveStreaks(ctx, ids, latest, old, rules, dirty); err != nil {
			return mark, err
		}
	}
	return next, nil
}

func (r *Rollups) refreshStreakBatch(ctx context.Context, ids []bson.ObjectID, latest map[bson.ObjectID]streak.State, rules program.StreakRules, dirty *dirtySet) error {
	in := bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}
	var olds []memberStreak
	if err := rollupdb.All(ctx, r.streaks, in, nil, &olds); err != nil {
		return err
	}
	old := map[bson.ObjectID]memberStreak{}
	for _, o := range olds {
		old[o.ID] = o
	}
	return r.saveStreaks(ctx, ids, latest, old, rules, dirty)
}

// saveStreaks writes the streak documents of ids from their latest states
// in their members' zones, where they differ from old, marking dirty the
// counts they move.
func (r *Rollups) saveStreaks(ctx context.Context, ids []bson.ObjectID, latest map[bson.ObjectID]streak.State, old map[bson.ObjectID]memberStreak, rules program.StreakRules, dirty *dirtySet) error {
	in := bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}
	var people []struct {
		ID       bson.ObjectID `bson:"_id"`
		Timezone string        `bson:"timezone"`
	}
	if err := rollupdb.All(ctx, r.people, in, options.Find().SetProjection(bson.D{{Key: "timezone", Value: 1}}), &people); err != nil {
		return err
	}
	zones := map[bson.ObjectID]string{}
	for _, p := range people {
		zones[p.ID] = p.Timezone
	}
	var keys []any
	var docs []memberStreak
	for _, id := range ids {
		s := latest[id]
		if s.Last == 0 {
			continue
		}
		// The member's zone, as the member's own view of the streak reads it
		// (member.Member.Location: UTC if unset or unknown).
		loc, err := time.LoadLocation(zones[id])
		if err != nil {
			loc = time.UTC
		}
		ms := memberStreak{ID: id, B: StreakBucket(s.Current), Lapse: s.LapsesAt(rules, loc).Unix(),
			Current: s.Current, Last: s.Last, LastAt: s.LastAt.UTC(), Zone: s.Timezone, Freezes: s.Freezes}
		o, had := old[id]
		if had && o == ms {
			continue
		}
		if had {
			dirty.streaks[o.key()] = true
		} else {
			dirty.streaks[streakTotal] = true
		}
		dirty.streaks[ms.key()] = true
		keys, docs = append(keys, id), append(docs, ms)
	}
	if err := r.saveDirty(ctx, dirty); err != nil {
		return err
	}
	return rollupdb.ReplaceAll(ctx, r.streaks, keys, docs)
}

// refreshStreakCounts recounts the dirty streak counts from the members'
// streaks.
func (r *Rollups) refreshStreakCounts(ctx context.Context, dirty map[string]bool) error {
	var keys []any
	var docs []StreakCount
	for _, id := range slices.Sorted(maps.Keys(dirty)) {
		c := StreakCount{ID: id, B: -1, Lapse: math.MaxInt64}
		filter := bson.D{}
		if id != streakTotal {
			b, l, ok := strings.Cut(id, ":")
			bn, err1 := strconv.Atoi(b)
			ln, err2 := strconv.ParseInt(l, 10, 64)
			if !ok || err1 != nil || err2 != nil {
				continue
			}
			c.B, c.Lapse = bn, ln
			filter = bson.D{{Key: "b", Value: bn}, {Key: "lapse", Value: ln}}
		}
		n, err := rollupdb.Count(ctx, r.streaks, filter)
		if err != nil {
			return err
		}
		c.C = n
		keys, docs = append(keys, id), append(docs, c)
	}
	return rollupdb.ReplaceAll(ctx, r.streakCounts, keys, docs)
}

// refreshBoards recounts the participants of every leaderboard with a
// score written since the mark. It returns the new mark.
func (r *Rollups) refreshBoards(ctx context.Context, mark time.Time) (time.Time, error) {
	next := mark
	boards := map[string]bool{}
	type row struct {
		Board string    `bson:"board"`
		At    time.Time `bson:"at"`
	}
	err := rollupdb.Each(ctx, r.scores, bson.D{{Key: "at", Value: bson.D{{Key: "$gte", Value: rollupdb.Since(mark)}}}},
		options.Find().SetProjection(bson.D{{Key: "board", Value: 1}, {Key: "at", Value: 1}}), func(r *row) error {
			boards[r.Board] = true
			if r.At.After(next) {
				next = r.At
			}
			return nil
		})
	if err != nil {
		return mark, err
	}
	var keys []any
	var docs []Board
	for _, b := range slices.Sorted(maps.Keys(boards)) {
		n, err := rollupdb.Count(ctx, r.scores, bson.D{{Key: "board", Value: b}, {Key: "score", Value: bson.D{{Key: "$gt", Value: 0}}}})
		if err != nil {
			return mark, err
		}
		keys, docs = append(keys, b), append(docs, Board{Key: b, Participants: n})
	}
	if err := rollupdb.ReplaceAll(ctx, r.boards, keys, docs); err != nil {
		return mark, err
	}
	return next, nil
}

// refreshEvents recounts the RSVPs of every event with an RSVP or a change
// of its own since the marks. It returns the new marks.
func (r *Rollups) refreshEvents(ctx context.Context, st state) (time.Time, time.Time, error) {
	nextR, nextE := st.RSVPs, st.Events
	ids := map[bson.ObjectID]bool{}
	type row struct {
		ID        bson.ObjectID `bson:"_id"`
		EventID   bson.ObjectID `bson:"eventId"`
		Status    string        `bson:"status"`
		UpdatedAt time.Time     `bson:"updatedAt"`
	}
	err := rollupdb.Each(ctx, r.rsvps, bson.D{{Key: "updatedAt", Value: bson.D{{Key: "$gte", Value: rollupdb.Since(st.RSVPs)}}}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: "eventId", Value: 1}, {Key: "updatedAt", Value: 1}}), func(r *row) error {
			ids[r.EventID] = true
			if r.UpdatedAt.After(nextR) {
				nextR = r.UpdatedAt
			}
			return nil
		})
	if err != nil {
		return st.RSVPs, st.Events, err
	}
	err = rollupdb.Each(ctx, r.events, bson.D{{Key: "updatedAt", Value: bson.D{{Key: "$gte", Value: rollupdb.Since(st.Events)}}}},
		options.Find().SetProjection(bson.D{{Key: "updatedAt", Value: 1}}), func(r *row) error {
			ids[r.ID] = true
			if r.UpdatedAt.After(nextE) {
				nextE = r.UpdatedAt
			}
			return nil
		})
	if err != nil || len(ids) == 0 {
		return nextR, nextE, err
	}
	list := slices.SortedFunc(maps.Keys(ids), func(a, b bson.ObjectID) int { return strings.Compare(a.Hex(), b.Hex()) })
	for i := 0; i < len(list); i += 100 {
		chunk := list[i:min(i+100, len(list))]
		in := bson.D{{Key: "$in", Value: chunk}}
		var evs []EventCounts
		if err := rollupdb.All(ctx, r.events, bson.D{{Key: "_id", Value: in}},
			options.Find().SetProjection(bson.D{{Key: "title", Value: 1}, {Key: "startsAt", Value: 1}, {Key: "status", Value: 1}}), &evs); err != nil {
			return st.RSVPs, st.Events, err
		}
		byID := map[bson.ObjectID]*EventCounts{}
		for k := range evs {
			byID[evs[k].ID] = &evs[k]
		}
		err := rollupdb.Each(ctx, r.rsvps, bson.D{{Key: "eventId", Value: in}},
			options.Find().SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: "eventId", Value: 1}, {Key: "status", Value: 1}}), func(r *row) error {
				e := byID[r.EventID]
				if e == nil {
					return nil
				}
				switch rsvp.Status(r.Status) {
				case rsvp.Confirmed:
					e.Confirmed++
				case rsvp.Waitlisted:
					e.Waitlisted++
				case rsvp.Offered:
					e.Offered++
				case rsvp.Cancelled:
					e.Cancelled++
				case rsvp.Attended:
					e.Attended++
				case rsvp.NoShow:
					e.NoShow++
				}
				return nil
			})
		if err != nil {
			return st.RSVPs, st.Events, err
		}
		var keys []any
		var docs []EventCounts
		for _, e := range evs {
			keys, docs = append(keys, e.ID), append(docs, *byID[e.ID])
		}
		if err := rollupdb.ReplaceAll(ctx, r.eventCounts, keys, docs); err != nil {
			return st.RSVPs, st.Events, err
		}
	}
	return nextR, nextE, nil
}

// --- reads ---------------------------------------------------------------

// EngagementDays returns the engagement days a to b, both included (the
// days with an active member or a poster, in no particular order).
func (r *Rollups) EngagementDays(ctx context.Context, a, b int) ([]EngagementDay, error) {
	var days []EngagementDay
	err := rollupdb.All(ctx, r.engagement, rollup.Between(a, b), nil, &days)
	return days, err
}

// BadgeDays returns the badge unlocks of days a to b, both included.
func (r *Rollups) BadgeDays(ctx context.Context, a, b int) ([]BadgeDay, error) {
	var days []BadgeDay
	err := rollupdb.All(ctx, r.badgeDays, rollup.Between(a, b), nil, &days)
	return days, err
}

// BadgeNames returns the names of badges ids (a badge since deleted is missing).
func (r *Rollups) BadgeNames(ctx context.Context, ids []bson.ObjectID) (map[bson.ObjectID]string, error) {
	var bs []struct {
		ID   bson.ObjectID `bson:"_id"`
		Name string        `bson:"name"`
	}
	err := rollupdb.All(ctx, r.badges, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, options.Find().SetProjection(bson.D{{Key: "name", Value: 1}}), &bs)
	out := map[bson.ObjectID]string{}
	for _, b := range bs {
		out[b.ID] = b.Name
	}
	return out, err
}

// StreakCounts returns the streak counts that lapse after t, with the
// total (whose Lapse is MaxInt64): at most one per bucket, zone and period
// a streak can run on its freezes.
func (r *Rollups) StreakCounts(ctx context.Context, t time.Time) ([]StreakCount, error) {
	var cs []StreakCount
	err := rollupdb.All(ctx, r.streakCounts, bson.D{{Key: "lapse", Value: bson.D{{Key: "$gt", Value: t.Unix()}}}}, nil, &cs)
	return cs, err
}

// Boards returns the participation of the leaderboards keys (one missing
// has had no score).
func (r *Rollups) Boards(ctx context.Context, keys []string) ([]Board, error) {
	var bs []Board
	err := rollupdb.All(ctx, r.boards, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: keys}}}}, nil, &bs)
	return bs, err
}

// Events returns the RSVP counts of the events starting in [from, to), by
// start.
func (r *Rollups) Events(ctx context.Context, from, to time.Time) ([]EventCounts, error) {
	var es []EventCounts
	err := rollupdb.All(ctx, r.eventCounts, bson.D{{Key: "startsAt", Value: bson.D{{Key: "$gte", Value: from}, {Key: "$lt", Value: to}}}},
		options.Find().SetSort(bson.D{{Key: "startsAt", Value: 1}, {Key: "_id", Value: 1}}), &es)
	return es, err
}
