package main

import (
	"strings"
	"testing"
	"time"
)

// With the live views' poll set to an hour, what this instance changes
// still reaches the watchers: a flag and a moderator's decision reach the
// review queue's watch, and publishing reaches the offer's watch up to
// PUBLISHED. Only the local signal (internal/livepoll) can carry them.
func TestLiveViewsWokenByLocalChanges(t *testing.T) {
	a := startApp(t, nil, func(m *Main) { m.livePoll = time.Hour })
	a.setProgram(t)
	ann, ben := a.signUp(t, "ann@example.com"), a.signUp(t, "ben@example.com")
	mo := a.signUp(t, "mo@example.com")
	var space, thread, post struct{ ID string }
	a.service(t, createSpaceMutation, map[string]any{"in": map[string]any{"name": "Rides", "moderatorIds": []string{mo.Member.ID}}}).decode(t, "createSpace", &space)
	a.do(t, ann.bearer(), createThreadMutation, map[string]any{"s": space.ID, "in": map[string]any{"title": "Sunday", "body": "Who is in?"}}).decode(t, "createThread", &thread)
	a.do(t, ann.bearer(), `mutation($t: ID!) { reply(threadId: $t, input: {body: "Cheap watches here"}) { id } }`, map[string]any{"t": thread.ID}).decode(t, "reply", &post)

	q := a.dial(t)
	q.Init(mo.bearer())
	q.Send("subscribe", "q", map[string]any{"query": `subscription($s: ID!) { reviewQueueChanged(spaceId: $s) { pending } }`, "variables": map[string]any{"s": space.ID}})
	expectOn(t, q, `"pending":0`)
	a.do(t, ben.bearer(), `mutation($p: ID!) { flagPost(postId: $p, reason: SPAM) { id } }`, map[string]any{"p": post.ID}).decode(t, "flagPost", &struct{}{})
	expectOn(t, q, `"pending":1`)
	a.do(t, mo.bearer(), `mutation($p: ID!) { moderatePost(postId: $p, action: HIDE, reason: "ads") { status } }`, map[string]any{"p": post.ID}).decode(t, "moderatePost", &struct{}{})
	expectOn(t, q, `"pending":0`)

	var o struct{ ID string }
	a.service(t, offerMutation, map[string]any{"t": "Launch"}).decode(t, "createOffer", &o)
	c := a.dial(t)
	c.Init("ApiKey " + testAPIKey)
	c.Send("subscribe", "o", map[string]any{"query": `subscription($id: ID!) { offerProgress(id: $id) { status progress { processed total } } }`,
		"variables": map[string]any{"id": o.ID}})
	expectOn(t, c, `"status":"DRAFT"`)
	a.service(t, `mutation($id: ID!) { publishOffer(id: $id) { status } }`, map[string]any{"id": o.ID}).decode(t, "publishOffer", &struct{}{})
	if m := expectOn(t, c, `"status":"PUBLISHED"`); !strings.Contains(string(m), `"processed":3`) {
		t.Fatalf("published: %s", m)
	}
	if done, err := c.Next(10 * time.Second); err != nil || done.Type != "complete" {
		t.Fatalf("after PUBLISHED: %+v %v", done, err)
	}
}
