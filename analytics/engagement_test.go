package analytics

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/regulars/regulars/analytics/rollup"
	"github.com/regulars/regulars/analytics/rollup/engagement"
	"github.com/regulars/regulars/game/leaderboard"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/game/streak"
	"github.com/regulars/regulars/internal/testkit"
)

// engagementWorld is a generated history of what members do beyond
// purchases, kept raw so the reference counts straight from it. Every
// record has the instant it was written (w), which load splits on.
type engagementWorld struct {
	loc     *time.Location
	rules   program.StreakRules
	zones   map[bson.ObjectID]string
	members []bson.ObjectID
	acts    []rollup.Activity
	posts   []genPost
	entries []genEngagement
	badges  []genBadge
	scores  []genScore
	events  []genEvent
	rsvps   []genRSVP
}

type genPost struct {
	ID        bson.ObjectID `bson:"_id"`
	AuthorID  bson.ObjectID `bson:"authorId"`
	Status    string        `bson:"status"`
	CreatedAt time.Time     `bson:"createdAt"`
}

type genEngagement struct {
	ID         bson.ObjectID `bson:"_id"`
	MemberID   bson.ObjectID `bson:"memberId"`
	Seq        int64         `bson:"seq"`
	Kind       string        `bson:"kind"`
	At         time.Time     `bson:"at"`
	BadgeID    bson.ObjectID `bson:"badgeId,omitempty"`
	BadgeLevel string        `bson:"badgeLevel,omitempty"`
	State      bson.M        `bson:"state"`
	streak     streak.State
}

type genBadge struct {
	ID   bson.ObjectID `bson:"_id"`
	Name string        `bson:"name"`
}

type genScore struct {
	ID       string        `bson:"_id"`
	Board    string        `bson:"board"`
	MemberID bson.ObjectID `bson:"memberId"`
	Score    int64         `bson:"score"`
	Hidden   bool          `bson:"hidden"`
	At       time.Time     `bson:"at"`
	// later: the score rewritten at then (0 once reversed)
	later   *int64
	laterAt time.Time
}

type genEvent struct {
	ID        bson.ObjectID `bson:"_id"`
	Title     string        `bson:"title"`
	StartsAt  time.Time     `bson:"startsAt"`
	Status    string        `bson:"status"`
	UpdatedAt time.Time     `bson:"updatedAt"`
}

type genRSVP struct {
	ID        string        `bson:"_id"`
	EventID   bson.ObjectID `bson:"eventId"`
	MemberID  bson.ObjectID `bson:"memberId"`
	Status    string        `bson:"status"`
	UpdatedAt time.Time     `bson:"updatedAt"`
	// later: the status the door (or the no-show job) set then
	later   string
	laterAt time.Time
}

var engNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// generateEngagement: members in several timezones with activities of
// several kinds (some reported late), streaks computed by game/streak
// from them, badge awards, forum posts, leaderboard scores (some 0, some
// rewritten later) and events with RSVPs marked at the door afterwards.
func generateEngagement(seed uint64, members int) *engagementWorld {
	r := rand.New(rand.NewPCG(seed, 11))
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		panic(err) // a fixed zone: the test cannot run without it
	}
	w := &engagementWorld{loc: loc, zones: map[bson.ObjectID]string{},
		rules: program.StreakRules{Period: program.StreakDaily, FreezeMax: 2, FreezeEvery: 3, AtRiskHour: 20}}
	start := engNow.AddDate(0, -4, 0)
	span := int64(engNow.Sub(start))
	at := func() time.Time {
		t := start.Add(time.Duration(r.Int64N(span)))
		if r.IntN(2) == 0 { // near a local midnight
			y, m, d := t.In(loc).Date()
			t = time.Date(y, m, d, 0, 0, 0, 0, loc).Add(time.Duration(r.IntN(240)-120) * time.Second)
		}
		return t.UTC().Truncate(time.Millisecond)
	}
	for i := range 4 {
		w.badges = append(w.badges, genBadge{ID: bson.NewObjectID(), Name: fmt.Sprintf("Badge %d", i)})
	}
	zones := []string{"America/New_York", "Asia/Tokyo", "America/Los_Angeles", ""}
	for range members {
		m := bson.NewObjectID()
		w.members = append(w.members, m)
		w.zones[m] = zones[r.IntN(len(zones))]
		mloc, err := time.LoadLocation(w.zones[m]) // "" is UTC
		if err != nil {
			panic(err) // a zone of the list above: the test data is wrong
		}
		type step struct {
			at    time.Time
			act   *time.Time // an activity's occurrence
			badge *genBadge
			level string
		}
		var steps []step
		n := r.IntN(4)
		if r.IntN(3) == 0 { // a run of daily activity up to lately
			n = 10 + r.IntN(30)
		}
		runEnd := engNow.Add(-time.Duration(r.IntN(6*24)) * time.Hour)
		for j := range n {
			occ := at()
			if n >= 10 {
				occ = runEnd.Add(-time.Duration(j*24+r.IntN(3)) * time.Hour)
			}
			kind := []string{"PURCHASE", "CHECK_IN", "REVIEW", "COMMUNITY_POST"}[r.IntN(4)]
			created := occ.Add(time.Duration(r.IntN(60)) * time.Second)
			if r.IntN(8) == 0 {
				created = occ.Add(time.Duration(r.IntN(5*24)) * time.Hour)
			}
			if created.After(engNow) {
				created = engNow.Add(-time.Minute)
			}
			a := rollup.Activity{ID: bson.NewObjectID(), Kind: kind, MemberID: m, AmountMinor: 500, Currency: "USD", OccurredAt: occ, CreatedAt: created}
			w.acts = append(w.acts, a)
			steps = append(steps, step{at: created, act: &w.acts[len(w.acts)-1].OccurredAt})
			if r.IntN(5) == 0 { // refunds engage nothing
				id := a.ID
				w.acts = append(w.acts, rollup.Activity{ID: bson.NewObjectID(), Kind: kindRefund, MemberID: m, AmountMinor: 100, Currency: "USD", OccurredAt: created, RefundOf: &id, CreatedAt: created})
			}
		}
		for range r.IntN(3) {
			b := &w.badges[r.IntN(len(w.badges))]
			steps = append(steps, step{at: at(), badge: b, level: []string{"BRONZE", "SILVER"}[r.IntN(2)]})
		}
		for range r.IntN(4) {
			w.posts = append(w.posts, genPost{ID: bson.NewObjectID(), AuthorID: m, Status: "VISIBLE", CreatedAt: at()})
		}
		slices.SortFunc(steps, func(x, y step) int { return x.at.Compare(y.at) })
		var st streak.State
		for k, s := range steps {
			e := genEngagement{ID: bson.NewObjectID(), MemberID: m, Seq: int64(k + 1), Kind: "ACTIVITY", At: s.at}
			if s.badge != nil {
				e.Kind, e.BadgeID, e.BadgeLevel = "BADGE", s.badge.ID, s.level
			} else {
				st.Advance(w.rules, *s.act, w.zones[m], mloc)
			}
			e.streak = st
			e.State = bson.M{"streak": st}
			w.entries = append(w.entries, e)
		}
		// Scores on the boards of the months and weeks of their activity.
		for _, s := range steps {
			if s.act == nil || r.IntN(2) == 0 {
				continue
			}
			for _, p := range []leaderboard.Period{leaderboard.PeriodMonthly, leaderboard.PeriodWeekly} {
				key := leaderboard.Key(loc, p, *s.act)
				if slices.ContainsFunc(w.scores, func(x genScore) bool { return x.ID == key+":"+m.Hex() }) {
					continue
				}
				sc := genScore{ID: key + ":" + m.Hex(), Board: key, MemberID: m, Score: int64(r.IntN(3)) * 50, Hidden: r.IntN(5) == 0, At: s.at}
				if r.IntN(4) == 0 {
					v := int64(r.IntN(2)) * 80
					sc.later, sc.laterAt = &v, clampNow(s.at.Add(time.Duration(1+r.IntN(20*24))*time.Hour))
				}
				w.scores = append(w.scores, sc)
			}
		}
	}
	for i := range 8 {
		startsAt := at()
		e := genEvent{ID: bson.NewObjectID(), Title: fmt.Sprintf("Event %d", i), StartsAt: startsAt, Status: []string{"PUBLISHED", "PUBLISHED", "CANCELLED", "DRAFT"}[r.IntN(4)], UpdatedAt: startsAt.AddDate(0, 0, -10)}
		w.events = append(w.events, e)
		if e.Status == "DRAFT" {
			continue
		}
		for _, m := range w.members {
			if r.IntN(3) > 0 {
				continue
			}
			rv := genRSVP{ID: e.ID.Hex() + ":" + m.Hex(), EventID: e.ID, MemberID: m, Status: []string{"CONFIRMED", "CONFIRMED", "WAITLISTED", "CANCELLED", "OFFERED"}[r.IntN(5)], UpdatedAt: clampNow(e.UpdatedAt.Add(time.Duration(r.IntN(9*24)) * time.Hour))}
			if rv.Status == "CONFIRMED" && e.StartsAt.Before(engNow) {
				rv.later, rv.laterAt = []string{"ATTENDED", "ATTENDED", "NO_SHOW"}[r.IntN(3)], clampNow(e.StartsAt.Add(time.Duration(r.IntN(3)+1)*time.Hour))
				if rv.laterAt.Before(rv.UpdatedAt) {
					rv.laterAt = rv.UpdatedAt
				}
			}
			w.rsvps = append(w.rsvps, rv)
		}
	}
	return w
}

