package main

import (
	"bytes"
	"context"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/server/demo"
)

// waitDemo waits for the demo seeding of a and fails on its error. The
// wait is a hang guard, not a speed target (BENCHMARKS.md has the times):
// on a busy 2-core machine seeding alone has taken five minutes.
func waitDemo(t *testing.T, a *app) {
	t.Helper()
	select {
	case <-a.demoDone:
	case <-time.After(12 * time.Minute):
		t.Fatal("demo seeding did not finish")
	}
	if a.demoErr != nil {
		t.Fatalf("demo seeding: %v", a.demoErr)
	}
}

func TestDemoSeedsALivingBrandOnce(t *testing.T) {
	var out bytes.Buffer
	a := startApp(t, map[string]string{"SEED_DEMO": "1"}, func(m *Main) { m.DemoOut = &out })
	waitDemo(t, a)

	type board struct {
		Edges []struct {
			Node struct {
				Rank   int
				Score  int
				Member struct{ DisplayName string }
			}
		}
	}
	const leaderboard = `query($p: LeaderboardPeriod!) { leaderboard(period: $p, first: 100) { edges { node { rank score member { displayName } } } } }`
	var all board
	a.service(t, leaderboard, map[string]any{"p": "ALL_TIME"}).decode(t, "leaderboard", &all)
	if len(all.Edges) != demo.MemberCount || all.Edges[0].Node.Rank != 1 || all.Edges[0].Node.Score <= all.Edges[demo.MemberCount-1].Node.Score {
		t.Fatalf("all-time leaderboard after the demo: %d members, %+v", len(all.Edges), all.Edges)
	}
	var month board
	a.service(t, leaderboard, map[string]any{"p": "MONTHLY"}).decode(t, "leaderboard", &month)
	if len(month.Edges) >= demo.MemberCount {
		t.Fatalf("this month's board should leave out the lapsed members: %d", len(month.Edges))
	}

	// The printed credentials work and carry their roles.
	brandPW := regexp.MustCompile(`BRAND +` + regexp.QuoteMeta(demo.BrandEmail) + ` +(\S+)`).FindStringSubmatch(out.String())
	if brandPW == nil {
		t.Fatalf("demo output lacks the BRAND login:\n%s", out.String())
	}
	var brand session
	a.do(t, "", `mutation($e: String!, $p: String!) { logIn(input: {email: $e, password: $p}) { accessToken member { id roles } } }`,
		map[string]any{"e": demo.BrandEmail, "p": brandPW[1]}).decode(t, "logIn", &brand)
	if len(brand.Member.Roles) != 2 || brand.Member.Roles[1] != "BRAND" {
		t.Fatalf("demo BRAND account roles: %v", brand.Member.Roles)
	}
	// The demo MODERATOR has something to moderate: the demo's space, with
	// the spam reply its members flagged pending in the review queue.
	modPW := regexp.MustCompile(`MODERATOR +moderator@\S+ +(\S+)`).FindStringSubmatch(out.String())
	if modPW == nil {
		t.Fatalf("demo output lacks the MODERATOR login:\n%s", out.String())
	}
	var mod session
	a.do(t, "", `mutation($e: String!, $p: String!) { logIn(input: {email: $e, password: $p}) { accessToken member { id roles } } }`,
		map[string]any{"e": "moderator@demo.regulars.example", "p": modPW[1]}).decode(t, "logIn", &mod)
	var spaces struct {
		Edges []struct{ Node struct{ ID, Name string } }
	}
	a.do(t, mod.bearer(), `{ spaces(first: 20) { edges { node { id name } } } }`, nil).decode(t, "spaces", &spaces)
	if len(spaces.Edges) != 1 || spaces.Edges[0].Node.Name != demo.DemoSpace {
		t.Fatalf("demo spaces: %+v", spaces.Edges)
	}
	var queue struct {
		Edges []struct {
			Node struct {
				FlagCount int
				Post      struct{ Body string }
			}
		}
	}
	a.do(t, mod.bearer(), `query($s: ID!) { reviewQueue(spaceId: $s) { edges { node { flagCount post { body } } } } }`,
		map[string]any{"s": spaces.Edges[0].Node.ID}).decode(t, "reviewQueue", &queue)
	if len(queue.Edges) != 1 || queue.Edges[0].Node.FlagCount != 2 || !strings.Contains(queue.Edges[0].Node.Post.Body, "BUY CHEAP") {
		t.Fatalf("the demo MODERATOR's review queue: %+v", queue.Edges)
	}
	var threads struct {
		Edges []struct{ Node struct{ Title string } }
	}
	a.do(t, mod.bearer(), `query($s: ID!) { threads(spaceId: $s, first: 20) { edges { node { title } } } }`,
		map[string]any{"s": spaces.Edges[0].Node.ID}).decode(t, "threads", &threads)
	if len(threads.Edges) != 2 {
		t.Fatalf("demo threads: %+v", threads.Edges)
	}

	// A member sees their points, a tier and a full inbox.
	var ava session
	a.do(t, "", `mutation($e: String!, $p: String!) { logIn(input: {email: $e, password: $p}) { accessToken member { id } } }`,
		map[string]any{"e": demo.MemberEmail(0), "p": demo.MemberPassword}).decode(t, "logIn", &ava)
	// Ava's ledger, as the API pages it (newest first by its sequence), is
	// in time order too: her check-ins of the last days come after her
	// purchases of the days before, not after her last purchase.
	var ledger struct {
		Points struct {
			Ledger struct {
				Edges []struct{ Node struct{ CreatedAt time.Time } }
			}
		}
	}
	a.do(t, ava.bearer(), `{ me { points { ledger(first: 100) { edges { node { createdAt } } } } } }`, nil).decode(t, "me", &ledger)
	es := ledger.Points.Ledger.Edges
	if len(es) < 7 {
		t.Fatalf("Ava's ledger has %d entries", len(es))
	}
	for i := 1; i < len(es); i++ {
		if es[i].Node.CreatedAt.After(es[i-1].Node.CreatedAt) {
			t.Fatalf("Ava's ledger is not newest first: entry %d at %s comes after one at %s", i, es[i].Node.CreatedAt, es[i-1].Node.CreatedAt)
		}
	}

	var me struct {
		Points struct{ Balance int }
		Tier   struct{ Current struct{ Name string } }
	}
	a.do(t, ava.bearer(), `{ me { points { balance } tier { current { name } } } }`, nil).decode(t, "me", &me)
	var inbox struct {
		Edges []struct{ Node struct{ Kind string } }
	}
	a.do(t, ava.bearer(), `{ notifications(first: 50) { edges { node { kind } } } }`, nil).decode(t, "notifications", &inbox)
	if me.Points.Balance <= 0 || len(inbox.Edges) < 3 {
		t.Fatalf("demo member: %+v, %d notifications", me, len(inbox.Edges))
	}
	// Ava shops most weeks (four purchases) and checked in the last three
	// days: every level of the purchases badge, the check-ins badge and a
	// streak, each told in her inbox.
	var engaged struct {
		Badges struct {
			Earned []struct {
				Badge struct{ Name string }
				Level string
			}
		}
		Streak struct{ Current int }
	}
	a.do(t, ava.bearer(), `{ me { badges { earned { badge { name } level } } streak { current } } }`, nil).decode(t, "me", &engaged)
	var earned []string
	for _, e := range engaged.Badges.Earned {
		earned = append(earned, e.Badge.Name+" "+e.Level)
	}
	for _, want := range []string{"Regular BRONZE", "Regular SILVER", "Regular GOLD", "Early bird BRONZE"} {
		if !slices.Contains(earned, want) {
			t.Fatalf("demo member's badges %v lack %s", earned, want)
		}
	}
	unlocked := 0
	for _, e := range inbox.Edges {
		if e.Node.Kind == "BADGE_UNLOCKED" {
			unlocked++
		}
	}
	if engaged.Streak.Current < 1 || unlocked != len(earned) {
		t.Fatalf("demo member: streak %d, %d badge notifications for %d levels", engaged.Streak.Current, unlocked, len(earned))
	}

	// A second run on the same database adds nothing.
	db := a.mongo.Database(a.Config.MongoDatabase)
	// Not the ledger nor the inbox: the jobs' campaigns add to them on their own.
	collections := []string{"members", "activities", "rewards", "badges", "offers", "redemptions", "accounts",
		"community_spaces", "community_threads", "community_posts", "community_flags"}
	count := func() map[string]int64 {
		n := map[string]int64{}
		for _, c := range collections {
			var err error
			if n[c], err = db.Collection(c).CountDocuments(context.Background(), bson.D{}); err != nil {
				t.Fatal(err)
			}
		}
		return n
	}
	before := count()
	var again bytes.Buffer
	b := startApp(t, map[string]string{"SEED_DEMO": "1", "MONGODB_DATABASE": a.Config.MongoDatabase}, func(m *Main) {
		m.DemoOut = &again
	})
	waitDemo(t, b)
	if after := count(); !maps.Equal(before, after) {
		t.Fatalf("a second demo run changed the database: before %v, after %v", before, after)
	}
	if !bytes.Contains(again.Bytes(), []byte("already")) || bytes.Contains(again.Bytes(), []byte(brandPW[1])) {
		t.Fatalf("second run output:\n%s", again.String())
	}

	// A run stopped before its end (here: before the BRAND account, made
	// last) is finished by the next, later one: every step is keyed, and
	// the purchases' times come from the first run, so none is refused as
	// another input under its key.
	if _, err := db.Collection("members").DeleteOne(context.Background(), bson.D{{Key: "email", Value: demo.BrandEmail}}); err != nil {
		t.Fatal(err)
	}
	var resumed bytes.Buffer
	c := startApp(t, map[string]string{"SEED_DEMO": "1", "MONGODB_DATABASE": a.Config.MongoDatabase}, func(m *Main) {
		m.DemoOut = &resumed
	})
	waitDemo(t, c)
	if after := count(); !maps.Equal(before, after) {
		t.Fatalf("finishing a stopped demo run added more than its BRAND account: before %v, after %v", before, after)
	}
	if !bytes.Contains(resumed.Bytes(), []byte(demo.BrandEmail)) {
		t.Fatalf("the finishing run did not print the new BRAND login:\n%s", resumed.String())
	}
}
