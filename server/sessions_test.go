package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/testkit"
	"github.com/regulars/regulars/member/auth"
	"github.com/regulars/regulars/server/live"
)

// A socket is bound to the session its access token belongs to. Each way a
// session ends (auth.SessionEndReasons) closes the member's sockets with
// 4403 and the reason, on another instance than the one the session ended
// on; a socket opened again with the old token is refused at
// connection_init, and one opened with a fresh token works. An expired
// token closes its socket too.
func TestSocketEndsWithItsSession(t *testing.T) {
	env := map[string]string{"REFRESH_REUSE_GRACE": "0"}
	box := newMailbox()
	a := startApp(t, env, func(m *Main) { m.Mailer = box })
	env["MONGODB_DATABASE"] = a.Config.MongoDatabase
	b := startApp(t, env) // the sockets' instance
	covered := map[string]bool{}

	live := func(s session) *testkit.WSClient {
		t.Helper()
		c := b.dial(t)
		c.Init(s.bearer())
		c.Send("subscribe", "n", map[string]any{"query": notificationsSubscription})
		return c
	}
	ended := func(c *testkit.WSClient, reason string) {
		t.Helper()
		c.ExpectClose(4403)
		if c.CloseReason != reason {
			t.Errorf("closed with reason %q, want %q", c.CloseReason, reason)
		}
		covered[reason] = true
	}
	refused := func(s session, reason string) {
		t.Helper()
		c := b.dial(t)
		c.Send("connection_init", "", map[string]any{"authorization": s.bearer()})
		c.ExpectClose(4403)
		if c.CloseReason != reason {
			t.Errorf("connection_init with the old token: reason %q, want %q", c.CloseReason, reason)
		}
	}
	logIn := func(email string) session {
		t.Helper()
		var s session
		a.do(t, "", `mutation($e: String!) { logIn(input: {email: $e, password: "correct horse battery"}) { accessToken refreshToken member { id } } }`,
			map[string]any{"e": email}).decode(t, "logIn", &s)
		return s
	}
	const refresh = `mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }`

	// Log-out ends that session's sockets, not the member's other sessions.
	ann := a.signUp(t, "ann@example.com")
	phone := logIn("ann@example.com")
	annSocket, phoneSocket := live(ann), live(phone)
	b.waitSubscribers(t, ann.Member.ID, 2)
	a.do(t, "", `mutation($t: String!) { logOut(refreshToken: $t) }`, map[string]any{"t": ann.RefreshToken}).decode(t, "logOut", new(bool))
	ended(annSocket, auth.EndSignedOut)
	refused(ann, "Session ended: sign in again")
	// Over HTTP too, on any instance: the logged-out token is refused, the
	// member's other session goes on.
	testkit.Eventually(t, 10*time.Second, func() bool {
		return b.do(t, ann.bearer(), `{ me { id } }`, nil).code() == "UNAUTHENTICATED"
	}, "an HTTP request with a logged-out access token is still answered")
	if r := b.do(t, phone.bearer(), `{ me { id } }`, nil); len(r.Errors) > 0 {
		t.Fatalf("the other session over HTTP: %+v", r.Errors)
	}
	b.waitSubscribers(t, ann.Member.ID, 1)
	a.service(t, `mutation($id: ID!) { sendNotification(memberId: $id, title: "still here", body: "hi") { id } }`,
		map[string]any{"id": ann.Member.ID}).decode(t, "sendNotification", &struct{}{})
	if m := phoneSocket.Expect("next"); !bytes.Contains(m.Payload, []byte("still here")) {
		t.Fatalf("the other session's socket: %s", m.Payload)
	}

	// A refresh token used twice revokes its session.
	bob := a.signUp(t, "bob@example.com")
	bobSocket := live(bob)
	var next session
	a.do(t, "", refresh, map[string]any{"t": bob.RefreshToken}).decode(t, "refreshToken", &next)
	if r := a.do(t, "", refresh, map[string]any{"t": bob.RefreshToken}); r.code() != "UNAUTHENTICATED" {
		t.Fatalf("reused refresh token: %+v", r.Errors)
	}
	ended(bobSocket, auth.EndRevoked)
	refused(next, "Session ended: sign in again")

	// A change of roles ends every session's sockets: their tokens carry
	// the old roles. A fresh token carries the new ones and opens a socket.
	cid := a.signUp(t, "cid@example.com")
	cidSocket := live(cid)
	a.service(t, `mutation($id: ID!) { grantRole(memberId: $id, role: MODERATOR) { roles } }`, map[string]any{"id": cid.Member.ID}).decode(t, "grantRole", &struct{}{})
	ended(cidSocket, auth.EndRolesChanged)
	refused(cid, auth.EndRolesChanged)
	var fresh session
	a.do(t, "", refresh, map[string]any{"t": cid.RefreshToken}).decode(t, "refreshToken", &fresh)
	cidSocket = live(fresh)
	b.waitSubscribers(t, cid.Member.ID, 1)
	a.service(t, `mutation($id: ID!) { revokeRole(memberId: $id, role: MODERATOR) { roles } }`, map[string]any{"id": cid.Member.ID}).decode(t, "revokeRole", &struct{}{})
	ended(cidSocket, auth.EndRolesChanged)

	// A password reset ends every session's sockets.
	dee := a.signUp(t, "dee@example.com")
	deeSocket := live(dee)
	a.do(t, "", requestResetMutation, map[string]any{"e": "dee@example.com"}).decode(t, "requestPasswordReset", new(bool))
	a.do(t, "", resetMutation, map[string]any{"t": tokenOf(t, box.next(t)), "p": "a brand new secret"}).decode(t, "resetPassword", new(bool))
	ended(deeSocket, auth.EndPasswordReset)
	refused(dee, "Session ended: sign in again")

	// So does deleting the account.
	eve := a.signUp(t, "eve@example.com")
	eveSocket := live(eve)
	a.do(t, eve.bearer(), `mutation { deleteMyAccount(password: "correct horse battery") }`, nil).decode(t, "deleteMyAccount", new(bool))
	ended(eveSocket, auth.EndAccountDeleted)
	refused(eve, "Session ended: sign in again")

	for _, reason := range auth.SessionEndReasons {
		if !covered[reason] {
			t.Errorf("no case ends a socket with %q", reason)
		}
	}
	if len(covered) != len(auth.SessionEndReasons) {
		t.Errorf("covered %v, auth.SessionEndReasons %v", covered, auth.SessionEndReasons)
	}
}

// A socket closes when its access token expires, with 4403 and a reason
// that tells the client to come back with a fresh token.
func TestSocketClosesWhenItsTokenExpires(t *testing.T) {
	a := startApp(t, map[string]string{"ACCESS_TOKEN_TTL": "2s"})
	ann := a.signUp(t, "ann@example.com")
	c := a.dial(t)
	c.Init(ann.bearer())
	c.Send("subscribe", "n", map[string]any{"query": notificationsSubscription})
	c.ExpectClose(4403)
	if c.CloseReason != live.ReasonExpired {
		t.Errorf("reason %q", c.CloseReason)
	}
}