// load writes what was written before cut, or, with after, what was
// written since, rewriting the scores and RSVPs changed since.
func (w *engagementWorld) load(t testing.TB, db *mongo.Database, cut time.Time, after bool) {
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
	var ms, as, ps, es, bs, ss, evs, rs []any
	if !after {
		for _, m := range w.members {
			ms = append(ms, bson.M{"_id": m, "timezone": w.zones[m], "createdAt": engNow.AddDate(-1, 0, 0)})
		}
		for _, b := range w.badges {
			bs = append(bs, b)
		}
		for _, e := range w.events {
			evs = append(evs, e)
		}
	}
	for _, a := range w.acts {
		if in(a.CreatedAt) {
			as = append(as, a)
		}
	}
	for _, p := range w.posts {
		if in(p.CreatedAt) {
			ps = append(ps, p)
		}
	}
	for _, e := range w.entries {
		if in(e.At) {
			es = append(es, e)
		}
	}
	set := func(coll string, id any, fields bson.D) {
		if _, err := db.Collection(coll).UpdateByID(ctx, id, bson.D{{Key: "$set", Value: fields}}); err != nil {
			t.Fatal(err)
		}
	}
	// A score or RSVP rewritten before cut is stored as rewritten.
	for _, s := range w.scores {
		if in(s.At) {
			if s.later != nil && (after || s.laterAt.Before(cut)) {
				s.Score, s.At = *s.later, s.laterAt
			}
			ss = append(ss, s)
		}
	}
	for _, rv := range w.rsvps {
		if in(rv.UpdatedAt) {
			if rv.later != "" && (after || rv.laterAt.Before(cut)) {
				rv.Status, rv.UpdatedAt = rv.later, rv.laterAt
			}
			rs = append(rs, rv)
		}
	}
	insert("members", ms)
	insert("badges", bs)
	insert("events", evs)
	insert("activities", as)
	insert("community_posts", ps)
	insert("engagement", es)
	insert("leaderboard_scores", ss)
	insert("event_rsvps", rs)
	if !after {
		return
	}
	for _, s := range w.scores {
		if s.later != nil && !s.laterAt.Before(cut) && s.At.Before(cut) {
			set("leaderboard_scores", s.ID, bson.D{{Key: "score", Value: *s.later}, {Key: "at", Value: s.laterAt}})
		}
	}
	for _, rv := range w.rsvps {
		if rv.later != "" && !rv.laterAt.Before(cut) && rv.UpdatedAt.Before(cut) {
			set("event_rsvps", rv.ID, bson.D{{Key: "status", Value: rv.later}, {Key: "updatedAt", Value: rv.laterAt}})
		}
	}
}

func clampNow(t time.Time) time.Time {
	if !t.Before(engNow) {
		return engNow.Add(-time.Minute)
	}
	return t
}

// scoreAt is a score as it stands at t.
func (s genScore) scoreAt(t time.Time) int64 {
	if s.later != nil && s.laterAt.Before(t) {
		return *s.later
	}
	return s.Score
}

func (w *engagementWorld) localDay(t time.Time) string { return t.In(w.loc).Format(time.DateOnly) }

