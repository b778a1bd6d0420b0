package main

import (
	"strings"
	"testing"
	"time"
)

// What the console needs of the API (graph/schema/console.graphql), tested
// as any client would use it.

const offerMutation = `mutation($t: String!) { createOffer(input: {title: $t, body: "Come by", benefit: {kind: BONUS_POINTS, value: 50},
  startsAt: "2026-01-01T00:00:00Z", endsAt: "2036-01-01T00:00:00Z"}) { id } }`

type offerPage struct {
	Edges []struct {
		Cursor string
		Node   struct{ ID, Title, Status string }
	}
	PageInfo struct {
		HasNextPage bool
		EndCursor   *string
	}
}

// The brand lists every offer newest first, pages with cursors, filters by
// status; a customer may not list them.
func TestBrandOffersPagesAndFilters(t *testing.T) {
	a := startApp(t, nil)
	a.setProgram(t)
	var ids []string
	for _, title := range []string{"First", "Second", "Third"} {
		var o struct{ ID string }
		a.service(t, offerMutation, map[string]any{"t": title}).decode(t, "createOffer", &o)
		ids = append(ids, o.ID)
	}
	var published struct{ Status string }
	a.service(t, `mutation($id: ID!) { publishOffer(id: $id) { status } }`, map[string]any{"id": ids[1]}).decode(t, "publishOffer", &published)

	const list = `query($s: OfferStatus, $n: Int, $a: String) { brandOffers(status: $s, first: $n, after: $a) {
	  edges { cursor node { id title status } } pageInfo { hasNextPage endCursor } } }`
	var page offerPage
	a.service(t, list, map[string]any{"n": 2}).decode(t, "brandOffers", &page)
	if len(page.Edges) != 2 || page.Edges[0].Node.Title != "Third" || page.Edges[1].Node.Title != "Second" || !page.PageInfo.HasNextPage {
		t.Fatalf("first page: %+v", page)
	}
	var rest offerPage
	a.service(t, list, map[string]any{"n": 2, "a": *page.PageInfo.EndCursor}).decode(t, "brandOffers", &rest)
	if len(rest.Edges) != 1 || rest.Edges[0].Node.ID != ids[0] || rest.PageInfo.HasNextPage {
		t.Fatalf("second page: %+v", rest)
	}
	var drafts offerPage
	a.service(t, list, map[string]any{"s": "DRAFT"}).decode(t, "brandOffers", &drafts)
	if len(drafts.Edges) != 2 || drafts.Edges[0].Node.ID != ids[2] || drafts.Edges[1].Node.ID != ids[0] {
		t.Fatalf("drafts: %+v", drafts)
	}
	if r := a.service(t, list, map[string]any{"s": "DRAFT", "a": "bm90IGEgY3Vyc29y"}); r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "after" {
		t.Fatalf("a foreign cursor: %+v", r.Errors)
	}
	ann := a.signUp(t, "ann@example.com")
	if r := a.do(t, ann.bearer(), list, nil); r.code() != "FORBIDDEN" {
		t.Fatalf("a customer listing the brand's offers: %+v", r.Errors)
	}
}

