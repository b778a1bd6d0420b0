// Package streak counts a member's streak of periods (days or weeks of
// their own timezone) with at least one qualifying activity: freezes earned,
// bought and spent on missed periods, late activities counting for the day
// they happened, and whether today's streak is at risk. It is pure
// computation over a State kept by the caller (the engagement chain).
package streak

import (
	"slices"
	"time"

	"github.com/regulars/regulars/game/program"
)

// maxStreakHistory bounds the periods a streak remembers for late activities.
const maxStreakHistory = 400

// State is a member's streak.
type State struct {
	Current int `bson:"current"`
	Longest int `bson:"longest"`
	// Last is the index of the last qualifying period (see periodIndex); 0: none yet.
	Last int64 `bson:"last"`
	// LastAt and Timezone are the instant and the zone of the last qualifying
	// activity, so a change of zone can be judged fairly.
	LastAt   time.Time `bson:"lastAt"`
	Timezone string    `bson:"timezone"`
	Freezes  int       `bson:"freezes"`
	// Days are recent qualifying periods; FrozenDays are periods a freeze covered.
	Days       []int64 `bson:"days"`
	FrozenDays []int64 `bson:"frozenDays"`
}

// Event is what one activity did to a streak.
type Event struct {
	Extended     bool `bson:"extended,omitempty"`
	Reset        bool `bson:"reset,omitempty"`
	FreezesUsed  int  `bson:"freezesUsed,omitempty"`
	FreezeEarned bool `bson:"freezeEarned,omitempty"`
}

// civilDay numbers the calendar date of t in loc: days since 1970-01-01.
func civilDay(t time.Time, loc *time.Location) int64 {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// PeriodIndex numbers the day, or the ISO week (Monday first), of t in loc.
// Indexes start at 1 so 0 can mean "none".
func PeriodIndex(p program.StreakPeriod, t time.Time, loc *time.Location) int64 {
	d := civilDay(t, loc)
	if p == program.StreakWeekly {
		return (d+3)/7 + 1 // 1970-01-01 was a Thursday
	}
	return d + 1
}

// periodStart is the instant period idx begins in loc.
func periodStart(p program.StreakPeriod, idx int64, loc *time.Location) time.Time {
	day := idx - 1
	if p == program.StreakWeekly {
		day = (idx-1)*7 - 3
	}
	u := time.Unix(day*86400, 0).UTC()
	return time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, loc)
}

// PeriodsBetween counts the periods (days or weeks) from one activity to a
// later one, each made in the member's zone of the time: counted on the
// calendar of the first one's zone and on the calendar of the second's, the
// smaller of the two. In one zone this is the plain difference of calendar
// dates. After a move it is the days the member lived: flying west does
// not repeat a day (New York just after midnight, then Los Angeles 25 hours
// later on the same date, is the next day) and flying east does not skip
// one, while no choice of zone makes a new day before a midnight of the
// zone the member was last in, so changing zone never gains a day either.
func PeriodsBetween(p program.StreakPeriod, from time.Time, fromLoc *time.Location, to time.Time, toLoc *time.Location) int64 {
	d := PeriodIndex(p, to, toLoc) - PeriodIndex(p, from, toLoc)
	if fromLoc != nil {
		d = min(d, PeriodIndex(p, to, fromLoc)-PeriodIndex(p, from, fromLoc))
	}
	return d
}

// loadZone loads a zone name, nil if it is empty or unknown.
func loadZone(name string) *time.Location {
	if name == "" {
		return nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil
	}
	return loc
}

// Advance records a qualifying activity at `at`, made while the member was
// in zone tz (loc). A streak period is a calendar date (or ISO week) in the
// member's zone at the moment of the activity; after a change of zone the
// distance from the last activity is PeriodsBetween, and the remembered
// periods are renumbered on the new zone's calendar, so moving neither
// grants a free period nor costs one.
func (s *State) Advance(r program.StreakRules, at time.Time, tz string, loc *time.Location) Event {
	var ev Event
	idx := PeriodIndex(r.Period, at, loc)
	if s.Last != 0 && s.Timezone != tz && !s.LastAt.IsZero() {
		last := PeriodIndex(r.Period, s.LastAt, loc)
		if at.After(s.LastAt) {
			last = idx - PeriodsBetween(r.Period, s.LastAt, loadZone(s.Timezone), at, loc)
		}
		s.renumber(last - s.Last)
	}
	last := s.Last
	switch {
	case s.Last == 0:
		s.Current, s.Last, s.LastAt, s.Timezone = 1, idx, at, tz
		s.Days = []int64{idx}
		ev.Extended = true
	case idx == last || slices.Contains(s.Days, idx):
		if idx == last && at.After(s.LastAt) {
			// Same period, possibly renumbered by a new zone.
			if i := slices.Index(s.Days, s.Last); i >= 0 {
				s.Days[i] = idx
			}
			s.Last, s.LastAt, s.Timezone = idx, at, tz
		}
	case idx > last:
		gap := int(idx - last - 1)
		switch {
		case gap == 0:
			s.Current++
		case gap <= s.Freezes:
			s.Freezes -= gap
			for p := last + 1; p < idx; p++ {
				s.FrozenDays = append(s.FrozenDays, p)
			}
			s.Current++
			ev.FreezesUsed = gap
		default:
			s.Current = 1
			ev.Reset = true
		}
		ev.Extended = !ev.Reset
		s.Last, s.LastAt, s.Timezone = idx, at, tz
		s.Days = append(s.Days, idx)
		if r.FreezeEvery > 0 && s.Current%r.FreezeEvery == 0 && s.Freezes < r.FreezeMax {
			s.Freezes++
			ev.FreezeEarned = true
		}
	default:
		// A late report of an earlier period.
		s.Days = append(s.Days, idx)
		slices.Sort(s.Days)
		if i := slices.Index(s.FrozenDays, idx); i >= 0 {
			// That period was bridged by a freeze but was kept after all:
			// give the freeze back.
			s.FrozenDays = slices.Delete(s.FrozenDays, i, i+1)
			s.Freezes++
		}
		s.Current = s.runEndingAt(s.Last)
	}
	s.Longest = max(s.Longest, s.Current)
	s.trim()
	return ev
}

