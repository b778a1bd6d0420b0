package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// Two instances share one database: a notification sent through A reaches
// a subscriber on B. (How fast: BenchmarkCrossInstance.)
func TestNotificationCrossesInstances(t *testing.T) {
	a := startApp(t, nil)
	b := startApp(t, map[string]string{"MONGODB_DATABASE": a.Config.MongoDatabase})
	ann := a.signUp(t, "ann@example.com")
	c := b.subscribed(t, ann, notificationsSubscription)
	var sent struct{ ID string }
	a.service(t, `mutation($id: ID!) { sendNotification(memberId: $id, title: "via A", body: "to B") { id } }`,
		map[string]any{"id": ann.Member.ID}).decode(t, "sendNotification", &sent)
	m := c.Expect("next")
	if !bytes.Contains(m.Payload, []byte(sent.ID)) {
		t.Fatalf("received %s", m.Payload)
	}
}

func TestInboxEndToEnd(t *testing.T) {
	a := startApp(t, nil)
	ann := a.signUp(t, "ann@example.com")
	bob := a.signUp(t, "bob@example.com")
	for _, title := range []string{"one", "two", "three"} {
		a.service(t, `mutation($id: ID!, $t: String!) { sendNotification(memberId: $id, title: $t, body: "b", deepLink: "app://offers/1") { id } }`,
			map[string]any{"id": ann.Member.ID, "t": title}).decode(t, "sendNotification", &struct{}{})
	}
	var page struct {
		Edges []struct {
			Cursor string
			Node   struct {
				ID, Title, Cursor, DeepLink string
				Read                        bool
			}
		}
	}
	a.do(t, ann.bearer(), `{ notifications(first: 10) { edges { cursor node { id title cursor deepLink read } } } }`, nil).decode(t, "notifications", &page)
	if len(page.Edges) != 4 || page.Edges[0].Node.Title != "three" || page.Edges[0].Node.DeepLink != "app://offers/1" {
		t.Fatalf("inbox: %+v", page.Edges)
	}
	var unread int
	a.do(t, ann.bearer(), `{ unreadNotificationCount }`, nil).decode(t, "unreadNotificationCount", &unread)
	if unread != 4 {
		t.Fatalf("unread %d, want 4", unread)
	}
	a.do(t, ann.bearer(), `mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) }`, map[string]any{"ids": []string{page.Edges[0].Node.ID}}).
		decode(t, "markNotificationsRead", &unread)
	if unread != 3 {
		t.Fatalf("after marking one: %d", unread)
	}
	// Bob cannot mark or delete Ann's notifications, nor resume her stream.
	if r := a.do(t, bob.bearer(), `mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) }`, map[string]any{"ids": []string{page.Edges[1].Node.ID}}); r.code() != "NOT_FOUND" {
		t.Fatalf("bob marking ann's notification: %q", r.code())
	}
	if r := a.do(t, bob.bearer(), `mutation($ids: [ID!]!) { deleteNotifications(ids: $ids) }`, map[string]any{"ids": []string{page.Edges[1].Node.ID}}); r.code() != "NOT_FOUND" {
		t.Fatalf("bob deleting ann's notification: %q", r.code())
	}
	c := a.dial(t)
	c.Init(bob.bearer())
	c.Send("subscribe", "x", map[string]any{"query": `subscription($a: String) { notifications(after: $a) { id } }`, "variables": map[string]any{"a": page.Edges[3].Cursor}})
	if m := c.Expect("error"); !strings.Contains(string(m.Payload), "BAD_USER_INPUT") {
		t.Fatalf("a cursor of another member's inbox: %s", m.Payload)
	}
	a.do(t, ann.bearer(), `mutation { markAllNotificationsRead }`, nil).decode(t, "markAllNotificationsRead", &unread)
	if unread != 0 {
		t.Fatalf("after mark all: %d", unread)
	}
	// Resume after the oldest: the three newer ones, oldest first.
	rc := a.dial(t)
	rc.Init(ann.bearer())
	rc.Send("subscribe", "r", map[string]any{"query": `subscription($a: String) { notifications(after: $a) { title } }`, "variables": map[string]any{"a": page.Edges[3].Cursor}})
	for _, want := range []string{"one", "two", "three"} {
		if m := rc.Expect("next"); !strings.Contains(string(m.Payload), want) {
			t.Fatalf("replay: %s, want %s", m.Payload, want)
		}
	}
	// Preferences: muted categories are echoed; unknown ones refused.
	var prefs struct{ Muted []string }
	a.do(t, ann.bearer(), `mutation { setNotificationPreferences(muted: [OFFERS, WIN_BACK]) { muted } }`, nil).decode(t, "setNotificationPreferences", &prefs)
	if len(prefs.Muted) != 2 {
		t.Fatalf("prefs: %+v", prefs)
	}
	if r := a.do(t, ann.bearer(), `mutation { setNotificationPreferences(muted: [GOSSIP]) { muted } }`, nil); r.code() != "BAD_USER_INPUT" {
		t.Fatalf("unknown category: %q", r.code())
	}
}

// Notifications sent while the server restarts reach the client when it
// reconnects with its last cursor.
func TestResumeAcrossServerRestart(t *testing.T) {
	a := startApp(t, nil)
	ann := a.signUp(t, "ann@example.com")
	c := a.subscribed(t, ann, `subscription { notifications { cursor title } }`)
	send := func(app *app, title string) {
		app.service(t, `mutation($id: ID!, $t: String!) { sendNotification(memberId: $id, title: $t, body: "b") { id } }`,
			map[string]any{"id": ann.Member.ID, "t": title}).decode(t, "sendNotification", &struct{}{})
	}
	send(a, "before")
	var got struct {
		Data struct {
			Notifications struct{ Cursor, Title string }
		}
	}
	if err := json.Unmarshal(c.Expect("next").Payload, &got); err != nil || got.Data.Notifications.Title != "before" {
		t.Fatalf("before the restart: %+v %v", got, err)
	}
	// The server goes away; the client is told 1001. (How long a socket
	// holds shutdown up: BenchmarkShutdownWithOpenSocket.)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	c.ExpectClose(1001)
	// A new server on the same database; something was sent meanwhile.
	b := startApp(t, map[string]string{"MONGODB_DATABASE": a.Config.MongoDatabase, "JWT_SECRET": strings.Repeat("s", 32)})
	send(b, "while away 1")
	send(b, "while away 2")
	rc := b.dial(t)
	rc.Init(ann.bearer())
	rc.Send("subscribe", "r", map[string]any{"query": `subscription($a: String) { notifications(after: $a) { title } }`,
		"variables": map[string]any{"a": got.Data.Notifications.Cursor}})
	for _, want := range []string{"while away 1", "while away 2"} {
		if m := rc.Expect("next"); !strings.Contains(string(m.Payload), want) {
			t.Fatalf("after the restart: %s, want %s", m.Payload, want)
		}
	}
}