func (w *engagementWorld) check(t *testing.T, s *Service, from, to string, boards leaderboard.Period, asOf time.Time) {
	t.Helper()
	got := testkit.Must(s.Engagement(context.Background(), Range{From: date(from), To: date(to)}, boards))(t)
	where := from + ".." + to
	inRange := func(d string) bool { return d >= from && d <= to }
	written := func(at time.Time) bool { return at.Before(asOf) }
	activeIn := func(a, b string) int64 {
		set := map[bson.ObjectID]bool{}
		for _, x := range w.acts {
			if d := w.localDay(x.OccurredAt); x.Kind != kindRefund && d >= a && d <= b && written(x.CreatedAt) {
				set[x.MemberID] = true
			}
		}
		return int64(len(set))
	}
	posters := map[bson.ObjectID]bool{}
	for _, p := range w.posts {
		if inRange(w.localDay(p.CreatedAt)) && written(p.CreatedAt) {
			posters[p.AuthorID] = true
		}
	}
	if want := activeIn(from, to); got.ActiveMembers != want || got.ActivePosters != int64(len(posters)) {
		t.Errorf("%s: %d active, %d posters; want %d, %d", where, got.ActiveMembers, got.ActivePosters, want, len(posters))
	}
	feq(t, where+" poster rate", got.PosterRate, float64(len(posters))/float64(activeIn(from, to)), activeIn(from, to) > 0)

	unlocks := map[string]int64{}
	for _, e := range w.entries {
		if e.Kind == "BADGE" && inRange(w.localDay(e.At)) && written(e.At) {
			unlocks[e.BadgeID.Hex()+"/"+e.BadgeLevel]++
		}
	}
	names := map[bson.ObjectID]string{}
	for _, b := range w.badges {
		names[b.ID] = b.Name
	}
	for _, b := range got.Badges {
		k := b.BadgeID.Hex() + "/" + b.Level
		if b.Unlocks != unlocks[k] || b.Name != names[b.BadgeID] {
			t.Errorf("%s: badge %s %q unlocked %d times, want %d (%q)", where, k, b.Name, b.Unlocks, unlocks[k], names[b.BadgeID])
		}
		delete(unlocks, k)
	}
	if len(unlocks) > 0 {
		t.Errorf("%s: badges missing: %v", where, unlocks)
	}

	// Boards: every period of the kind overlapping the range, whole.
	var periods [][2]string
	for d := day(from); !d.After(day(to)); {
		var a, b time.Time
		if boards == leaderboard.PeriodMonthly {
			a = time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)
			b = a.AddDate(0, 1, -1)
		} else {
			a = d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
			b = a.AddDate(0, 0, 6)
		}
		periods = append(periods, [2]string{a.Format(time.DateOnly), b.Format(time.DateOnly)})
		d = b.AddDate(0, 0, 1)
	}
	if len(got.Leaderboards) != len(periods) {
		t.Fatalf("%s: %d boards, want %d", where, len(got.Leaderboards), len(periods))
	}
	for i, p := range periods {
		g := got.Leaderboards[i]
		key := leaderboard.Key(w.loc, boards, time.Date(day(p[0]).Year(), day(p[0]).Month(), day(p[0]).Day(), 12, 0, 0, 0, w.loc))
		var participants int64
		for _, sc := range w.scores {
			if sc.Board == key && written(sc.At) && sc.scoreAt(asOf) > 0 {
				participants++
			}
		}
		active := activeIn(p[0], p[1])
		if g.Board != key || g.From.String() != p[0] || g.To.String() != p[1] || g.Participants != participants || g.ActiveMembers != active {
			t.Errorf("%s: board %+v, want %s %v %d participants %d active", where, g, key, p, participants, active)
		}
		feq(t, where+" "+key, g.Rate, float64(participants)/float64(active), active > 0)
	}

	// Events starting in the range, neither drafts nor cancelled.
	lo := time.Date(day(from).Year(), day(from).Month(), day(from).Day(), 0, 0, 0, 0, w.loc)
	hi := time.Date(day(to).Year(), day(to).Month(), day(to).Day()+1, 0, 0, 0, 0, w.loc)
	var want []EventAttendance
	var total EventAttendance
	for _, e := range w.events {
		if e.StartsAt.Before(lo) || !e.StartsAt.Before(hi) || e.Status == "DRAFT" || e.Status == "CANCELLED" {
			continue
		}
		ea := EventAttendance{EventID: e.ID, Title: e.Title, StartsAt: e.StartsAt}
		for _, rv := range w.rsvps {
			if rv.EventID != e.ID || !written(rv.UpdatedAt) {
				continue
			}
			st := rv.Status
			if rv.later != "" && written(rv.laterAt) {
				st = rv.later
			}
			for _, x := range []*EventAttendance{&ea, &total} {
				switch st {
				case "CONFIRMED":
					x.Confirmed++
				case "ATTENDED":
					x.Attended++
				case "NO_SHOW":
					x.NoShows++
				case "WAITLISTED", "OFFERED":
					x.Waitlisted++
				case "CANCELLED":
					x.Cancelled++
				}
			}
		}
		want = append(want, ea)
	}
	slices.SortFunc(want, func(x, y EventAttendance) int { return x.StartsAt.Compare(y.StartsAt) })
	same := func(g, w EventAttendance) bool {
		return g.EventID == w.EventID && g.Title == w.Title && g.StartsAt.Equal(w.StartsAt) && g.Confirmed == w.Confirmed && g.Attended == w.Attended &&
			g.NoShows == w.NoShows && g.Waitlisted == w.Waitlisted && g.Cancelled == w.Cancelled && g.Seated == w.Confirmed+w.Attended+w.NoShows
	}
	if len(got.Events) != len(want) {
		t.Fatalf("%s: %d events, want %d", where, len(got.Events), len(want))
	}
	for i := range want {
		if !same(got.Events[i], want[i]) {
			t.Errorf("%s: event %+v, want %+v", where, got.Events[i], want[i])
		}
		seated := want[i].Confirmed + want[i].Attended + want[i].NoShows
		feq(t, where+" attendance", got.Events[i].AttendanceRate, float64(want[i].Attended)/float64(seated), seated > 0)
		feq(t, where+" no-shows", got.Events[i].NoShowRate, float64(want[i].NoShows)/float64(seated), seated > 0)
	}
	if !same(got.EventTotals, total) {
		t.Errorf("%s: event totals %+v, want %+v", where, got.EventTotals, total)
	}

	// Streaks: each member's latest entry, viewed at asOf in their zone.
	latest := map[bson.ObjectID]genEngagement{}
	for _, e := range w.entries {
		if written(e.At) && e.Seq > latest[e.MemberID].Seq {
			latest[e.MemberID] = e
		}
	}
	buckets := make([]int64, len(engagement.StreakBuckets)+1)
	var members int64
	for m, e := range latest {
		if e.streak.Last == 0 {
			continue
		}
		members++
		mloc, err := time.LoadLocation(w.zones[m])
		if err != nil {
			mloc = time.UTC
		}
		c := e.streak.View(w.rules, asOf, mloc).Current
		b := 0
		for i, lo := range engagement.StreakBuckets {
			if c >= lo {
				b = i + 1
			}
		}
		buckets[b]++
	}
	if got.Streaks.Members != members || len(got.Streaks.Buckets) != len(buckets) {
		t.Fatalf("%s: streaks %+v, want %d members", where, got.Streaks, members)
	}
	for i, b := range got.Streaks.Buckets {
		if b.Members != buckets[i] {
			t.Errorf("streak bucket %d (%d+): %d members, want %d", i, b.Min, b.Members, buckets[i])
		}
	}
}

