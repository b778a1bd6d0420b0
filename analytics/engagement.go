package analytics

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/analytics/rollup"
	"github.com/regulars/regulars/analytics/rollup/engagement"
	"github.com/regulars/regulars/community/events"
	"github.com/regulars/regulars/game/leaderboard"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/member"
)

// Bounds of the engagement answer's lists.
const (
	MaxBadgeRows = 50 // badge levels with unlocks, the most unlocked first
	MaxEvents    = 50 // events of the range, earliest first (totals count all)
	MaxBoards    = 60 // boards overlapping the range, the latest
)

// StreakBucket counts the members whose current streak is Min to Max
// periods (Max nil: no upper bound).
type StreakBucket struct {
	Min     int
	Max     *int
	Members int64
}

// StreakDistribution is the members who ever kept a streak by their
// current streak as of AsOf (as each sees it in their timezone: 0 once the
// periods missed outnumber their freezes). Buckets[0] is 0.
type StreakDistribution struct {
	Members int64
	Buckets []StreakBucket
}

// BadgeUnlocks counts the awards of one level of a badge in the range.
type BadgeUnlocks struct {
	BadgeID bson.ObjectID
	Name    string // "" for a badge since deleted
	Level   string
	Unlocks int64
}

// BoardParticipation is one leaderboard's period: members with a score on
// it against members active in its whole period.
type BoardParticipation struct {
	Board    string // its key, as game/leaderboard names it: "MONTHLY:2026-03"
	From, To member.Date
	// Participants: members with a score above 0 on the board (points
	// earned in its period), opted-out members included.
	Participants int64
	// ActiveMembers: distinct members with an activity (any kind but
	// REFUND) that occurred in the period.
	ActiveMembers int64
	// Rate is Participants ÷ ActiveMembers (it may pass 1: points also come
	// from bonuses that are no activity).
	Rate *float64
}

// EventAttendance is one event's RSVPs by their status now, or the sums
// over the range's events.
type EventAttendance struct {
	EventID  bson.ObjectID // zero in the totals
	Title    string
	StartsAt time.Time
	// Seated: members holding a seat, attended or not (Confirmed +
	// Attended + NoShows); Confirmed are those not marked yet.
	Seated, Confirmed, Attended, NoShows int64
	Waitlisted, Cancelled                int64
	// AttendanceRate is Attended ÷ Seated (RSVP → attendance), NoShowRate
	// NoShows ÷ Seated; nil without seats.
	AttendanceRate, NoShowRate *float64
}

func (e *EventAttendance) add(c engagement.EventCounts) {
	e.Confirmed += c.Confirmed
	e.Attended += c.Attended
	e.NoShows += c.NoShow
	e.Waitlisted += c.Waitlisted + c.Offered
	e.Cancelled += c.Cancelled
	e.Seated = e.Confirmed + e.Attended + e.NoShows
	e.AttendanceRate, e.NoShowRate = ratio(e.Attended, e.Seated), ratio(e.NoShows, e.Seated)
}

// Engagement is what members did beyond purchases in a range.
type Engagement struct {
	Freshness
	From, To member.Date
	// ActiveMembers: distinct members with an activity (any kind but
	// REFUND) that occurred in the range. ActivePosters: distinct members
	// who wrote a forum post in the range (whatever moderation did with
	// it since); PosterRate is ActivePosters ÷ ActiveMembers.
	ActiveMembers, ActivePosters int64
	PosterRate                   *float64
	Streaks                      StreakDistribution
	// Badges: unlocks per badge and level, by the day they were awarded.
	Badges []BadgeUnlocks
	// Leaderboards: the boards of the period asked for whose period
	// overlaps the range, each over its whole period (the latest
	// MaxBoards).
	Leaderboards []BoardParticipation
	// Events: the published (or ended) events starting in the range, at
	// most MaxEvents; EventTotals sums all of them.
	Events      []EventAttendance
	EventTotals EventAttendance
}

