package main

import (
	"strings"
	"testing"
	"time"
)

// The brand watches an offer's publishing over the socket: the draft at
// once, then its progress up to PUBLISHED, and the subscription completes;
// a customer may not watch, and an unknown offer is NOT_FOUND.
func TestOfferProgressSubscription(t *testing.T) {
	a := startApp(t, nil)
	a.setProgram(t)
	ann := a.signUp(t, "ann@example.com")
	a.signUp(t, "ben@example.com")
	var o struct{ ID string }
	a.service(t, offerMutation, map[string]any{"t": "Launch"}).decode(t, "createOffer", &o)

	const watch = `subscription($id: ID!) { offerProgress(id: $id) { id status progress { processed notified total } } }`
	member := a.dial(t)
	member.Init(ann.bearer())
	member.Send("subscribe", "o", map[string]any{"query": watch, "variables": map[string]any{"id": o.ID}})
	if m := member.Expect("error"); !strings.Contains(string(m.Payload), "FORBIDDEN") {
		t.Fatalf("a customer watching an offer: %s", m.Payload)
	}

	c := a.dial(t)
	c.Init("ApiKey " + testAPIKey)
	c.Send("subscribe", "gone", map[string]any{"query": watch, "variables": map[string]any{"id": "T2ZmZXI6NjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw"}})
	if m := c.Expect("error"); !strings.Contains(string(m.Payload), "NOT_FOUND") {
		t.Fatalf("an unknown offer: %s", m.Payload)
	}
	c.Send("subscribe", "o", map[string]any{"query": watch, "variables": map[string]any{"id": o.ID}})
	if m := expectOn(t, c, `"status":"DRAFT"`); !strings.Contains(string(m), o.ID) {
		t.Fatalf("the offer at once: %s", m)
	}
	var published struct{ Status string }
	a.service(t, `mutation($id: ID!) { publishOffer(id: $id) { status } }`, map[string]any{"id": o.ID}).decode(t, "publishOffer", &published)
	m := expectOn(t, c, `"status":"PUBLISHED"`)
	if !strings.Contains(string(m), `"processed":2`) || !strings.Contains(string(m), `"total":2`) {
		t.Fatalf("published: %s", m)
	}
	done, err := c.Next(10 * time.Second)
	if err != nil || done.Type != "complete" || done.ID != "o" {
		t.Fatalf("after PUBLISHED: %+v %v", done, err)
	}
}