// TestEngagementMatchesTheRawData builds the rollups in two runs (the
// second after late activities, later posts, awards, rewritten scores and
// RSVPs marked at the door) and checks every engagement figure against a
// reference computed from the raw documents, for several seeds.
func TestEngagementMatchesTheRawData(t *testing.T) {
	for _, seed := range []uint64{1, 2} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			w := generateEngagement(seed, 50)
			db := testkit.Database(t)
			p := program.Default()
			p.Timezone, p.Streak = "America/New_York", w.rules
			cut := engNow.AddDate(0, 0, -12)
			clock := testkit.NewClock(cut)
			s := New(db, &fixedProgram{p}, clock.Now)
			testkit.EnsureIndexes(t, s.EnsureIndexes)
			ctx := context.Background()
			w.load(t, db, cut, false)
			testkit.Must(s.Refresh(ctx))(t)
			w.check(t, s, "2025-11-01", "2026-02-28", leaderboard.PeriodMonthly, cut)

			w.load(t, db, cut, true)
			clock.Set(engNow)
			testkit.Must(s.Refresh(ctx))(t)
			testkit.Must(s.Refresh(ctx))(t)
			for _, rg := range [][2]string{{"2025-11-01", "2026-03-01"}, {"2026-02-10", "2026-02-25"}, {"2025-12-30", "2026-01-02"}} {
				w.check(t, s, rg[0], rg[1], leaderboard.PeriodMonthly, engNow)
				w.check(t, s, rg[0], rg[1], leaderboard.PeriodWeekly, engNow)
			}
			rg := Range{From: date("2025-11-01"), To: date("2026-03-01")}
			before := testkit.Must(s.Engagement(ctx, rg, leaderboard.PeriodMonthly))(t)
			// Days later, with nothing new: streaks have lapsed, as members see them.
			later := engNow.AddDate(0, 0, 3)
			clock.Set(later)
			testkit.Must(s.Refresh(ctx))(t)
			w.check(t, s, "2026-02-01", "2026-03-01", leaderboard.PeriodMonthly, later)
			after := testkit.Must(s.Engagement(ctx, rg, leaderboard.PeriodMonthly))(t)
			long := int64(0)
			for _, b := range before.Streaks.Buckets[3:] {
				long += b.Members
			}
			if long == 0 || after.Streaks.Buckets[0].Members <= before.Streaks.Buckets[0].Members || len(before.Badges) == 0 || before.EventTotals.Attended == 0 || before.ActivePosters == 0 {
				t.Errorf("the data exercises too little: streaks %+v then %+v, badges %d, events %+v, posters %d",
					before.Streaks, after.Streaks, len(before.Badges), before.EventTotals, before.ActivePosters)
			}
		})
	}
}

