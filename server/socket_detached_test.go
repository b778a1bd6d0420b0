package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/fasthttp/websocket"
)

// A subscription keeps only its request while idle and executes it again
// for each notification it sends (request.StreamHooks): every result still
// follows the request as the client wrote it, with its operation name,
// variables, aliases and fields that have resolvers of their own, also when
// the client sent the query as a persisted query's hash alone.
func TestSubscriptionResultsFollowTheKeptRequest(t *testing.T) {
	a := startApp(t, nil)
	ann := a.signUp(t, "ann@example.com")
	const query = `subscription Inbox($after: String, $withRead: Boolean!) { mine: notifications(after: $after) { heading: title cursor read @include(if: $withRead) } }
query Other { me { email } }`
	sum := sha256.Sum256([]byte(query))
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
	vars := map[string]any{"after": nil, "withRead": true}

	c := a.dialWith(t, websocket.Dialer{})
	c.Init(ann.bearer())
	// With its text, the hash is registered; then the hash alone names it.
	c.Send("subscribe", "text", map[string]any{"query": query, "operationName": "Inbox", "variables": vars, "extensions": ext})
	a.waitSubscribers(t, ann.Member.ID, 1)
	c.Send("subscribe", "hash", map[string]any{"operationName": "Inbox", "variables": vars, "extensions": ext})
	a.waitSubscribers(t, ann.Member.ID, 2)

	send := func(title string) {
		a.do(t, "ApiKey "+testAPIKey, `mutation($id: ID!, $t: String!) { sendNotification(memberId: $id, title: $t, body: "b") { id } }`,
			map[string]any{"id": ann.Member.ID, "t": title}).decode(t, "sendNotification", &struct{}{})
	}
	send("one")
	send("two")
	got := map[string][]string{}
	for range 4 {
		m := c.Expect("next")
		var r struct {
			Data struct {
				Mine struct {
					Heading, Cursor string
					Read            *bool
				}
			}
			Errors []any
		}
		if err := json.Unmarshal(m.Payload, &r); err != nil || len(r.Errors) > 0 || r.Data.Mine.Cursor == "" || r.Data.Mine.Read == nil || *r.Data.Mine.Read {
			t.Fatalf("%s: %s (%v)", m.ID, m.Payload, err)
		}
		got[m.ID] = append(got[m.ID], r.Data.Mine.Heading)
	}
	for _, id := range []string{"text", "hash"} {
		if len(got[id]) != 2 || got[id][0] != "one" || got[id][1] != "two" {
			t.Errorf("subscription %s received %v, want [one two]", id, got[id])
		}
	}
}
