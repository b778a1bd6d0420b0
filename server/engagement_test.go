package main

import (
	"fmt"
	"testing"
)

func TestEngagementEndToEnd(t *testing.T) {
	a := startApp(t, nil)
	a.setProgram(t)
	var badge struct{ ID string }
	a.service(t, `mutation { createBadge(input: {name: "Regular", counter: PURCHASES, levels: [{name: "BRONZE", threshold: 2, bonusPoints: 100}]}) { id } }`, nil).
		decode(t, "createBadge", &badge)

	// The purchase that unlocks a badge says so, with the streak it kept.
	first := a.signUp(t, "first@example.com")
	var unlock struct {
		Streak struct{ Current int }
		Badges []struct {
			Level string
			Badge struct{ Name string }
		}
	}
	a.service(t, recordActivity, purchaseVars(first.Member.ID, "first-1", 1000)).decode(t, "recordActivity", &struct{}{})
	a.service(t, `mutation($in: RecordActivityInput!) { recordActivity(input: $in) { streak { current extended } badges { level badge { name } } } }`,
		purchaseVars(first.Member.ID, "first-2", 1000)).decode(t, "recordActivity", &unlock)
	if unlock.Streak.Current != 1 || len(unlock.Badges) != 1 || unlock.Badges[0].Level != "BRONZE" {
		t.Fatalf("second purchase result: %+v", unlock)
	}

	var members []session
	for i := range 5 {
		s := a.signUp(t, fmt.Sprintf("m%d@example.com", i))
		members = append(members, s)
		// Member i buys i+1 times: 100 points each (10/USD on 10 USD), escalating.
		for j := 0; j <= i; j++ {
			a.service(t, recordActivity, purchaseVars(s.Member.ID, fmt.Sprintf("m%d-%d", i, j), 1000)).decode(t, "recordActivity", &activityResult{})
		}
	}
	top := members[4]
	var me struct {
		Streak struct {
			Current   int
			KeptToday bool
		}
		Badges struct {
			Earned []struct {
				Level string
				Badge struct{ Name string }
			}
		}
	}
	a.do(t, top.bearer(), `{ me { streak { current keptToday atRisk freezes } badges { earned { level badge { name } } inProgress { level current target } } } }`, nil).decode(t, "me", &me)
	if me.Streak.Current != 1 || !me.Streak.KeptToday || len(me.Badges.Earned) != 1 || me.Badges.Earned[0].Badge.Name != "Regular" {
		t.Fatalf("me: %+v", me)
	}

	var lb struct {
		Key   string
		Final bool
		Edges []struct {
			Node struct {
				Rank   int
				Score  int
				IsMe   bool
				Member struct{ DisplayName string }
			}
		}
		PageInfo struct{ HasNextPage bool }
	}
	a.do(t, top.bearer(), `{ leaderboard(period: WEEKLY, first: 3) { key final edges { node { rank score isMe member { displayName } } } pageInfo { hasNextPage } } }`, nil).
		decode(t, "leaderboard", &lb)
	if len(lb.Edges) != 3 || lb.Edges[0].Node.Rank != 1 || !lb.Edges[0].Node.IsMe || lb.Final || !lb.PageInfo.HasNextPage {
		t.Fatalf("leaderboard: %+v", lb)
	}
	var rank struct{ Rank, Score int }
	a.do(t, members[0].bearer(), `{ myRank(period: ALL_TIME) { rank score } }`, nil).decode(t, "myRank", &rank)
	if rank.Rank != 6 { // five members and "first", who bought twice
		t.Fatalf("the smallest spender's rank: %+v", rank)
	}
	var around []struct{ IsMe bool }
	a.do(t, members[2].bearer(), `{ aroundMe(period: MONTHLY, radius: 1) { rank isMe } }`, nil).decode(t, "aroundMe", &around)
	if len(around) != 3 || !around[1].IsMe {
		t.Fatalf("aroundMe: %+v", around)
	}

	// Bad input: a clear error with the right code, and nothing written.
	for _, c := range []struct{ name, auth, query, code string }{
		{"unknown period", top.bearer(), `{ leaderboard(period: DAILY) { key } }`, "BAD_USER_INPUT"},
		{"first over the cap", top.bearer(), `{ leaderboard(period: WEEKLY, first: 1000) { key } }`, "BAD_USER_INPUT"},
		{"badge on an unknown counter", "ApiKey " + testAPIKey, `mutation { createBadge(input: {name: "X", counter: SMILES, levels: [{name: "B", threshold: 1}]}) { id } }`, "BAD_USER_INPUT"},
		{"negative threshold", "ApiKey " + testAPIKey, `mutation { createBadge(input: {name: "X", counter: PURCHASES, levels: [{name: "B", threshold: -1}]}) { id } }`, "BAD_USER_INPUT"},
		{"freeze without points", members[0].bearer(), `mutation { buyStreakFreeze(idempotencyKey: "f") { freezes } }`, "BAD_USER_INPUT"},
		{"customer defining a badge", top.bearer(), `mutation { createBadge(input: {name: "X", counter: PURCHASES, levels: [{name: "B", threshold: 1}]}) { id } }`, "FORBIDDEN"},
	} {
		if r := a.do(t, c.auth, c.query, nil); r.code() != c.code {
			t.Errorf("%s: got %q %+v, want %s", c.name, r.code(), r.Errors, c.code)
		}
	}
	var badges []struct{ Name string }
	a.do(t, top.bearer(), `{ badges { name } }`, nil).decode(t, "badges", &badges)
	if len(badges) != 1 {
		t.Fatalf("refused badges were stored: %+v", badges)
	}
}
