package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/testkit"
)

// refusedOnAfter reports whether r is refused as a user's bad input on the
// argument after, and nothing else (no data for the list).
func refusedOnAfter(r *gqlResponse) bool {
	return len(r.Errors) == 1 && r.code() == "BAD_USER_INPUT" && r.Errors[0].Extensions["field"] == "after"
}

// A cursor pages the list it came from only: a weekly board's cursor is
// refused on the monthly board, one member's ledger cursor on another
// member's ledger, one webhook's delivery cursor on another webhook's
// deliveries, each with BAD_USER_INPUT naming after; on their own list
// they page on.
func TestCursorsAreTiedToTheirList(t *testing.T) {
	a := startApp(t, nil)
	a.setProgram(t)
	hooks := make([]struct {
		Webhook struct{ ID string }
	}, 2)
	for i := range hooks {
		a.service(t, `mutation { createWebhook(url: "http://127.0.0.1:9/hook", events: ["activity.recorded"]) { webhook { id } } }`, nil).
			decode(t, "createWebhook", &hooks[i])
	}
	ann, bob := a.signUp(t, "ann@example.com"), a.signUp(t, "bob@example.com")
	for i, s := range []session{ann, ann, bob, bob} {
		a.service(t, recordActivity, purchaseVars(s.Member.ID, fmt.Sprint("c-", i), 1000*(i+1))).decode(t, "recordActivity", &activityResult{})
	}
	type page struct {
		Edges    []struct{ Cursor string }
		PageInfo struct {
			HasNextPage bool
			EndCursor   string
		}
	}

	// Leaderboards: the weekly board's cursor on the monthly board.
	var weekly page
	a.do(t, ann.bearer(), `{ leaderboard(period: WEEKLY, first: 1) { edges { cursor } pageInfo { hasNextPage endCursor } } }`, nil).decode(t, "leaderboard", &weekly)
	if !weekly.PageInfo.HasNextPage {
		t.Fatalf("weekly board: %+v", weekly)
	}
	board := `query($p: LeaderboardPeriod!, $after: String) { leaderboard(period: $p, first: 1, after: $after) { edges { cursor } } }`
	if r := a.do(t, ann.bearer(), board, map[string]any{"p": "MONTHLY", "after": weekly.PageInfo.EndCursor}); !refusedOnAfter(r) {
		t.Errorf("weekly cursor on the monthly board: %+v %s", r.Errors, r.Data["leaderboard"])
	}
	var next page
	a.do(t, ann.bearer(), board, map[string]any{"p": "WEEKLY", "after": weekly.PageInfo.EndCursor}).decode(t, "leaderboard", &next)
	if len(next.Edges) != 1 {
		t.Errorf("weekly cursor on the weekly board: %+v", next)
	}

	// Ledgers: ann's cursor on bob's ledger, read by the brand.
	ledger := `query($id: ID!, $after: String) { member(id: $id) { points { ledger(first: 1, after: $after) { edges { cursor } pageInfo { hasNextPage endCursor } } } } }`
	var m struct{ Points struct{ Ledger page } }
	a.service(t, ledger, map[string]any{"id": ann.Member.ID}).decode(t, "member", &m)
	if !m.Points.Ledger.PageInfo.HasNextPage {
		t.Fatalf("ann's ledger: %+v", m.Points.Ledger)
	}
	annCursor := m.Points.Ledger.PageInfo.EndCursor
	if r := a.service(t, ledger, map[string]any{"id": bob.Member.ID, "after": annCursor}); !refusedOnAfter(r) {
		t.Errorf("ann's ledger cursor on bob's ledger: %+v %s", r.Errors, r.Data["member"])
	}
	a.service(t, ledger, map[string]any{"id": ann.Member.ID, "after": annCursor}).decode(t, "member", &m)
	if len(m.Points.Ledger.Edges) != 1 {
		t.Errorf("ann's cursor on her ledger: %+v", m.Points.Ledger)
	}

	// Webhook deliveries: the first webhook's cursor on the second's.
	deliveries := `query($id: ID!, $after: String) { webhookDeliveries(webhookId: $id, first: 1, after: $after) { edges { cursor } pageInfo { hasNextPage endCursor } } }`
	var ds page
	testkit.Eventually(t, 10*time.Second, func() bool {
		a.service(t, deliveries, map[string]any{"id": hooks[0].Webhook.ID}).decode(t, "webhookDeliveries", &ds)
		return ds.PageInfo.HasNextPage
	}, "the first webhook's deliveries: %+v", ds)
	if r := a.service(t, deliveries, map[string]any{"id": hooks[1].Webhook.ID, "after": ds.PageInfo.EndCursor}); !refusedOnAfter(r) {
		t.Errorf("the first webhook's cursor on the second's deliveries: %+v %s", r.Errors, r.Data["webhookDeliveries"])
	}
	var more page
	a.service(t, deliveries, map[string]any{"id": hooks[0].Webhook.ID, "after": ds.PageInfo.EndCursor}).decode(t, "webhookDeliveries", &more)
	if len(more.Edges) != 1 {
		t.Errorf("the first webhook's cursor on its deliveries: %+v", more)
	}
}

// An event's attendees page per status: a cursor of the confirmed list is
// refused in the waitlist (BAD_USER_INPUT on after), and accepted in its own.
func TestAttendeeCursorsAreTiedToTheirStatus(t *testing.T) {
	a := startApp(t, nil)
	a.setProgram(t)
	ann, bob, cat, dan := a.signUp(t, "ann@example.com"), a.signUp(t, "bob@example.com"), a.signUp(t, "cat@example.com"), a.signUp(t, "dan@example.com")
	id := a.publishedEvent(t, func(in map[string]any) { in["capacity"] = 2 })
	for _, s := range []session{ann, bob, cat, dan} {
		a.rsvp(t, s, id, 0, "k")
	}
	const q = `query($id: ID!, $s: RSVPStatus!, $after: String) { event(id: $id) { attendees(status: $s, first: 1, after: $after) { edges { cursor } pageInfo { hasNextPage endCursor } } } }`
	type page struct {
		Attendees struct {
			Edges    []struct{ Cursor string }
			PageInfo struct {
				HasNextPage bool
				EndCursor   string
			}
		}
	}
	var confirmed page
	a.service(t, q, map[string]any{"id": id, "s": "CONFIRMED"}).decode(t, "event", &confirmed)
	if !confirmed.Attendees.PageInfo.HasNextPage {
		t.Fatalf("confirmed: %+v, want a first page of two", confirmed)
	}
	if r := a.service(t, q, map[string]any{"id": id, "s": "WAITLISTED", "after": confirmed.Attendees.PageInfo.EndCursor}); !refusedOnAfter(r) {
		t.Fatalf("a confirmed cursor in the waitlist: %+v", r.Errors)
	}
	var next page
	a.service(t, q, map[string]any{"id": id, "s": "CONFIRMED", "after": confirmed.Attendees.PageInfo.EndCursor}).decode(t, "event", &next)
	if len(next.Attendees.Edges) != 1 || next.Attendees.PageInfo.HasNextPage {
		t.Fatalf("the confirmed list's second page: %+v", next)
	}
}
