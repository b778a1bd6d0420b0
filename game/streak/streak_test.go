package streak

import (
	"testing"
	"time"

	"github.com/regulars/regulars/game/program"
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

var daily = program.StreakRules{Period: program.StreakDaily, FreezeMax: 2, FreezeEvery: 3, AtRiskHour: 20}

// at is the instant of a local wall time in loc.
func at(loc *time.Location, day, hour int) time.Time {
	return time.Date(2026, 3, day, hour, 0, 0, 0, loc)
}

func TestStreakCountsConsecutiveDays(t *testing.T) {
	loc := time.UTC
	var s State
	s.Advance(daily, at(loc, 1, 9), "UTC", loc)
	s.Advance(daily, at(loc, 1, 22), "UTC", loc) // same day: no change
	s.Advance(daily, at(loc, 2, 8), "UTC", loc)
	if s.Current != 2 || s.Longest != 2 {
		t.Fatalf("after two days: %+v", s)
	}
	ev := s.Advance(daily, at(loc, 3, 8), "UTC", loc)
	if s.Current != 3 || !ev.FreezeEarned || s.Freezes != 1 {
		t.Fatalf("day 3 earns a freeze (every 3): %+v %+v", s, ev)
	}
	// Day 4 missed: the freeze covers it.
	ev = s.Advance(daily, at(loc, 5, 8), "UTC", loc)
	if s.Current != 4 || ev.FreezesUsed != 1 || s.Freezes != 0 || len(s.FrozenDays) != 1 {
		t.Fatalf("gap bridged by a freeze: %+v %+v", s, ev)
	}
	// Two days missed with no freeze: the streak restarts; longest stays.
	ev = s.Advance(daily, at(loc, 8, 8), "UTC", loc)
	if s.Current != 1 || !ev.Reset || s.Longest != 4 {
		t.Fatalf("after a broken streak: %+v %+v", s, ev)
	}
}

// Local days, not UTC days, count: at UTC+14 and UTC-12 the same UTC
// instant falls on different dates.
func TestStreakUsesTheMembersDay(t *testing.T) {
	for _, tz := range []string{"Pacific/Kiritimati", "Etc/GMT+12"} {
		loc := zone(t, tz)
		var s State
		// 23:30 and 00:30 local an hour apart are two days.
		s.Advance(daily, time.Date(2026, 3, 1, 23, 30, 0, 0, loc), tz, loc)
		s.Advance(daily, time.Date(2026, 3, 2, 0, 30, 0, 0, loc), tz, loc)
		if s.Current != 2 {
			t.Errorf("%s: 23:30 then 00:30 local: current %d, want 2", tz, s.Current)
		}
		// 00:30 and 23:30 of one local day are one day.
		var one State
		one.Advance(daily, time.Date(2026, 3, 5, 0, 30, 0, 0, loc), tz, loc)
		one.Advance(daily, time.Date(2026, 3, 5, 23, 30, 0, 0, loc), tz, loc)
		if one.Current != 1 {
			t.Errorf("%s: one local day counted as %d", tz, one.Current)
		}
	}
}

func TestStreakAcrossDSTTransitions(t *testing.T) {
	ny := zone(t, "America/New_York")
	// Spring forward (2026-03-08 has 23 hours) and fall back (2026-11-01 has 25).
	for _, days := range [][3]time.Time{
		{time.Date(2026, 3, 7, 23, 0, 0, 0, ny), time.Date(2026, 3, 8, 23, 30, 0, 0, ny), time.Date(2026, 3, 9, 0, 15, 0, 0, ny)},
		{time.Date(2026, 10, 31, 0, 30, 0, 0, ny), time.Date(2026, 11, 1, 23, 45, 0, 0, ny), time.Date(2026, 11, 2, 0, 5, 0, 0, ny)},
	} {
		var s State
		for _, d := range days {
			s.Advance(daily, d, "America/New_York", ny)
		}
		if s.Current != 3 {
			t.Errorf("three local days around %s counted %d", days[1].Format(time.DateOnly), s.Current)
		}
	}
}

// Moving east or west mid-streak neither grants a free day nor loses one.
func TestStreakTimezoneChange(t *testing.T) {
	tokyo, la := zone(t, "Asia/Tokyo"), zone(t, "America/Los_Angeles")
	// Flying west: kept at 08:00 Tokyo on the 10th, then 20:00 the same
	// evening in LA, which is already the 10th in Tokyo's terms too.
	var west State
	west.Advance(daily, time.Date(2026, 6, 10, 8, 0, 0, 0, tokyo), "Asia/Tokyo", tokyo)
	west.Advance(daily, time.Date(2026, 6, 9, 20, 0, 0, 0, la), "America/Los_Angeles", la)
	if west.Current != 1 {
		t.Errorf("moving west gave a free day: current %d", west.Current)
	}
	west.Advance(daily, time.Date(2026, 6, 10, 20, 0, 0, 0, la), "America/Los_Angeles", la)
	if west.Current != 2 {
		t.Errorf("next LA day: current %d, want 2", west.Current)
	}
	// Flying east: kept at 09:00 LA on the 10th (the 11th in Tokyo), then
	// 23:00 Tokyo on the 12th: the next day as the member lived it.
	var east State
	east.Advance(daily, time.Date(2026, 6, 10, 9, 0, 0, 0, la), "America/Los_Angeles", la)
	east.Advance(daily, time.Date(2026, 6, 12, 23, 0, 0, 0, tokyo), "Asia/Tokyo", tokyo)
	if east.Current != 2 {
		t.Errorf("moving east lost a day: current %d, want 2", east.Current)
	}
}

// A purchase reported late for a missed day repairs the streak, and a day a
// freeze covered gives the freeze back.
func TestStreakLateActivity(t *testing.T) {
	loc := time.UTC
	var s State
	s.Advance(daily, at(loc, 1, 9), "UTC", loc)
	s.Advance(daily, at(loc, 3, 9), "UTC", loc) // day 2 missed: reset
	if s.Current != 1 {
		t.Fatalf("gap: %d", s.Current)
	}
	s.Advance(daily, at(loc, 2, 9), "UTC", loc) // day 2 reported late
	if s.Current != 3 {
		t.Fatalf("after the late report: current %d, want 3", s.Current)
	}
	var f State
	f.Freezes = 1
	f.Advance(daily, at(loc, 1, 9), "UTC", loc)
	f.Advance(daily, at(loc, 3, 9), "UTC", loc) // freeze used on day 2
	f.Advance(daily, at(loc, 2, 9), "UTC", loc)
	if f.Freezes != 1 || len(f.FrozenDays) != 0 || f.Current != 3 {
		t.Fatalf("late report of a frozen day: %+v", f)
	}
}

func TestStreakViewAtRisk(t *testing.T) {
	loc := zone(t, "Europe/Paris")
	var s State
	s.Advance(daily, time.Date(2026, 3, 1, 9, 0, 0, 0, loc), "Europe/Paris", loc)
	if v := s.View(daily, time.Date(2026, 3, 2, 19, 0, 0, 0, loc), loc); v.AtRisk || v.Current != 1 {
		t.Fatalf("19:00 the next day: %+v", v)
	}
	if v := s.View(daily, time.Date(2026, 3, 2, 21, 0, 0, 0, loc), loc); !v.AtRisk {
		t.Fatalf("21:00 the next day, not kept: %+v", v)
	}
	if v := s.View(daily, time.Date(2026, 3, 4, 9, 0, 0, 0, loc), loc); v.Current != 0 {
		t.Fatalf("two days missed, no freeze: %+v", v)
	}
}

func TestWeeklyStreak(t *testing.T) {
	weekly := program.StreakRules{Period: program.StreakWeekly, AtRiskHour: 18}
	loc := time.UTC
	var s State
	s.Advance(weekly, time.Date(2026, 3, 2, 9, 0, 0, 0, loc), "UTC", loc)  // Monday, week 10
	s.Advance(weekly, time.Date(2026, 3, 8, 23, 0, 0, 0, loc), "UTC", loc) // Sunday, same week
	s.Advance(weekly, time.Date(2026, 3, 9, 1, 0, 0, 0, loc), "UTC", loc)  // Monday, week 11
	if s.Current != 2 {
		t.Fatalf("two ISO weeks: %d", s.Current)
	}
	if v := s.View(weekly, time.Date(2026, 3, 22, 19, 0, 0, 0, loc), loc); !v.AtRisk {
		t.Fatalf("Sunday evening of the next week: %+v", v)
	}
}

// Issue 13: a member in New York checks in just after midnight, moves to
// Los Angeles and checks in the next evening (25.5 hours later, the same
// date on the two calendars): the next day as lived, not the same one.
func TestStreakMoveWestKeepsTheNextDay(t *testing.T) {
	ny, la := zone(t, "America/New_York"), zone(t, "America/Los_Angeles")
	var s State
	s.Advance(daily, time.Date(2026, 11, 28, 5, 30, 0, 0, time.UTC), "America/New_York", ny)
	ev := s.Advance(daily, time.Date(2026, 11, 29, 7, 0, 0, 0, time.UTC), "America/Los_Angeles", la)
	if s.Current != 2 || !ev.Extended {
		t.Fatalf("after the move: current %d, extended %v; want 2, true", s.Current, ev.Extended)
	}
	if v := s.View(daily, time.Date(2026, 11, 29, 7, 30, 0, 0, time.UTC), la); !v.KeptToday || v.Current != 2 {
		t.Fatalf("view after the move: %+v", v)
	}
}

// Moves east and west across the date line and across DST: each step is
// the next day the member lived, so each extends by one, and a stay within
// one lived day extends nothing.
func TestStreakMovesAcrossTheDateLineAndDST(t *testing.T) {
	type step struct {
		tz   string
		at   time.Time // UTC
		want int
	}
	for name, steps := range map[string][]step{
		// Kiritimati (UTC+14) to Honolulu (UTC-10): the same dates again.
		"west over the date line": {
			{"Pacific/Kiritimati", time.Date(2026, 6, 10, 10, 0, 0, 0, time.UTC), 1}, // 11th, 00:00
			{"Pacific/Honolulu", time.Date(2026, 6, 10, 20, 0, 0, 0, time.UTC), 1},   // 10th, 10:00: same lived day
			{"Pacific/Honolulu", time.Date(2026, 6, 11, 20, 0, 0, 0, time.UTC), 2},   // 11th, 10:00
			{"Pacific/Honolulu", time.Date(2026, 6, 12, 20, 0, 0, 0, time.UTC), 3},
		},
		// Honolulu to Kiritimati: a date is skipped on the calendar, not in life.
		"east over the date line": {
			{"Pacific/Honolulu", time.Date(2026, 6, 10, 20, 0, 0, 0, time.UTC), 1},   // 10th, 10:00
			{"Pacific/Kiritimati", time.Date(2026, 6, 11, 12, 0, 0, 0, time.UTC), 2}, // 12th, 02:00
			{"Pacific/Kiritimati", time.Date(2026, 6, 12, 12, 0, 0, 0, time.UTC), 3}, // 13th
		},
		// New York to London on the night Europe leaves summer time (25 October
		// 2026), and back.
		"east and back over DST": {
			{"America/New_York", time.Date(2026, 10, 24, 22, 0, 0, 0, time.UTC), 1}, // 24th, 18:00 EDT
			{"Europe/London", time.Date(2026, 10, 25, 23, 30, 0, 0, time.UTC), 2},   // 25th, 23:30 GMT
			{"Europe/London", time.Date(2026, 10, 26, 0, 30, 0, 0, time.UTC), 3},    // 26th, 00:30
			{"America/New_York", time.Date(2026, 10, 26, 2, 0, 0, 0, time.UTC), 3},  // 25th, 22:00 EDT: the same lived day
			{"America/New_York", time.Date(2026, 10, 27, 3, 0, 0, 0, time.UTC), 4},  // 26th, 23:00 EDT
			{"America/New_York", time.Date(2026, 10, 28, 3, 0, 0, 0, time.UTC), 5},  // 27th, 23:00 EDT
			{"America/New_York", time.Date(2026, 10, 30, 4, 30, 0, 0, time.UTC), 1}, // 30th: the 28th and 29th missed
		},
	} {
		var s State
		for i, st := range steps {
			s.Advance(program.StreakRules{Period: program.StreakDaily}, st.at, st.tz, zone(t, st.tz))
			if s.Current != st.want {
				t.Errorf("%s, step %d (%s %s): current %d, want %d", name, i, st.tz, st.at.In(zone(t, st.tz)).Format(time.DateTime), s.Current, st.want)
			}
		}
	}
}

// Hopping from zone to zone to catch one midnight after another makes no
// new day: a new day needs a midnight of the zone the member was last in.
func TestStreakZoneHoppingGainsNothing(t *testing.T) {
	zones := []string{"Europe/London", "America/Sao_Paulo", "America/New_York", "America/Chicago", "America/Denver",
		"America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu", "Pacific/Pago_Pago"}
	var s State
	at := time.Date(2026, 3, 10, 23, 59, 0, 0, time.UTC) // London, 23:59
	s.Advance(daily, at, zones[0], zone(t, zones[0]))
	// Each next zone's midnight is an hour or more later; act just after it.
	for _, tz := range zones[1:] {
		loc := zone(t, tz)
		l := at.In(loc)
		next := time.Date(l.Year(), l.Month(), l.Day()+1, 0, 1, 0, 0, loc)
		if next.Sub(at) > 24*time.Hour {
			next = time.Date(l.Year(), l.Month(), l.Day(), 0, 1, 0, 0, loc)
		}
		s.Advance(daily, next, tz, loc)
	}
	if s.Current > 2 {
		t.Fatalf("hopping across %d zones in a day made a streak of %d", len(zones), s.Current)
	}
}

// LapsesAt is exactly where View starts reading 0: daily and weekly, with
// and without freezes, after a move between zones.
func TestLapsesAtIsWhereViewReadsZero(t *testing.T) {
	ny, la := zone(t, "America/New_York"), zone(t, "America/Los_Angeles")
	weekly := daily
	weekly.Period = program.StreakWeekly
	for _, c := range []struct {
		name  string
		rules program.StreakRules
		build func(s *State)
		loc   *time.Location
	}{
		{"daily", daily, func(s *State) { s.Advance(daily, at(ny, 1, 9), "America/New_York", ny) }, ny},
		{"daily with freezes", daily, func(s *State) {
			for d := 1; d <= 6; d++ {
				s.Advance(daily, at(ny, d, 23), "America/New_York", ny)
			}
		}, ny},
		{"moved west", daily, func(s *State) {
			s.Advance(daily, at(ny, 1, 0), "America/New_York", ny)
			s.Advance(daily, at(la, 1, 23), "America/Los_Angeles", la)
		}, la},
		{"weekly", weekly, func(s *State) { s.Advance(weekly, at(ny, 4, 12), "America/New_York", ny) }, ny},
	} {
		var s State
		c.build(&s)
		lapse := s.LapsesAt(c.rules, c.loc)
		if v := s.View(c.rules, lapse, c.loc); v.Current != 0 {
			t.Errorf("%s: at %v the streak reads %d, want 0", c.name, lapse, v.Current)
		}
		if v := s.View(c.rules, lapse.Add(-time.Nanosecond), c.loc); v.Current != s.Current || s.Current == 0 {
			t.Errorf("%s: just before %v the streak reads %d, want %d", c.name, lapse, v.Current, s.Current)
		}
	}
	if !(State{}).LapsesAt(daily, ny).IsZero() {
		t.Error("a streak never started lapses")
	}
}
