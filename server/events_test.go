package main

import (
	"testing"
	"time"
)

// eventInput is a valid event (a venue, three days ahead, 50 seats, one
// guest each); change edits it.
func eventInput(change func(in map[string]any)) map[string]any {
	start := time.Now().UTC().Add(72 * time.Hour).Truncate(time.Minute)
	in := map[string]any{"title": "Spring ride", "place": map[string]any{"venue": "HOG Club", "address": "1 Main St"},
		"startsAt": start.Format(time.RFC3339), "endsAt": start.Add(3 * time.Hour).Format(time.RFC3339),
		"timezone": "Europe/Paris", "capacity": 50, "guestsPerMember": 1}
	if change != nil {
		change(in)
	}
	return in
}

const createEventMutation = `mutation($in: EventInput!) { createEvent(input: $in) { id } }`

// publishedEvent creates and publishes an event as the brand; its id.
func (a *app) publishedEvent(t testing.TB, change func(in map[string]any)) string {
	t.Helper()
	var e struct{ ID, Status string }
	a.service(t, createEventMutation, map[string]any{"in": eventInput(change)}).decode(t, "createEvent", &e)
	a.service(t, `mutation($id: ID!) { publishEvent(id: $id) { status } }`, map[string]any{"id": e.ID}).decode(t, "publishEvent", &e)
	if e.Status != "PUBLISHED" {
		t.Fatalf("publish: %+v", e)
	}
	return e.ID
}

// sendEvent creates an event with one field changed (the probes of the
// text and bounds tables).
func sendEvent(change func(in map[string]any, v any)) func(a *app, t testing.TB, v any) *gqlResponse {
	return func(a *app, t testing.TB, v any) *gqlResponse {
		return a.service(t, createEventMutation, map[string]any{"in": eventInput(func(in map[string]any) { change(in, v) })})
	}
}

func sendPlace(field string) func(a *app, t testing.TB, v any) *gqlResponse {
	return sendEvent(func(in map[string]any, v any) { in["place"].(map[string]any)[field] = v })
}

const rsvpMutation = `mutation($id: ID!, $g: Int, $k: String!) { rsvp(eventId: $id, guests: $g, idempotencyKey: $k) { status guests position } }`