// distinct counts the members with a day in [a, b] from days counted by
// each member's previous day (engagement.EngagementDay).
func distinct(days []engagement.EngagementDay, a, b int, prev func(engagement.EngagementDay) []rollup.Count) int64 {
	var n int64
	for _, d := range days {
		if d.Day < a || d.Day > b {
			continue
		}
		for _, p := range prev(d) {
			if p.K < a {
				n += p.C
			}
		}
	}
	return n
}

func activePrev(d engagement.EngagementDay) []rollup.Count { return d.ActivePrev }
func posterPrev(d engagement.EngagementDay) []rollup.Count { return d.PosterPrev }

// boardPeriods are the boards of period (WEEKLY or MONTHLY) whose period
// overlaps days a..b, with their first and last days.
func boardPeriods(a, b int, period leaderboard.Period, loc *time.Location) []struct {
	key        string
	start, end int
} {
	var out []struct {
		key        string
		start, end int
	}
	start := rollup.MonthStart(rollup.MonthOf(a))
	if period == leaderboard.PeriodWeekly {
		start = a - (int(rollup.DayDate(a).Weekday())+6)%7 // its Monday
	}
	for start <= b {
		end := start + 6
		if period == leaderboard.PeriodMonthly {
			end = rollup.MonthStart(rollup.MonthOf(start)+1) - 1
		}
		out = append(out, struct {
			key        string
			start, end int
		}{leaderboard.Key(loc, period, rollup.DayStart(start, loc).Add(12*time.Hour)), start, end})
		start = end + 1
	}
	return out
}

// Engagement answers the range's active members and posters, badge
// unlocks, leaderboard participation (boards: WEEKLY or MONTHLY) and
// event attendance, and the streak distribution as of AsOf. It reads one
// engagement document per day of the range and of the boards' periods
// around it, one per day with unlocks, the unlocked badges' names, one per
// board, one per event of the range, and the streak counts not lapsed by
// AsOf (one per bucket, timezone and period a streak can run on freezes):
// never more with more members. Errors name range.* or boards.
func (s *Service) Engagement(ctx context.Context, r Range, boards leaderboard.Period) (*Engagement, error) {
	sp, fr, err := s.open(ctx, r)
	if err != nil {
		return nil, err
	}
	if boards != leaderboard.PeriodWeekly && boards != leaderboard.PeriodMonthly {
		return nil, input.Errorf("boards", "WEEKLY or MONTHLY, not %q", boards)
	}
	out := &Engagement{From: rollup.Date(sp.a), To: rollup.Date(sp.b), Badges: []BadgeUnlocks{}, Leaderboards: []BoardParticipation{}, Events: []EventAttendance{}}

	periods := boardPeriods(sp.a, sp.b, boards, sp.loc)
	if len(periods) > MaxBoards {
		periods = periods[len(periods)-MaxBoards:]
	}
	first, last := min(sp.a, periods[0].start), max(sp.b, periods[len(periods)-1].end)
	days, err := s.engagement.EngagementDays(ctx, first, last)
	if err != nil {
		return nil, err
	}
	fr.DocumentsRead += len(days)
	out.ActiveMembers, out.ActivePosters = distinct(days, sp.a, sp.b, activePrev), distinct(days, sp.a, sp.b, posterPrev)
	out.PosterRate = ratio(out.ActivePosters, out.ActiveMembers)

	keys := make([]string, len(periods))
	for i, p := range periods {
		keys[i] = p.key
	}
	bs, err := s.engagement.Boards(ctx, keys)
	if err != nil {
		return nil, err
	}
	fr.DocumentsRead += len(bs)
	participants := map[string]int64{}
	for _, b := range bs {
		participants[b.Key] = b.Participants
	}
	for _, p := range periods {
		bp := BoardParticipation{Board: p.key, From: rollup.Date(p.start), To: rollup.Date(p.end), Participants: participants[p.key],
			ActiveMembers: distinct(days, p.start, p.end, activePrev)}
		bp.Rate = ratio(bp.Participants, bp.ActiveMembers)
		out.Leaderboards = append(out.Leaderboards, bp)
	}

	if err := s.badgeUnlocks(ctx, sp, out, &fr); err != nil {
		return nil, err
	}

	evs, err := s.engagement.Events(ctx, rollup.DayStart(sp.a, sp.loc), rollup.DayStart(sp.b+1, sp.loc))
	if err != nil {
		return nil, err
	}
	fr.DocumentsRead += len(evs)
	for _, e := range evs {
		if st := events.Status(e.Status); st == events.StatusDraft || st == events.StatusCancelled {
			continue
		}
		out.EventTotals.add(e)
		if len(out.Events) < MaxEvents {
			ea := EventAttendance{EventID: e.ID, Title: e.Title, StartsAt: e.StartsAt}
			ea.add(e)
			out.Events = append(out.Events, ea)
		}
	}

	counts, err := s.engagement.StreakCounts(ctx, fr.AsOf)
	if err != nil {
		return nil, err
	}
	fr.DocumentsRead += len(counts)
	out.Streaks = streakDistribution(counts)
	out.Freshness = fr
	return out, nil
}

