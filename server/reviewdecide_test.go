package main

import "testing"

// A decision taken from the review queue (moderatePost with pendingReview)
// is made on the item as seen pending: a second moderator deciding the
// same item afterwards, whatever they chose, gets CONFLICT naming the
// first decision and its moderator, and the post stays as decided.
func TestReviewDecisionAfterAnotherIsConflict(t *testing.T) {
	a := startApp(t, nil)
	a.setProgram(t)
	ann, ben := a.signUp(t, "ann@example.com"), a.signUp(t, "ben@example.com")
	mo1, mo2 := a.signUp(t, "mo1@example.com"), a.signUp(t, "mo2@example.com")
	var space, thread, post struct{ ID string }
	a.service(t, createSpaceMutation, map[string]any{"in": map[string]any{"name": "Rides", "moderatorIds": []string{mo1.Member.ID, mo2.Member.ID}}}).decode(t, "createSpace", &space)
	a.do(t, ann.bearer(), createThreadMutation, map[string]any{"s": space.ID, "in": map[string]any{"title": "Sunday", "body": "Who is in?"}}).decode(t, "createThread", &thread)
	a.do(t, ann.bearer(), `mutation($t: ID!) { reply(threadId: $t, input: {body: "Cheap watches here"}) { id } }`, map[string]any{"t": thread.ID}).decode(t, "reply", &post)
	const decide = `mutation($p: ID!, $a: PostAction!) { moderatePost(postId: $p, action: $a, pendingReview: true) { status } }`
	if r := a.do(t, mo1.bearer(), decide, map[string]any{"p": post.ID, "a": "HIDE"}); r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "postId" {
		t.Fatalf("deciding a post not in the queue: %+v", r.Errors)
	}
	a.do(t, ben.bearer(), `mutation($p: ID!) { flagPost(postId: $p, reason: SPAM) { id } }`, map[string]any{"p": post.ID}).decode(t, "flagPost", &struct{}{})
	var hidden struct{ Status string }
	a.do(t, mo1.bearer(), decide, map[string]any{"p": post.ID, "a": "HIDE"}).decode(t, "moderatePost", &hidden)
	if hidden.Status != "HIDDEN" {
		t.Fatalf("hidden from the queue: %s", hidden.Status)
	}
	r := a.do(t, mo2.bearer(), decide, map[string]any{"p": post.ID, "a": "APPROVE"})
	if r.code() != "CONFLICT" || r.Errors[0].Extensions["action"] != "HIDE" || r.Errors[0].Extensions["by"] != "Member mo1@example.com" {
		t.Fatalf("a second decision: %+v", r.Errors)
	}
	var after struct{ Status string }
	a.do(t, mo1.bearer(), `query($id: ID!) { node(id: $id) { ... on Post { status } } }`, map[string]any{"id": post.ID}).decode(t, "node", &after)
	if after.Status != "HIDDEN" {
		t.Fatalf("after the refused approval the post is %s", after.Status)
	}
}
