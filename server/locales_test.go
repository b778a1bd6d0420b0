package main

import (
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/testkit"
)

// inboxOf returns the kind, title and body of s's newest notifications.
func (a *app) inboxOf(t testing.TB, s session) []struct{ Kind, Title, Body string } {
	t.Helper()
	var conn struct {
		Edges []struct {
			Node struct{ Kind, Title, Body string } `json:"node"`
		} `json:"edges"`
	}
	a.do(t, s.bearer(), `{ notifications(first: 20) { edges { node { kind title body } } } }`, nil).decode(t, "notifications", &conn)
	out := make([]struct{ Kind, Title, Body string }, 0, len(conn.Edges))
	for _, e := range conn.Edges {
		out = append(out, e.Node)
	}
	return out
}

// Events and community speak the member's language: a member who chose
// Russian gets the seat offer, its deadline written the Russian way at the
// event's wall clock, and the reply to their thread in Russian, though the
// program's language is English.
func TestEventAndCommunityNotificationsSpeakTheMembersLocale(t *testing.T) {
	a := startApp(t, nil)
	a.setProgram(t)
	ann, bob := a.signUp(t, "ann@example.com"), a.signUp(t, "bob@example.com")
	a.do(t, bob.bearer(), `mutation { updateProfile(input: {locale: "ru"}) { locale } }`, nil).decode(t, "updateProfile", &struct{ Locale string }{})

	id := a.publishedEvent(t, func(in map[string]any) { in["capacity"], in["claimWindowMinutes"], in["openCallMinutes"] = 1, 10, 0 })
	if r := a.rsvp(t, ann, id, 0, "ann-1"); r.Status != "CONFIRMED" {
		t.Fatalf("ann: %+v", r)
	}
	if r := a.rsvp(t, bob, id, 0, "bob-1"); r.Status != "WAITLISTED" {
		t.Fatalf("bob: %+v", r)
	}
	a.do(t, ann.bearer(), `mutation($id: ID!) { cancelRsvp(eventId: $id) { status } }`, map[string]any{"id": id}).decode(t, "cancelRsvp", &struct{ Status string }{})

	var space, thread struct{ ID string }
	a.service(t, `mutation { createSpace(input: {name: "Rides", description: "Sunday rides"}) { id } }`, nil).decode(t, "createSpace", &space)
	a.do(t, bob.bearer(), `mutation($s: ID!) { createThread(spaceId: $s, input: {title: "Sunday", body: "Who is in?"}) { id } }`,
		map[string]any{"s": space.ID}).decode(t, "createThread", &thread)
	a.do(t, ann.bearer(), `mutation($t: ID!) { reply(threadId: $t, input: {body: "me"}) { number } }`, map[string]any{"t": thread.ID}).
		decode(t, "reply", &struct{ Number int }{})

	// The event is in Europe/Paris: the deadline reads at its wall clock.
	deadline := regexp.MustCompile(`до (пн|вт|ср|чт|пт|сб|вс), \d{1,2} (января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря) \d\d:\d\d CES?T\.`)
	var offered, replied bool
	for _, n := range a.inboxOf(t, bob) {
		switch n.Kind {
		case "EVENT_SEAT_OFFERED":
			offered = true
			if n.Title != "Для вас есть место: Spring ride" || !deadline.MatchString(n.Body) {
				t.Errorf("seat offer in ru: %q / %q", n.Title, n.Body)
			}
		case "COMMUNITY":
			replied = true
			if !regexp.MustCompile(`ответил\(а\) в вашей теме$`).MatchString(n.Title) {
				t.Errorf("reply in ru: %q / %q", n.Title, n.Body)
			}
			if n.Body != "Новый ответ в теме «Sunday»." {
				t.Errorf("reply body in ru: %q", n.Body)
			}
		}
	}
	if !offered || !replied {
		t.Fatalf("bob's inbox has no seat offer (%v) or no reply (%v): %+v", offered, replied, a.inboxOf(t, bob))
	}
	// Ann chose no language: the program's (English).
	for _, n := range a.inboxOf(t, ann) {
		if n.Kind == "WELCOME" && n.Title[:7] != "Welcome" {
			t.Errorf("ann's welcome: %q", n.Title)
		}
	}
}

// The brand user who asked for a dry run is told it finished in their own
// language, not the program's.
func TestDryRunNotificationSpeaksTheRequestersLocale(t *testing.T) {
	a := startApp(t, nil)
	brand := a.signUp(t, "brand@example.com")
	a.service(t, `mutation($id: ID!) { grantRole(memberId: $id, role: BRAND) { roles } }`, map[string]any{"id": brand.Member.ID}).decode(t, "grantRole", &struct{}{})
	a.do(t, "", `mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }`, map[string]any{"t": brand.RefreshToken}).decode(t, "refreshToken", &brand)
	a.do(t, brand.bearer(), `mutation { updateProfile(input: {locale: "ru"}) { locale } }`, nil).decode(t, "updateProfile", &struct{ Locale string }{})
	var sim struct{ ID string }
	a.do(t, brand.bearer(), `mutation($ch: [RuleChangeInput!]!) { simulateRules(changes: $ch) { id } }`, map[string]any{"ch": []any{
		map[string]any{"rule": map[string]any{"name": "Double", "trigger": "PURCHASE", "effect": map[string]any{"pointsPerItem": 1}}}}}).decode(t, "simulateRules", &sim)
	var told []struct{ Kind, Title, Body string }
	testkit.Eventually(t, 30*time.Second, func() bool {
		told = a.inboxOf(t, brand)
		return slices.ContainsFunc(told, func(n struct{ Kind, Title, Body string }) bool { return n.Kind == "SYSTEM" })
	}, "the dry run's notification")
	for _, n := range told {
		if n.Kind == "SYSTEM" && n.Title != "Пробный прогон завершён" {
			t.Fatalf("the dry run's notification: %q / %q, want Russian", n.Title, n.Body)
		}
	}
}
