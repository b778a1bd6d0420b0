package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Every Node type, refetched with node(id:) by its owner, by another member
// and by the brand, sees exactly what the type's own queries show each of
// them; nodes(ids:) answers the same in one call.
func TestNodeRefetchFollowsEachTypesAccess(t *testing.T) {
	a := startApp(t, nil)
	a.setProgram(t)
	ann := a.signUp(t, "ann@example.com")
	bob := a.signUp(t, "bob@example.com")
	brand := "ApiKey " + testAPIKey
	now := time.Now().UTC()

	var inbox struct {
		Edges []struct{ Node struct{ ID string } }
	}
	a.do(t, ann.bearer(), `{ notifications(first: 1) { edges { node { id } } } }`, nil).decode(t, "notifications", &inbox)

	var purchase struct {
		Activity struct{ ID string }
		Entries  []struct{ ID string }
	}
	a.service(t, `mutation($in: RecordActivityInput!) { recordActivity(input: $in) { activity { id } entries { id } } }`,
		purchaseVars(ann.Member.ID, "order-1", 5000)).decode(t, "recordActivity", &purchase)

	var reward, hiddenReward, redemption, badge, secretBadge, offer, standing struct{ ID string }
	a.service(t, `mutation { createReward(input: {name: "Coffee", cost: 100}) { id } }`, nil).decode(t, "createReward", &reward)
	a.service(t, `mutation { createReward(input: {name: "Draft", cost: 100, active: false}) { id } }`, nil).decode(t, "createReward", &hiddenReward)
	a.do(t, ann.bearer(), `mutation($id: ID!) { redeemReward(rewardId: $id, idempotencyKey: "r1") { id } }`,
		map[string]any{"id": reward.ID}).decode(t, "redeemReward", &redemption)
	a.service(t, `mutation { createBadge(input: {name: "Regular", counter: PURCHASES, levels: [{name: "BRONZE", threshold: 50}]}) { id } }`, nil).decode(t, "createBadge", &badge)
	a.service(t, `mutation { createBadge(input: {name: "Night owl", counter: CHECK_INS, secret: true, levels: [{name: "BRONZE", threshold: 50}]}) { id } }`, nil).decode(t, "createBadge", &secretBadge)
	a.service(t, `mutation($s: DateTime!, $e: DateTime!, $ann: ID!) { createOffer(input: {title: "For Ann", body: "Only her",
	  benefit: {kind: PERCENT_OFF, value: 10}, startsAt: $s, endsAt: $e, target: {memberIds: [$ann]}}) { id } }`,
		map[string]any{"s": now.Add(-time.Minute).Format(time.RFC3339), "e": now.Add(48 * time.Hour).Format(time.RFC3339), "ann": ann.Member.ID}).decode(t, "createOffer", &offer)
	a.service(t, `mutation($id: ID!) { publishOffer(id: $id) { id } }`, map[string]any{"id": offer.ID}).decode(t, "publishOffer", &struct{}{})
	var rank struct{ Member struct{ ID string } }
	a.do(t, ann.bearer(), `{ myRank(period: ALL_TIME) { member { id } } }`, nil).decode(t, "myRank", &rank)
	standing.ID = rank.Member.ID

	cases := []struct {
		typ, id                string
		owner, outsider, brand bool
	}{
		{"Member", ann.Member.ID, true, false, true},
		{"PublicMember", standing.ID, true, true, true},
		{"Notification", inbox.Edges[0].Node.ID, true, false, false}, // the inbox is private: no query shows it to the brand
		{"Activity", purchase.Activity.ID, true, false, true},
		{"LedgerEntry", purchase.Entries[0].ID, true, false, true},
		{"Reward", reward.ID, true, true, true},
		{"Reward", hiddenReward.ID, false, false, true}, // inactive: the catalog shows it to the brand only
		{"Redemption", redemption.ID, true, false, true},
		{"Badge", badge.ID, true, true, true},
		{"Badge", secretBadge.ID, false, false, true}, // secret until earned
		{"Offer", offer.ID, true, false, true},        // only Ann is targeted
	}
	callers := []struct {
		name, auth string
		sees       func(c int) bool
	}{
		{"owner", ann.bearer(), func(c int) bool { return cases[c].owner }},
		{"outsider", bob.bearer(), func(c int) bool { return cases[c].outsider }},
		{"brand", brand, func(c int) bool { return cases[c].brand }},
	}
	const node = `query($id: ID!) { node(id: $id) { __typename id } }`
	ids := make([]string, len(cases))
	for i, c := range cases {
		ids[i] = c.id
	}
	for _, who := range callers {
		for i, c := range cases {
			r := a.do(t, who.auth, node, map[string]any{"id": c.id})
			var got *struct{ Typename, ID string }
			if err := json.Unmarshal(r.Data["node"], &got); err != nil {
				t.Fatalf("%s: %s", c.typ, r.Data["node"])
			}
			if who.sees(i) {
				if len(r.Errors) > 0 || got == nil || got.ID != c.id {
					t.Errorf("%s refetching %s %d: %s %+v", who.name, c.typ, i, r.Data["node"], r.Errors)
				}
			} else if got != nil || r.code() != "NOT_FOUND" {
				t.Errorf("%s refetching %s %d: want null and NOT_FOUND, got %s %+v", who.name, c.typ, i, r.Data["node"], r.Errors)
			}
		}
		// nodes: the same answers, in order, each refusal at its index.
		r := a.do(t, who.auth, `query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`, map[string]any{"ids": ids})
		var got []*struct{ ID string }
		if err := json.Unmarshal(r.Data["nodes"], &got); err != nil || len(got) != len(cases) {
			t.Fatalf("%s: nodes = %s %+v", who.name, r.Data["nodes"], r.Errors)
		}
		refused := map[string]bool{}
		for _, e := range r.Errors {
			if e.Extensions["code"] != "NOT_FOUND" {
				t.Errorf("%s: nodes error %+v", who.name, e)
			}
			refused[fmt.Sprint(e.Path)] = true
		}
		for i, c := range cases {
			visible := got[i] != nil && got[i].ID == c.id
			if visible != who.sees(i) || refused[fmt.Sprintf("[nodes %d]", i)] == who.sees(i) {
				t.Errorf("%s: nodes[%d] (%s) = %+v, errors %+v", who.name, i, c.typ, got[i], r.Errors)
			}
		}
	}

	// Fragments on the concrete type: what a client refetch query selects.
	var m struct{ Email string }
	a.do(t, ann.bearer(), `query($id: ID!) { node(id: $id) { id ... on Member { email } } }`, map[string]any{"id": ann.Member.ID}).decode(t, "node", &m)
	if m.Email != "ann@example.com" {
		t.Errorf("node as Member: %+v", m)
	}
	// Once Ann leaves public boards, others no longer see her public face.
	a.do(t, ann.bearer(), `mutation { setLeaderboardOptOut(optOut: true) }`, nil).decode(t, "setLeaderboardOptOut", new(bool))
	if r := a.do(t, bob.bearer(), node, map[string]any{"id": standing.ID}); r.code() != "NOT_FOUND" {
		t.Errorf("an opted-out member's PublicMember: %+v", r)
	}
	if r := a.do(t, ann.bearer(), node, map[string]any{"id": standing.ID}); len(r.Errors) > 0 {
		t.Errorf("her own PublicMember: %+v", r.Errors)
	}
	if r := a.do(t, "", node, map[string]any{"id": ann.Member.ID}); r.code() != "UNAUTHENTICATED" {
		t.Errorf("node without signing in: %+v", r)
	}
}

