package main

import (
	"testing"
)

// A moderator reads a queued post's author from the review queue, silences
// them in the space (they cannot reply), sees the silence in the author's
// history, and lifts it (they reply again); lifting it twice is NOT_FOUND
// and a member may not lift one.
func TestSanctionFromTheReviewQueueAndLift(t *testing.T) {
	a := startApp(t, nil)
	a.setProgram(t)
	ann, ben := a.signUp(t, "ann@example.com"), a.signUp(t, "ben@example.com")
	mo := a.signUp(t, "mo@example.com")
	var space, thread, post struct{ ID string }
	a.service(t, createSpaceMutation, map[string]any{"in": map[string]any{"name": "Rides", "moderatorIds": []string{mo.Member.ID}}}).decode(t, "createSpace", &space)
	a.do(t, ann.bearer(), createThreadMutation, map[string]any{"s": space.ID, "in": map[string]any{"title": "Sunday", "body": "Who is in?"}}).decode(t, "createThread", &thread)
	const reply = `mutation($t: ID!, $b: String!) { reply(threadId: $t, input: {body: $b}) { id } }`
	a.do(t, ann.bearer(), reply, map[string]any{"t": thread.ID, "b": "Cheap watches here"}).decode(t, "reply", &post)
	a.do(t, ben.bearer(), `mutation($p: ID!) { flagPost(postId: $p, reason: SPAM) { id } }`, map[string]any{"p": post.ID}).decode(t, "flagPost", &struct{}{})

	const queue = `query($s: ID!) { reviewQueue(spaceId: $s) { edges { node { author { memberId displayName sanctions { kind until reason spaceId } } } } } }`
	type page struct {
		Edges []struct {
			Node struct {
				Author struct {
					MemberID, DisplayName string
					Sanctions             []struct{ Kind, Reason, SpaceID string }
				}
			}
		}
	}
	var before page
	a.do(t, mo.bearer(), queue, map[string]any{"s": space.ID}).decode(t, "reviewQueue", &before)
	if len(before.Edges) != 1 || before.Edges[0].Node.Author.MemberID != ann.Member.ID || len(before.Edges[0].Node.Author.Sanctions) != 0 {
		t.Fatalf("the queue before: %+v", before)
	}
	author := before.Edges[0].Node.Author.MemberID
	a.do(t, mo.bearer(), `mutation($m: ID!, $s: ID) { sanctionMember(memberId: $m, spaceId: $s, kind: SILENCE, durationMinutes: 60, reason: "spam") { until } }`,
		map[string]any{"m": author, "s": space.ID}).decode(t, "sanctionMember", &struct{}{})
	if r := a.do(t, ann.bearer(), reply, map[string]any{"t": thread.ID, "b": "Still here"}); r.code() != "FORBIDDEN" {
		t.Fatalf("a silenced member replies: %+v", r.Errors)
	}
	var after page
	a.do(t, mo.bearer(), queue, map[string]any{"s": space.ID}).decode(t, "reviewQueue", &after)
	if s := after.Edges[0].Node.Author.Sanctions; len(s) != 1 || s[0].Kind != "SILENCE" || s[0].Reason != "spam" || s[0].SpaceID != space.ID {
		t.Fatalf("the author's sanctions: %+v", after)
	}

	const lift = `mutation($m: ID!, $s: ID) { liftSanction(memberId: $m, spaceId: $s, kind: SILENCE, reason: "apologised") { kind until } }`
	if r := a.do(t, ben.bearer(), lift, map[string]any{"m": author, "s": space.ID}); r.code() != "FORBIDDEN" {
		t.Fatalf("a member lifts a sanction: %+v", r.Errors)
	}
	var lifted struct{ Kind string }
	a.do(t, mo.bearer(), lift, map[string]any{"m": author, "s": space.ID}).decode(t, "liftSanction", &lifted)
	if lifted.Kind != "SILENCE" {
		t.Fatalf("lifted: %+v", lifted)
	}
	a.do(t, ann.bearer(), reply, map[string]any{"t": thread.ID, "b": "Sorry, all"}).decode(t, "reply", &struct{}{})
	a.do(t, mo.bearer(), queue, map[string]any{"s": space.ID}).decode(t, "reviewQueue", &after)
	if s := after.Edges[0].Node.Author.Sanctions; len(s) != 0 {
		t.Fatalf("sanctions after the lift: %+v", s)
	}
	if r := a.do(t, mo.bearer(), lift, map[string]any{"m": author, "s": space.ID}); r.code() != "NOT_FOUND" {
		t.Fatalf("lifting again: %+v", r.Errors)
	}
}
