package game

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/internal/testkit"
)

// One check-in per member per local day, whoever reports it: the app's
// checkIn and the brand's CHECK_IN activity, in either order or at once,
// credit the day's points once; the second answers as a replay.
func TestOneCheckInPerLocalDayWhoeverReportsIt(t *testing.T) {
	h := newHarness(t, nil) // 5 points a check-in
	ctx := context.Background()
	m := h.members.add("ann@example.com")
	m.Timezone = "America/Los_Angeles"
	h.clock.Set(time.Date(2026, 11, 29, 7, 45, 0, 0, time.UTC)) // 23:45 on the 28th in Los Angeles

	app := testkit.Must(h.CheckIn(ctx, m.ID, false))(t)
	// The till reports a visit at 10:00 local time that day: the 28th in
	// UTC too, where the app's check-in was already the 29th.
	till := testkit.Must(h.RecordActivity(ctx, ActivityInput{MemberID: m.ID, Kind: program.ActivityCheckIn, ExternalID: "till-77",
		OccurredAt: time.Date(2026, 11, 28, 18, 0, 0, 0, time.UTC)}))(t)
	if app.Points() != 5 || app.Replayed || !till.Replayed || till.Points() != 5 || till.Activity.ID != app.Activity.ID {
		t.Fatalf("app then till the same local day: app %d points (replayed %v), till %d (replayed %v)", app.Points(), app.Replayed, till.Points(), till.Replayed)
	}
	if got := h.points(t, m).Balance; got != 5 {
		t.Fatalf("balance after two reports of one check-in: %d, want 5", got)
	}

	// The next local day, both race: one credit.
	h.clock.Add(24 * time.Hour)
	res := testkit.Race(t, 10, func(i int) error {
		if i < 5 {
			_, err := h.CheckIn(ctx, m.ID, false)
			return err
		}
		_, err := h.RecordActivity(ctx, ActivityInput{MemberID: m.ID, Kind: program.ActivityCheckIn, ExternalID: fmt.Sprintf("till-78-%d", i), OccurredAt: h.clock.Now()})
		return err
	})
	res.Expect(t) // every report answered, as the day's check-in or its replay
	if res.OK() != 10 {
		t.Fatalf("racing reports: %d answered", res.OK())
	}
	if got := h.points(t, m).Balance; got != 10 {
		t.Fatalf("balance after a second day reported twice at once: %d, want 10", got)
	}
	h.checkLedger(t, m)
}

// Issue 13: a member in New York checks in, moves to Los Angeles and checks
// in again the next evening, which is the same date on the two calendars:
// the streak goes on (2, extended) instead of the check-in being taken for
// the first one again.
func TestCheckInAfterMovingWestExtendsTheStreak(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	m := h.members.add("ann@example.com")
	m.Timezone = "America/New_York"
	h.clock.Set(time.Date(2026, 11, 28, 5, 30, 0, 0, time.UTC))
	testkit.Must(h.CheckIn(ctx, m.ID, false))(t)
	m.Timezone = "America/Los_Angeles"
	// Within the same lived day, a check-in from the new zone is the first one again.
	h.clock.Set(time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC)) // 27th, 22:00 in LA
	if r := testkit.Must(h.CheckIn(ctx, m.ID, false))(t); !r.Replayed {
		t.Fatalf("a second check-in within one lived day was counted: %+v", r.Streak)
	}
	h.clock.Set(time.Date(2026, 11, 29, 7, 0, 0, 0, time.UTC)) // 28th, 23:00 in LA
	r := testkit.Must(h.CheckIn(ctx, m.ID, false))(t)
	if r.Replayed || r.Streak == nil || r.StreakCurrent != 2 || !r.Streak.Extended {
		t.Fatalf("check-in after the move: replayed %v, streak %+v, current %d; want 2, extended", r.Replayed, r.Streak, r.StreakCurrent)
	}
	// Back east the same lived day: nothing new.
	m.Timezone = "America/New_York"
	h.clock.Set(time.Date(2026, 11, 29, 7, 30, 0, 0, time.UTC)) // 29th, 02:30 in New York
	if r := testkit.Must(h.CheckIn(ctx, m.ID, false))(t); !r.Replayed {
		t.Fatal("moving back east made a new check-in within one lived day")
	}
}
