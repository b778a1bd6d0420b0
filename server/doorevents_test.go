package main

import (
	"slices"
	"testing"
	"time"
)

// The door's list is by start, soonest first, whatever the order the
// events were created in, and pages on by its cursors; a cursor of
// another list is refused on after.
func TestDoorEventsBySoonestStart(t *testing.T) {
	a := startApp(t, nil)
	a.setProgram(t)
	startIn := func(title string, d time.Duration) func(in map[string]any) {
		return func(in map[string]any) {
			start := time.Now().UTC().Add(d).Truncate(time.Minute)
			in["title"], in["startsAt"], in["endsAt"] = title, start.Format(time.RFC3339), start.Add(2*time.Hour).Format(time.RFC3339)
		}
	}
	a.publishedEvent(t, startIn("In four days", 96*time.Hour))
	a.publishedEvent(t, startIn("Tomorrow", 24*time.Hour))
	a.publishedEvent(t, startIn("In two days", 48*time.Hour))
	const q = `query($a: String) { doorEvents(first: 2, after: $a) { edges { node { title } } pageInfo { hasNextPage endCursor } } }`
	type conn struct {
		Edges    []struct{ Node struct{ Title string } }
		PageInfo struct {
			HasNextPage bool
			EndCursor   *string
		}
	}
	var titles []string
	var after *string
	for range 3 {
		var c conn
		a.service(t, q, map[string]any{"a": after}).decode(t, "doorEvents", &c)
		for _, e := range c.Edges {
			titles = append(titles, e.Node.Title)
		}
		if !c.PageInfo.HasNextPage {
			break
		}
		after = c.PageInfo.EndCursor
	}
	if want := []string{"Tomorrow", "In two days", "In four days"}; !slices.Equal(titles, want) {
		t.Fatalf("the door's list: %v, want %v", titles, want)
	}
	if r := a.service(t, q, map[string]any{"a": "bm90IGEgY3Vyc29y"}); r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "after" {
		t.Fatalf("a foreign cursor: %+v", r.Errors)
	}
}