func (s *Service) badgeUnlocks(ctx context.Context, sp span, out *Engagement, fr *Freshness) error {
	bdays, err := s.engagement.BadgeDays(ctx, sp.a, sp.b)
	if err != nil {
		return err
	}
	fr.DocumentsRead += len(bdays)
	type key struct {
		b bson.ObjectID
		l string
	}
	unlocks := map[key]int64{}
	ids := map[bson.ObjectID]bool{}
	for _, d := range bdays {
		for _, u := range d.Unlocks {
			unlocks[key{u.B, u.L}] += u.C
			ids[u.B] = true
		}
	}
	if len(ids) == 0 {
		return nil
	}
	names, err := s.engagement.BadgeNames(ctx, slices.Collect(maps.Keys(ids)))
	if err != nil {
		return err
	}
	fr.DocumentsRead += len(names)
	for k, n := range unlocks {
		out.Badges = append(out.Badges, BadgeUnlocks{BadgeID: k.b, Name: names[k.b], Level: k.l, Unlocks: n})
	}
	slices.SortFunc(out.Badges, func(x, y BadgeUnlocks) int {
		switch {
		case x.Unlocks != y.Unlocks:
			return int(y.Unlocks - x.Unlocks)
		case x.Name != y.Name:
			return strings.Compare(x.Name, y.Name)
		case x.BadgeID != y.BadgeID:
			return strings.Compare(x.BadgeID.Hex(), y.BadgeID.Hex())
		}
		return strings.Compare(x.Level, y.Level)
	})
	if len(out.Badges) > MaxBadgeRows {
		out.Badges = out.Badges[:MaxBadgeRows]
	}
	return nil
}

// streakDistribution sums the streak counts not lapsed into buckets; the
// rest of the members who ever had a streak read 0.
func streakDistribution(counts []engagement.StreakCount) StreakDistribution {
	alive := make([]int64, len(engagement.StreakBuckets))
	var total, sum int64
	for _, c := range counts {
		switch {
		case c.B < 0:
			total = c.C
		case c.B < len(alive):
			alive[c.B] += c.C
			sum += c.C
		}
	}
	d := StreakDistribution{Members: total, Buckets: []StreakBucket{{Min: 0, Max: new(0), Members: max(0, total-sum)}}}
	for i, lo := range engagement.StreakBuckets {
		b := StreakBucket{Min: lo, Members: alive[i]}
		if i+1 < len(engagement.StreakBuckets) {
			b.Max = new(engagement.StreakBuckets[i+1] - 1)
		}
		d.Buckets = append(d.Buckets, b)
	}
	return d
}
