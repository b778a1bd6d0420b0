package main

import "testing"

// A review item carries its post's context: the thread (title and id, to
// link to it) and what the post answers: the quoted post for a quote, the
// thread's first post for a plain reply, nothing for a first post. The
// moderator sees the words of an answered post that is hidden.
func TestReviewItemPostContext(t *testing.T) {
	a := startApp(t, nil)
	a.setProgram(t)
	ann, ben, cat := a.signUp(t, "ann@example.com"), a.signUp(t, "ben@example.com"), a.signUp(t, "cat@example.com")
	mo := a.signUp(t, "mo@example.com")
	var space, thread, opener, plain, quoting struct{ ID string }
	a.service(t, createSpaceMutation, map[string]any{"in": map[string]any{"name": "Rides", "moderatorIds": []string{mo.Member.ID}}}).decode(t, "createSpace", &space)
	a.do(t, ann.bearer(), createThreadMutation, map[string]any{"s": space.ID, "in": map[string]any{"title": "Sunday ride", "body": "Who is in?"}}).decode(t, "createThread", &thread)
	var first struct {
		Edges []struct{ Node struct{ ID string } }
	}
	a.do(t, ann.bearer(), `query($t: ID!) { posts(threadId: $t, first: 1) { edges { node { id } } } }`, map[string]any{"t": thread.ID}).decode(t, "posts", &first)
	opener.ID = first.Edges[0].Node.ID
	const reply = `mutation($t: ID!, $b: String!, $q: ID) { reply(threadId: $t, input: {body: $b}, quoteId: $q) { id } }`
	a.do(t, ben.bearer(), reply, map[string]any{"t": thread.ID, "b": "Cheap watches here"}).decode(t, "reply", &plain)
	a.do(t, cat.bearer(), reply, map[string]any{"t": thread.ID, "b": "Buy them all", "q": plain.ID}).decode(t, "reply", &quoting)

	const flag = `mutation($p: ID!) { flagPost(postId: $p, reason: SPAM) { id } }`
	a.do(t, cat.bearer(), flag, map[string]any{"p": opener.ID}).decode(t, "flagPost", &struct{}{})
	a.do(t, ann.bearer(), flag, map[string]any{"p": plain.ID}).decode(t, "flagPost", &struct{}{})
	a.do(t, ann.bearer(), flag, map[string]any{"p": quoting.ID}).decode(t, "flagPost", &struct{}{})
	// The quoted post is hidden: the moderator still reads it in context.
	a.do(t, mo.bearer(), `mutation($p: ID!) { moderatePost(postId: $p, action: HIDE, reason: "ads") { status } }`, map[string]any{"p": plain.ID}).decode(t, "moderatePost", &struct{}{})

	var queue struct {
		Edges []struct {
			Node struct {
				Post      struct{ ID string }
				Thread    *struct{ ID, Title string }
				InReplyTo *struct {
					ID, Status string
					Number     int
					Body       *string
				}
			}
		}
	}
	a.do(t, mo.bearer(), `query($s: ID!) { reviewQueue(spaceId: $s, first: 20) { edges { node { post { id } thread { id title } inReplyTo { id number status body } } } } }`,
		map[string]any{"s": space.ID}).decode(t, "reviewQueue", &queue)
	if len(queue.Edges) != 2 {
		t.Fatalf("pending items: %+v", queue.Edges)
	}
	for _, e := range queue.Edges {
		n := e.Node
		if n.Thread == nil || n.Thread.ID != thread.ID || n.Thread.Title != "Sunday ride" {
			t.Fatalf("the thread of %s: %+v", n.Post.ID, n.Thread)
		}
		switch n.Post.ID {
		case opener.ID:
			if n.InReplyTo != nil {
				t.Fatalf("a first post answers nothing: %+v", n.InReplyTo)
			}
		case quoting.ID:
			if r := n.InReplyTo; r == nil || r.ID != plain.ID || r.Status != "HIDDEN" || r.Body == nil || *r.Body != "Cheap watches here" {
				t.Fatalf("a quote answers the quoted post: %+v", r)
			}
		default:
			t.Fatalf("unexpected item %s", n.Post.ID)
		}
	}

	var resolved struct {
		Edges []struct {
			Node struct {
				InReplyTo *struct {
					ID     string
					Number int
				}
			}
		}
	}
	a.do(t, mo.bearer(), `query($s: ID!) { reviewQueue(spaceId: $s, status: RESOLVED) { edges { node { inReplyTo { id number } } } } }`,
		map[string]any{"s": space.ID}).decode(t, "reviewQueue", &resolved)
	if len(resolved.Edges) != 1 || resolved.Edges[0].Node.InReplyTo == nil || resolved.Edges[0].Node.InReplyTo.ID != opener.ID || resolved.Edges[0].Node.InReplyTo.Number != 1 {
		t.Fatalf("a plain reply answers the thread's first post: %+v", resolved.Edges)
	}
}
