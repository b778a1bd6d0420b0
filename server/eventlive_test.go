package main

import (
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
)

// The brand watching a full event sees its counts move live: a member
// landing on the waitlist moves no seat, yet the brand's update comes with
// the new waitlist count; a member watching gets no counts.
func TestEventCountsLiveForBrand(t *testing.T) {
	a := startApp(t, nil)
	a.setProgram(t)
	brand := a.signUp(t, "brand@example.com")
	// Granting a role ends the member's sockets once the instance hears of
	// it: a socket opened before shows when it has, so the brand's socket
	// opened after it is not closed by it.
	before := a.dialWith(t, websocket.Dialer{})
	before.Init(brand.bearer())
	var roles struct{ Roles []string }
	a.service(t, `mutation($id: ID!) { grantRole(memberId: $id, role: BRAND) { roles } }`, map[string]any{"id": brand.Member.ID}).decode(t, "grantRole", &roles)
	a.do(t, "", `mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }`, map[string]any{"t": brand.RefreshToken}).decode(t, "refreshToken", &brand)
	if _, err := before.NextContaining([]byte("never sent"), 10*time.Second); err == nil || !strings.Contains(err.Error(), "4403") {
		t.Fatalf("the socket opened before the grant: %v", err)
	}
	ann, bob, cat := a.signUp(t, "ann@example.com"), a.signUp(t, "bob@example.com"), a.signUp(t, "cat@example.com")
	id := a.publishedEvent(t, func(in map[string]any) { in["capacity"], in["guestsPerMember"] = 1, 0 })

	const sub = `subscription($id: ID!) { eventUpdates(eventId: $id) { seatsLeft counts { confirmed waitlisted offered } } }`
	live := a.dialWith(t, websocket.Dialer{})
	live.Init(brand.bearer())
	live.Send("subscribe", "b", map[string]any{"query": sub, "variables": map[string]any{"id": id}})
	expectOn(t, live, `"counts":{"confirmed":0,"waitlisted":0,"offered":0}`)
	member := a.dialWith(t, websocket.Dialer{})
	member.Init(cat.bearer())
	member.Send("subscribe", "c", map[string]any{"query": sub, "variables": map[string]any{"id": id}})
	if p := expectOn(t, member, `"seatsLeft":1`); !strings.Contains(string(p), `"counts":null`) {
		t.Fatalf("a member sees the counts: %s", p)
	}

	if r := a.rsvp(t, ann, id, 0, "ann"); r.Status != "CONFIRMED" {
		t.Fatalf("ann: %+v", r)
	}
	expectOn(t, live, `"seatsLeft":0,"counts":{"confirmed":1,"waitlisted":0,"offered":0}`)
	for i, s := range []session{bob, cat} {
		if r := a.rsvp(t, s, id, 0, "k"); r.Status != "WAITLISTED" {
			t.Fatalf("%s: %+v", s.Member.Email, r)
		}
		want := `"counts":{"confirmed":1,"waitlisted":` + string(rune('1'+i)) + `,"offered":0}`
		expectOn(t, live, want)
	}
}
