package main

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/testkit"
)

const analyticsEngagement = `query($r: AnalyticsRange!, $b: LeaderboardPeriod!) { analytics { engagement(range: $r, boards: $b) {
  asOf documentsRead from to activeMembers activePosters posterRate
  streaks { members buckets { min max members } }
  badges { badgeId name level unlocks }
  leaderboards { board from to participants activeMembers rate }
  events { eventId title seated attended noShows attendanceRate }
  eventTotals { eventId seated confirmed attended noShows waitlisted cancelled attendanceRate noShowRate } } } }`

type engagementAnswer struct {
	Engagement struct {
		AsOf                         *time.Time
		DocumentsRead                int
		From, To                     string
		ActiveMembers, ActivePosters int
		PosterRate                   *float64
		Streaks                      struct {
			Members int
			Buckets []struct {
				Min     int
				Max     *int
				Members int
			}
		}
		Badges []struct {
			BadgeID, Name, Level string
			Unlocks              int
		}
		Leaderboards []struct {
			Board, From, To             string
			Participants, ActiveMembers int
			Rate                        *float64
		}
		EventTotals struct {
			EventID                                                     *string
			Seated, Confirmed, Attended, NoShows, Waitlisted, Cancelled int
		}
	}
}

// The brand reads engagement through the API and as CSV with the same
// numbers: two members buying earn a badge level each, start a streak and
// score on this month's board; a member is refused, and a board period
// other than WEEKLY or MONTHLY names boards.
func TestAnalyticsEngagementThroughTheAPI(t *testing.T) {
	a := startApp(t, nil)
	var badge struct{ ID string }
	a.service(t, `mutation { createBadge(input: {name: "First order", counter: PURCHASES, levels: [{name: "BRONZE", threshold: 1}]}) { id } }`, nil).decode(t, "createBadge", &badge)
	ann := a.signUp(t, "ann@example.com")
	bob := a.signUp(t, "bob@example.com")
	a.service(t, recordActivity, purchaseVars(ann.Member.ID, "order-1", 4250))
	a.service(t, recordActivity, purchaseVars(bob.Member.ID, "order-2", 1999))
	testkit.Must(a.analytics.Refresh(context.Background()))(t)

	now := time.Now().UTC()
	from, to := now.AddDate(0, -1, 0).Format(time.DateOnly), now.Format(time.DateOnly)
	vars := map[string]any{"r": map[string]any{"from": from, "to": to}, "b": "MONTHLY"}
	var got engagementAnswer
	a.service(t, analyticsEngagement, vars).decode(t, "analytics", &got)
	e := got.Engagement
	if e.AsOf == nil || e.ActiveMembers != 2 || e.ActivePosters != 0 || e.PosterRate == nil || *e.PosterRate != 0 {
		t.Fatalf("engagement: %+v", e)
	}
	if e.Streaks.Members != 2 || len(e.Streaks.Buckets) != 9 || e.Streaks.Buckets[1].Min != 1 || e.Streaks.Buckets[1].Members != 2 || e.Streaks.Buckets[8].Max != nil {
		t.Errorf("streaks: %+v", e.Streaks)
	}
	if len(e.Badges) != 1 || e.Badges[0].BadgeID != badge.ID || e.Badges[0].Name != "First order" || e.Badges[0].Level != "BRONZE" || e.Badges[0].Unlocks != 2 {
		t.Errorf("badges: %+v", e.Badges)
	}
	board := e.Leaderboards[len(e.Leaderboards)-1]
	if board.Board != "MONTHLY:"+now.Format("2006-01") || board.Participants != 2 || board.ActiveMembers != 2 || board.Rate == nil || *board.Rate != 1 {
		t.Errorf("this month's board: %+v", board)
	}
	if tot := e.EventTotals; tot.EventID != nil || tot.Seated != 0 {
		t.Errorf("event totals: %+v", tot)
	}

	// The CSV tables repeat the API, cell by cell.
	q := "?from=" + from + "&to=" + to
	_, rows := a.exportCSV(t, "ApiKey "+testAPIKey, "/analytics/export/engagement.csv"+q)
	if len(rows) != 2 {
		t.Fatalf("engagement.csv: %v", rows)
	}
	cell := map[string]string{}
	for i, h := range rows[0] {
		cell[h] = rows[1][i]
	}
	for col, want := range map[string]string{"from": from, "to": to, "active_members": strconv.Itoa(e.ActiveMembers), "active_posters": "0", "poster_rate": "0",
		"streak_members": strconv.Itoa(e.Streaks.Members), "seated": "0", "attendance_rate": ""} {
		if cell[col] != want {
			t.Errorf("engagement.csv %s = %q, the API says %q", col, cell[col], want)
		}
	}
	_, rows = a.exportCSV(t, "ApiKey "+testAPIKey, "/analytics/export/streaks.csv"+q)
	if len(rows) != len(e.Streaks.Buckets)+1 {
		t.Fatalf("streaks.csv: %v", rows)
	}
	for i, b := range e.Streaks.Buckets {
		max := ""
		if b.Max != nil {
			max = strconv.Itoa(*b.Max)
		}
		if r := rows[i+1]; r[0] != strconv.Itoa(b.Min) || r[1] != max || r[2] != strconv.Itoa(b.Members) {
			t.Errorf("streaks.csv row %v, the API says %+v", r, b)
		}
	}
	_, rows = a.exportCSV(t, "ApiKey "+testAPIKey, "/analytics/export/badge-unlocks.csv"+q)
	if len(rows) != 2 || rows[1][0] != "First order" || rows[1][1] != "BRONZE" || rows[1][2] != "2" {
		t.Errorf("badge-unlocks.csv: %v", rows)
	}
	_, rows = a.exportCSV(t, "ApiKey "+testAPIKey, "/analytics/export/leaderboards.csv"+q+"&boards=MONTHLY")
	if len(rows) != len(e.Leaderboards)+1 {
		t.Fatalf("leaderboards.csv: %v", rows)
	}
	for i, b := range e.Leaderboards {
		rate := ""
		if b.Rate != nil {
			rate = strconv.FormatFloat(*b.Rate, 'f', -1, 64)
		}
		if r := rows[i+1]; r[0] != b.Board || r[1] != b.From || r[2] != b.To || r[3] != strconv.Itoa(b.Participants) || r[4] != strconv.Itoa(b.ActiveMembers) || r[5] != rate {
			t.Errorf("leaderboards.csv row %v, the API says %+v", r, b)
		}
	}
	if code, _ := a.exportCSV(t, "ApiKey "+testAPIKey, "/analytics/export/leaderboards.csv"+q+"&boards=ALL_TIME"); code != http.StatusBadRequest {
		t.Errorf("boards=ALL_TIME: %d, want 400", code)
	}

	if r := a.do(t, ann.bearer(), analyticsEngagement, vars); r.code() != "FORBIDDEN" {
		t.Errorf("a member reading engagement: %+v", r)
	}
	vars["b"] = "ALL_TIME"
	if r := a.service(t, analyticsEngagement, vars); r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "boards" {
		t.Errorf("boards ALL_TIME: %+v", r)
	}
	_ = bob
}