// TestEngagementReadsDoNotGrowWithMembers: four times the members, the
// same range, read within the same bound: a document per day of the range,
// per board, per event, per badge, and per streak bucket, timezone and
// day a streak can still run on its freezes.
func TestEngagementReadsDoNotGrowWithMembers(t *testing.T) {
	reads := func(members int) int {
		w := generateEngagement(7, members)
		db := testkit.Database(t)
		p := program.Default()
		p.Timezone, p.Streak = "America/New_York", w.rules
		s := New(db, &fixedProgram{p}, func() time.Time { return engNow })
		testkit.EnsureIndexes(t, s.EnsureIndexes)
		w.load(t, db, engNow.Add(time.Hour), false)
		testkit.Must(s.Refresh(context.Background()))(t)
		e := testkit.Must(s.Engagement(context.Background(), Range{From: date("2026-02-01"), To: date("2026-02-28")}, leaderboard.PeriodMonthly))(t)
		return e.DocumentsRead
	}
	small, large := reads(40), reads(160)
	// state + 28 days + 1 board + 28 badge days + 4 badges + 8 events +
	// streaks: 9 buckets × 4 zones × (freezeMax + 2) days, and the total.
	bound := 1 + 28 + 1 + 28 + 4 + 8 + 9*4*4 + 1
	if small > bound || large > bound {
		t.Errorf("documents read with 40 and 160 members: %d and %d, over %d", small, large, bound)
	}
	t.Logf("documents read with 40 and 160 members: %d, %d", small, large)
}

// TestAMovedMemberStreakLapsesInTheNewZone: members who move west to a
// timezone whose days end later, and record nothing since, keep their
// streak until it lapses on the new zone's calendar too
// (streak.State.View), and the streak distribution counts it so through
// the two days after.
func TestAMovedMemberStreakLapsesInTheNewZone(t *testing.T) {
	w := generateEngagement(3, 40)
	db := testkit.Database(t)
	p := program.Default()
	p.Timezone, p.Streak = "America/New_York", w.rules
	clock := testkit.NewClock(engNow)
	s := New(db, &fixedProgram{p}, clock.Now)
	testkit.EnsureIndexes(t, s.EnsureIndexes)
	ctx := context.Background()
	w.load(t, db, engNow.Add(time.Hour), false)
	testkit.Must(s.Refresh(ctx))(t)

	moved := engNow.Add(time.Hour)
	clock.Set(moved)
	for _, m := range w.members {
		to := "Pacific/Pago_Pago" // UTC−11: their days end later
		w.zones[m] = to
		if _, err := db.Collection("members").UpdateByID(ctx, m, bson.D{{Key: "$set", Value: bson.D{
			{Key: "timezone", Value: to}, {Key: "updatedAt", Value: moved}}}}); err != nil {
			t.Fatal(err)
		}
	}
	testkit.Must(s.Refresh(ctx))(t)
	for h := 0; h <= 48; h += 3 {
		at := moved.Add(time.Duration(h) * time.Hour)
		clock.Set(at)
		testkit.Must(s.Refresh(ctx))(t)
		w.check(t, s, "2026-02-01", "2026-03-01", leaderboard.PeriodMonthly, at)
	}
}