func TestNodesRefusesBadIDsAndTooMany(t *testing.T) {
	a := startApp(t, nil)
	ann := a.signUp(t, "ann@example.com")
	const nodes = `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`
	for _, c := range []struct {
		ids   []string
		field string
	}{
		{[]string{ann.Member.ID, "not-an-id"}, "ids[1]"},
		{[]string{"TWVtYmVyOnh5eg"}, "ids[0]"},                              // "Member:xyz"
		{[]string{"VW5rbm93bjo2NTYwMDAwMDAwMDAwMDAwMDAwMDAwMDA"}, "ids[0]"}, // a type that is not a Node
		{slices100(ann.Member.ID, 101), "ids"},
	} {
		r := a.do(t, ann.bearer(), nodes, map[string]any{"ids": c.ids})
		if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != c.field {
			t.Errorf("%d ids (%.30v): %+v", len(c.ids), c.ids, r.Errors)
		}
	}
	if r := a.do(t, ann.bearer(), `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": "bm9wZQ"}); r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "id" {
		t.Errorf("node with a malformed id: %+v", r.Errors)
	}
	var got []struct{ ID string }
	a.do(t, ann.bearer(), nodes, map[string]any{"ids": slices100(ann.Member.ID, 100)}).decode(t, "nodes", &got)
	if len(got) != 100 || got[99].ID != ann.Member.ID {
		t.Errorf("100 ids: %d nodes", len(got))
	}
}

func slices100(id string, n int) []string {
	return strings.Split(strings.TrimSuffix(strings.Repeat(id+",", n), ","), ",")
}

// Forward paging fills all four PageInfo fields.
func TestPageInfoForwardPaging(t *testing.T) {
	a := startApp(t, nil)
	ann := a.signUp(t, "ann@example.com") // one WELCOME
	for i := range 4 {
		a.service(t, `mutation($id: ID!, $t: String!) { sendNotification(memberId: $id, title: $t, body: "b") { id } }`,
			map[string]any{"id": ann.Member.ID, "t": fmt.Sprint("n", i)}).decode(t, "sendNotification", &struct{}{})
	}
	type page struct {
		Edges    []struct{ Cursor string }
		PageInfo struct {
			HasNextPage, HasPreviousPage bool
			StartCursor, EndCursor       *string
		}
	}
	const q = `query($after: String) { notifications(first: 2, after: $after) { edges { cursor } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`
	var after any
	var pages []page
	for len(pages) < 5 {
		var p page
		a.do(t, ann.bearer(), q, map[string]any{"after": after}).decode(t, "notifications", &p)
		pages = append(pages, p)
		if !p.PageInfo.HasNextPage {
			break
		}
		after = *p.PageInfo.EndCursor
	}
	if len(pages) != 3 {
		t.Fatalf("5 notifications by 2: %d pages", len(pages))
	}
	for i, p := range pages {
		info := p.PageInfo
		if info.HasPreviousPage != (i > 0) || info.HasNextPage != (i < 2) ||
			*info.StartCursor != p.Edges[0].Cursor || *info.EndCursor != p.Edges[len(p.Edges)-1].Cursor {
			t.Errorf("page %d: %+v", i, p)
		}
	}
	var empty page
	last := *pages[2].PageInfo.EndCursor
	a.do(t, ann.bearer(), q, map[string]any{"after": last}).decode(t, "notifications", &empty)
	if len(empty.Edges) != 0 || empty.PageInfo.StartCursor != nil || empty.PageInfo.EndCursor != nil || empty.PageInfo.HasNextPage || !empty.PageInfo.HasPreviousPage {
		t.Errorf("past the end: %+v", empty)
	}
}
