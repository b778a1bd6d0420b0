package game

import (
	"context"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/testkit"
)

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
	testkit.Must(h.CheckIn(ctx, m.ID))(t)
	m.Timezone = "America/Los_Angeles"
	// Within the same lived day, a check-in from the new zone is the first one again.
	h.clock.Set(time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC)) // 27th, 22:00 in LA
	if r := testkit.Must(h.CheckIn(ctx, m.ID))(t); !r.Replayed {
		t.Fatalf("a second check-in within one lived day was counted: %+v", r.Streak)
	}
	h.clock.Set(time.Date(2026, 11, 29, 7, 0, 0, 0, time.UTC)) // 28th, 23:00 in LA
	r := testkit.Must(h.CheckIn(ctx, m.ID))(t)
	if r.Replayed || r.Streak == nil || r.StreakCurrent != 2 || !r.Streak.Extended {
		t.Fatalf("check-in after the move: replayed %v, streak %+v, current %d; want 2, extended", r.Replayed, r.Streak, r.StreakCurrent)
	}
	// Back east the same lived day: nothing new.
	m.Timezone = "America/New_York"
	h.clock.Set(time.Date(2026, 11, 29, 7, 30, 0, 0, time.UTC)) // 29th, 02:30 in New York
	if r := testkit.Must(h.CheckIn(ctx, m.ID))(t); !r.Replayed {
		t.Fatal("moving back east made a new check-in within one lived day")
	}
}