// The review queue is pushed to a moderator when a post is flagged into it
// and when it is resolved; a member may not watch it. A page of 20 items
// with their first flags fits the default cost limit.
func TestReviewQueueChangedAndFirstFlags(t *testing.T) {
	a := startApp(t, nil)
	a.setProgram(t)
	ann, ben, cat := a.signUp(t, "ann@example.com"), a.signUp(t, "ben@example.com"), a.signUp(t, "cat@example.com")
	// mo moderates the space by appointment (a role granted now would close
	// the sockets mo opens in the next second, see member.EndRolesChanged).
	mo := a.signUp(t, "mo@example.com")
	var space, thread, post struct{ ID string }
	a.service(t, createSpaceMutation, map[string]any{"in": map[string]any{"name": "Rides", "moderatorIds": []string{mo.Member.ID}}}).decode(t, "createSpace", &space)
	a.do(t, ann.bearer(), createThreadMutation, map[string]any{"s": space.ID, "in": map[string]any{"title": "Sunday", "body": "Who is in?"}}).decode(t, "createThread", &thread)
	a.do(t, ann.bearer(), `mutation($t: ID!) { reply(threadId: $t, input: {body: "Cheap watches here"}) { id } }`, map[string]any{"t": thread.ID}).decode(t, "reply", &post)

	const watch = `subscription($s: ID!) { reviewQueueChanged(spaceId: $s) { spaceId pending morePending version } }`
	member := a.dial(t)
	member.Init(ben.bearer())
	member.Send("subscribe", "q", map[string]any{"query": watch, "variables": map[string]any{"s": space.ID}})
	if m := member.Expect("error"); !strings.Contains(string(m.Payload), "FORBIDDEN") {
		t.Fatalf("a member watching the review queue: %s", m.Payload)
	}

	c := a.dial(t)
	c.Init(mo.bearer())
	c.Send("subscribe", "q", map[string]any{"query": watch, "variables": map[string]any{"s": space.ID}})
	if m := expectOn(t, c, `"pending":0`); !strings.Contains(string(m), space.ID) {
		t.Fatalf("the queue at once: %s", m)
	}
	const flag = `mutation($p: ID!, $n: String) { flagPost(postId: $p, reason: SPAM, note: $n) { id } }`
	a.do(t, ben.bearer(), flag, map[string]any{"p": post.ID, "n": "watches"}).decode(t, "flagPost", &struct{}{})
	expectOn(t, c, `"pending":1`)
	a.do(t, cat.bearer(), flag, map[string]any{"p": post.ID, "n": "spam"}).decode(t, "flagPost", &struct{}{})
	// A second flag on the queued post changes its score: a change too.
	m, err := c.Next(10 * time.Second)
	if err != nil || m.Type != "next" || !strings.Contains(string(m.Payload), `"pending":1`) {
		t.Fatalf("after a second flag: %+v %v", m, err)
	}

	// The console's page: 20 items, each with its first 3 flags.
	const page = `query($s: ID!) { reviewQueue(spaceId: $s, first: 20) { edges { node { score flagCount reasons status
	  firstFlags(first: 3) { reason note weight createdAt } author { displayName trustLevel postsLast30Days hiddenRecently }
	  post { id number body status createdAt author { displayName } } } } pageInfo { hasNextPage endCursor } } }`
	var queue struct {
		Edges []struct {
			Node struct {
				FlagCount  int
				FirstFlags []struct{ Reason, Note string }
			}
		}
	}
	a.do(t, mo.bearer(), page, map[string]any{"s": space.ID}).decode(t, "reviewQueue", &queue)
	if len(queue.Edges) != 1 || queue.Edges[0].Node.FlagCount != 2 || len(queue.Edges[0].Node.FirstFlags) != 2 {
		t.Fatalf("the queue page: %+v", queue)
	}
	var one struct {
		Edges []struct {
			Node struct{ FirstFlags []struct{ Note string } }
		}
	}
	a.do(t, mo.bearer(), `query($s: ID!) { reviewQueue(spaceId: $s) { edges { node { firstFlags(first: 1) { note } } } } }`, map[string]any{"s": space.ID}).decode(t, "reviewQueue", &one)
	if len(one.Edges) != 1 || len(one.Edges[0].Node.FirstFlags) != 1 {
		t.Fatalf("firstFlags(first: 1): %+v", one)
	}
	if r := a.do(t, mo.bearer(), `query($s: ID!) { reviewQueue(spaceId: $s) { edges { node { firstFlags(first: 0) { note } } } } }`, map[string]any{"s": space.ID}); r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "first" {
		t.Fatalf("firstFlags(first: 0): %+v", r.Errors)
	}

	a.do(t, mo.bearer(), `mutation($p: ID!) { moderatePost(postId: $p, action: HIDE, reason: "ads") { status } }`, map[string]any{"p": post.ID}).decode(t, "moderatePost", &struct{}{})
	expectOn(t, c, `"pending":0`)
}

