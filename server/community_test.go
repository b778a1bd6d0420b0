package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/regulars/regulars/graph"
	"github.com/regulars/regulars/internal/testkit"
)

// A thread end to end: the brand opens a space, members post over HTTP, a
// subscriber of the thread sees the reply live over the socket, and a
// silenced member is refused with FORBIDDEN and the silence's end, over
// HTTP and over the socket.
func TestCommunityEndToEnd(t *testing.T) {
	a := startApp(t, nil)
	brand := "ApiKey " + testAPIKey
	ann := a.signUp(t, "ann@example.com")
	ben := a.signUp(t, "ben@example.com")

	var space struct{ ID string }
	a.do(t, brand, `mutation { createSpace(input: {name: "Rides", description: "Sunday rides"}) { id } }`, nil).decode(t, "createSpace", &space)
	var thread struct{ ID string }
	a.do(t, ann.bearer(), `mutation($s: ID!) { createThread(spaceId: $s, input: {title: "Sunday", body: "**Who** is in?"}) { id } }`,
		map[string]any{"s": space.ID}).decode(t, "createThread", &thread)

	c := a.dialWith(t, websocket.Dialer{})
	c.Init(ben.bearer())
	c.Send("subscribe", "t", map[string]any{"query": `subscription($t: ID!) { threadUpdates(threadId: $t) { cursor kind post { number body author { displayName } } } }`,
		"variables": map[string]any{"t": thread.ID}})
	threadID := testkit.Must(graph.DecodeID("Thread", thread.ID))(t)
	testkit.Eventually(t, 5*time.Second, func() bool { return a.community.Feed().Subscribers(threadID) == 1 }, "no live thread subscriber")

	a.do(t, ann.bearer(), `mutation($t: ID!) { reply(threadId: $t, input: {body: "me, and _you_?"}) { number } }`, map[string]any{"t": thread.ID})
	m := c.Expect("next")
	var ev struct {
		Data struct {
			ThreadUpdates struct {
				Kind string
				Post struct {
					Number int
					Body   string
				}
			}
		}
	}
	if err := json.Unmarshal(m.Payload, &ev); err != nil || ev.Data.ThreadUpdates.Kind != "POST_CREATED" || ev.Data.ThreadUpdates.Post.Number != 2 {
		t.Fatalf("thread update: %s %v", m.Payload, err)
	}

	// Posts page oldest first; the markup is stored as text.
	r := a.do(t, ben.bearer(), `query($t: ID!) { posts(threadId: $t, first: 10) { edges { node { number body reactions { reaction count } } } } }`, map[string]any{"t": thread.ID})
	if !strings.Contains(string(r.Data["posts"]), `"body":"**Who** is in?"`) {
		t.Fatalf("posts: %s %v", r.Data["posts"], r.Errors)
	}

	var sanction struct{ Until string }
	a.do(t, brand, `mutation($m: ID!) { sanctionMember(memberId: $m, kind: SILENCE, durationMinutes: 60, reason: "cool down") { until } }`,
		map[string]any{"m": ben.Member.ID}).decode(t, "sanctionMember", &sanction)
	reply := `mutation($t: ID!) { reply(threadId: $t, input: {body: "let me speak"}) { id } }`
	r = a.do(t, ben.bearer(), reply, map[string]any{"t": thread.ID})
	if r.code() != "FORBIDDEN" || r.Errors[0].Extensions["until"] == nil {
		t.Fatalf("silenced reply over HTTP: %+v", r.Errors)
	}
	c.Send("subscribe", "r", map[string]any{"query": reply, "variables": map[string]any{"t": thread.ID}})
	m = c.Expect("next")
	if !strings.Contains(string(m.Payload), `"code":"FORBIDDEN"`) || !strings.Contains(string(m.Payload), `"until"`) {
		t.Fatalf("silenced reply over the socket: %s", m.Payload)
	}
}