// renumber moves every remembered period by shift, onto another zone's calendar.
func (s *State) renumber(shift int64) {
	if shift == 0 {
		return
	}
	s.Last += shift
	for i := range s.Days {
		s.Days[i] += shift
	}
	for i := range s.FrozenDays {
		s.FrozenDays[i] += shift
	}
}

// runEndingAt counts the active periods of the unbroken run ending at idx;
// frozen periods bridge without counting.
func (s *State) runEndingAt(idx int64) int {
	n := 0
	for p := idx; ; p-- {
		switch {
		case slices.Contains(s.Days, p):
			n++
		case slices.Contains(s.FrozenDays, p):
		default:
			return n
		}
	}
}

func (s *State) trim() {
	if len(s.Days) > maxStreakHistory {
		s.Days = s.Days[len(s.Days)-maxStreakHistory:]
	}
	if len(s.FrozenDays) > maxStreakHistory {
		s.FrozenDays = s.FrozenDays[len(s.FrozenDays)-maxStreakHistory:]
	}
}

// View is a streak as the member sees it at one instant.
type View struct {
	Period  program.StreakPeriod
	Current int
	Longest int
	Freezes int
	// FrozenDays are the dates (or week starts) a freeze kept the streak.
	FrozenDays []time.Time
	// KeptToday says this period already counts.
	KeptToday bool
	// AtRisk: late in the member's day (or week) and not yet kept.
	AtRisk bool
	// WillUseFreezes: the periods missed since, which freezes will cover.
	WillUseFreezes int
}

// View shows the streak at now in loc without changing it: a streak whose
// gap is wider than the freezes left reads 0.
func (s State) View(r program.StreakRules, now time.Time, loc *time.Location) View {
	v := View{Period: r.Period, Current: s.Current, Longest: s.Longest, Freezes: s.Freezes}
	for _, d := range s.FrozenDays {
		v.FrozenDays = append(v.FrozenDays, periodStart(r.Period, d, loc))
	}
	if s.Last == 0 {
		return v
	}
	since := PeriodsBetween(r.Period, s.LastAt, loadZone(s.Timezone), now, loc)
	gap := int(since - 1)
	v.KeptToday = since <= 0
	switch {
	case gap > s.Freezes:
		v.Current = 0
	case gap > 0:
		v.WillUseFreezes = gap
	}
	if !v.KeptToday && v.Current > 0 {
		local := now.In(loc)
		lastDay := r.Period == program.StreakDaily || local.Weekday() == time.Sunday
		v.AtRisk = lastDay && local.Hour() >= r.AtRiskHour && gap == 0
	}
	return v
}

// LapsesAt is the first instant at which View (in loc) reads the streak as
// 0: when the periods missed since the last one outnumber the freezes
// left. Before it View reads Current. Zero for a streak never started.
// Analytics counts streaks by it without reading every member again.
func (s State) LapsesAt(r program.StreakRules, loc *time.Location) time.Time {
	if s.Last == 0 {
		return time.Time{}
	}
	// View reads 0 once PeriodsBetween(LastAt, now) − 1 > Freezes, on the
	// calendars of both zones (the smaller count): from the later of the
	// two period starts.
	n := int64(s.Freezes) + 2
	at := periodStart(r.Period, PeriodIndex(r.Period, s.LastAt, loc)+n, loc)
	if from := loadZone(s.Timezone); from != nil {
		if t := periodStart(r.Period, PeriodIndex(r.Period, s.LastAt, from)+n, from); t.After(at) {
			at = t
		}
	}
	return at
}
