package main

import (
	"context"
	"testing"
	"time"

	"github.com/regulars/regulars/game/effects"
	"github.com/regulars/regulars/webhook"
)

// heldActivities holds the activity.recorded event of each activity (the
// effects path's step after the leaderboards, before the notifications)
// until the test sends on release (one send, one event), telling entered
// that one is held.
type heldActivities struct {
	next    effects.Webhooks
	entered chan struct{}
	release chan struct{}
}

func (h *heldActivities) Emit(ctx context.Context, e webhook.Event) error {
	if e.Type == webhook.ActivityRecorded {
		h.entered <- struct{}{}
		select {
		case <-h.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return h.next.Emit(ctx, e)
}

// answered posts a GraphQL request in the background and returns its answer.
func answered(a *app, auth, query string, vars map[string]any) <-chan *gqlResponse {
	out := make(chan *gqlResponse, 1)
	go func() {
		r, err := a.post(auth, query, vars)
		if err != nil {
			r = &gqlResponse{Errors: []gqlError{{Message: err.Error()}}}
		}
		out <- r
	}()
	return out
}

// A purchase that does not ask for its streak or badges is answered once
// its points are written; the rest of its effects follow. A read by the
// member made after the answer still sees them: it waits for them on this
// instance. One that asks for its streak is answered after them all.
func TestPurchaseAnswersFirstAndReadsSeeItsEffects(t *testing.T) {
	held := &heldActivities{entered: make(chan struct{}, 4), release: make(chan struct{})}
	defer close(held.release) // a failed test lets the effects go
	a := startApp(t, nil, func(m *Main) {
		m.heldEffects = func(next effects.Webhooks) effects.Webhooks { held.next = next; return held }
	})
	a.setProgram(t)
	ann := a.signUp(t, "ann@example.com")
	const purchase = `mutation($in: RecordActivityInput!) { recordActivity(input: $in) { points entries { amount } } }`

	var r *gqlResponse
	select {
	case r = <-answered(a, "ApiKey "+testAPIKey, purchase, purchaseVars(ann.Member.ID, "af-1", 2500)):
	case <-time.After(30 * time.Second):
		t.Fatal("the purchase was not answered while its effects were held")
	}
	var res struct{ Points int }
	r.decode(t, "recordActivity", &res)
	if res.Points <= 0 {
		t.Fatalf("answered %d points", res.Points)
	}
	<-held.entered

	const inbox = `query { notifications(first: 10) { edges { node { kind } } } }`
	read := answered(a, ann.bearer(), inbox, nil)
	select {
	case r := <-read:
		t.Fatalf("the member's read answered before the purchase's effects landed: %s", r.Data["notifications"])
	case <-time.After(300 * time.Millisecond):
	}
	held.release <- struct{}{}
	select {
	case r = <-read:
	case <-time.After(30 * time.Second):
		t.Fatal("the member's read was not answered after the effects landed")
	}
	var page struct {
		Edges []struct{ Node struct{ Kind string } }
	}
	r.decode(t, "notifications", &page)
	earned := 0
	for _, e := range page.Edges {
		if e.Node.Kind == "REWARD_EARNED" {
			earned++
		}
	}
	if earned != 1 {
		t.Fatalf("notifications after the purchase: %+v", page)
	}

	// Asking for the streak: the answer waits for the engagement step, so
	// it has the streak, and for every effect after it.
	const withStreak = `mutation($in: RecordActivityInput!) { recordActivity(input: $in) { points streak { current } } }`
	answer := answered(a, "ApiKey "+testAPIKey, withStreak, purchaseVars(ann.Member.ID, "af-2", 2500))
	<-held.entered
	select {
	case r := <-answer:
		t.Fatalf("answered with its effects held: %s", r.Data["recordActivity"])
	case <-time.After(300 * time.Millisecond):
	}
	held.release <- struct{}{}
	r = <-answer
	var streak struct{ Streak *struct{ Current int } }
	r.decode(t, "recordActivity", &streak)
	if streak.Streak == nil || streak.Streak.Current < 1 {
		t.Fatalf("the streak asked for: %s", r.Data["recordActivity"])
	}
}