// A member's profile (member(id)) carries their redemptions, RSVPs and
// community standing, paged with cursors, for the brand; door staff, who
// see members through attendee lists, get FORBIDDEN on them.
func TestMemberProfileRecords(t *testing.T) {
	a := startApp(t, nil)
	a.setProgram(t)
	ann := a.signUp(t, "ann@example.com")
	first, _ := a.redeemed(t, ann, "mug-1", nil)
	second, _ := a.redeemed(t, ann, "mug-2", nil)
	ride := a.publishedEvent(t, nil)
	walk := a.publishedEvent(t, func(in map[string]any) { in["title"] = "Walk" })
	a.rsvp(t, ann, ride, 0, "ride-1")
	a.rsvp(t, ann, walk, 0, "walk-1")

	const profile = `query($id: ID!, $ra: String, $ea: String) { member(id: $id) {
	  redemptions(first: 1, after: $ra) { edges { cursor node { id status } } pageInfo { hasNextPage endCursor } }
	  rsvps(first: 1, after: $ea) { edges { node { status event { id title } } } pageInfo { hasNextPage endCursor } }
	  communityStanding { trustLevel postsLast30Days hiddenRecently sanctions { kind } } } }`
	type page struct {
		Redemptions struct {
			Edges []struct {
				Node struct{ ID, Status string }
			}
			PageInfo struct {
				HasNextPage bool
				EndCursor   string
			}
		}
		Rsvps struct {
			Edges []struct {
				Node struct {
					Status string
					Event  struct{ ID, Title string }
				}
			}
			PageInfo struct {
				HasNextPage bool
				EndCursor   string
			}
		}
		CommunityStanding *struct {
			TrustLevel      int
			PostsLast30Days int
			Sanctions       []struct{ Kind string }
		}
	}
	var p1, p2 page
	a.service(t, profile, map[string]any{"id": ann.Member.ID}).decode(t, "member", &p1)
	if len(p1.Redemptions.Edges) != 1 || p1.Redemptions.Edges[0].Node.ID != second || !p1.Redemptions.PageInfo.HasNextPage {
		t.Fatalf("first page of redemptions: %+v", p1.Redemptions)
	}
	if len(p1.Rsvps.Edges) != 1 || p1.Rsvps.Edges[0].Node.Event.ID != walk || p1.Rsvps.Edges[0].Node.Status != "CONFIRMED" || !p1.Rsvps.PageInfo.HasNextPage {
		t.Fatalf("first page of RSVPs: %+v", p1.Rsvps)
	}
	if p1.CommunityStanding == nil || p1.CommunityStanding.PostsLast30Days != 0 || len(p1.CommunityStanding.Sanctions) != 0 {
		t.Fatalf("standing: %+v", p1.CommunityStanding)
	}
	a.service(t, profile, map[string]any{"id": ann.Member.ID, "ra": p1.Redemptions.PageInfo.EndCursor, "ea": p1.Rsvps.PageInfo.EndCursor}).decode(t, "member", &p2)
	if len(p2.Redemptions.Edges) != 1 || p2.Redemptions.Edges[0].Node.ID != first || p2.Redemptions.PageInfo.HasNextPage {
		t.Fatalf("second page of redemptions: %+v", p2.Redemptions)
	}
	if len(p2.Rsvps.Edges) != 1 || p2.Rsvps.Edges[0].Node.Event.ID != ride || p2.Rsvps.PageInfo.HasNextPage {
		t.Fatalf("second page of RSVPs: %+v", p2.Rsvps)
	}
	if r := a.service(t, profile, map[string]any{"id": ann.Member.ID, "ea": p1.Redemptions.PageInfo.EndCursor}); r.code() != "BAD_USER_INPUT" {
		t.Fatalf("a redemptions cursor given to rsvps: %+v", r.Errors)
	}

	// The member reads their own.
	var mine struct {
		Redemptions struct{ Edges []struct{ Cursor string } }
	}
	a.do(t, ann.bearer(), `{ me { redemptions { edges { cursor } } } }`, nil).decode(t, "me", &mine)
	if len(mine.Redemptions.Edges) != 2 {
		t.Fatalf("ann's own redemptions: %+v", mine)
	}

	// Door staff greet ann by name when they check her in, and reach
	// nothing else of her: not the member, so none of her records.
	door := a.staff(t, "door@example.com")
	a.soon(t, ride) // the door is open
	code := a.myRsvp(t, ann, ride).CheckInCode
	r := a.do(t, door.bearer(), `mutation($e: ID!, $c: String!) { checkInAttendee(eventId: $e, code: $c) { status attendeeName member { displayName
	  redemptions { edges { cursor } } rsvps { edges { cursor } } communityStanding { trustLevel } } } }`, map[string]any{"e": ride, "c": *code})
	if len(r.Errors) != 0 || !strings.Contains(string(r.Data["checkInAttendee"]), `"attendeeName":"Member ann@example.com"`) ||
		!strings.Contains(string(r.Data["checkInAttendee"]), `"member":null`) {
		t.Fatalf("the check-in by door staff: %s %+v", r.Data["checkInAttendee"], r.Errors)
	}
}
