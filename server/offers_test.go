package main

import (
	"bytes"
	"testing"
	"time"
)

func TestOfferPublishedLiveAndClaimedOnce(t *testing.T) {
	a := startApp(t, nil)
	a.setProgram(t)
	ann := a.signUp(t, "ann@example.com")
	c := a.subscribed(t, ann, `subscription { notifications { kind title } }`)

	now := time.Now().UTC()
	var offer struct{ ID, Status string }
	a.service(t, `mutation($s: DateTime!, $e: DateTime!) { createOffer(input: {title: "Double points weekend", body: "Members only",
	  benefit: {kind: BONUS_POINTS, value: 100}, startsAt: $s, endsAt: $e}) { id status } }`,
		map[string]any{"s": now.Add(-time.Minute).Format(time.RFC3339), "e": now.Add(48 * time.Hour).Format(time.RFC3339)}).decode(t, "createOffer", &offer)
	a.service(t, `mutation($id: ID!) { publishOffer(id: $id) { status } }`, map[string]any{"id": offer.ID}).decode(t, "publishOffer", &offer)
	if offer.Status != "PUBLISHING" {
		t.Fatalf("publish: %+v", offer)
	}
	if m := c.Expect("next"); !bytes.Contains(m.Payload, []byte("OFFER_AVAILABLE")) {
		t.Fatalf("live offer: %s", m.Payload)
	}
	var offers []struct{ ID string }
	a.do(t, ann.bearer(), `{ offers { id } }`, nil).decode(t, "offers", &offers)
	if len(offers) != 1 {
		t.Fatalf("eligible offers: %+v", offers)
	}
	// The notification points at the offer with the id the API accepts,
	// in related and in the deep link.
	var inbox struct {
		Edges []struct {
			Node struct {
				DeepLink string
				Related  struct{ Kind, ID string }
			}
		}
	}
	a.do(t, ann.bearer(), `{ notifications(first: 1) { edges { node { deepLink related { kind id } } } } }`, nil).decode(t, "notifications", &inbox)
	if n := inbox.Edges[0].Node; n.Related.Kind != "OFFER" || n.Related.ID != offer.ID || n.DeepLink != "app://offers/"+offer.ID {
		t.Fatalf("OFFER_AVAILABLE points at %+v, want offer %s", n, offer.ID)
	}
	var c1, c2 struct{ Code string }
	a.do(t, ann.bearer(), `mutation($id: ID!) { claimOffer(offerId: $id) { code expiresAt offer { title } } }`, map[string]any{"id": inbox.Edges[0].Node.Related.ID}).decode(t, "claimOffer", &c1)
	a.do(t, ann.bearer(), `mutation($id: ID!) { claimOffer(offerId: $id) { code } }`, map[string]any{"id": offer.ID}).decode(t, "claimOffer", &c2)
	if c1.Code == "" || c1.Code != c2.Code {
		t.Fatalf("claims: %q %q", c1.Code, c2.Code)
	}
	var pts struct{ Points struct{ Balance int } }
	a.do(t, ann.bearer(), `{ me { points { balance } } }`, nil).decode(t, "me", &pts)
	if pts.Points.Balance != 100 {
		t.Fatalf("bonus points credited %d times over", pts.Points.Balance/100)
	}
	// Bad input: an offer ending before it starts, targeting an unknown tier.
	for _, q := range []string{
		`mutation { createOffer(input: {title: "x", body: "y", benefit: {kind: PERCENT_OFF, value: 10}, startsAt: "2026-12-02T00:00:00Z", endsAt: "2026-12-01T00:00:00Z"}) { id } }`,
		`mutation { createOffer(input: {title: "x", body: "y", benefit: {kind: PERCENT_OFF, value: 10}, startsAt: "2026-12-01T00:00:00Z", endsAt: "2026-12-02T00:00:00Z", target: {tiers: ["Platinum"]}}) { id } }`,
	} {
		if r := a.service(t, q, nil); r.code() != "BAD_USER_INPUT" {
			t.Errorf("%s: %q %+v", q, r.code(), r.Errors)
		}
	}
}

// A notification without a deep link has deepLink null, not "".
func TestNoDeepLinkIsNull(t *testing.T) {
	a := startApp(t, nil)
	ann := a.signUp(t, "ann@example.com")
	r := a.service(t, `mutation($id: ID!) { sendNotification(memberId: $id, title: "Hi", body: "there") { deepLink related { id } } }`,
		map[string]any{"id": ann.Member.ID})
	if len(r.Errors) > 0 || string(r.Data["sendNotification"]) != `{"deepLink":null,"related":null}` {
		t.Fatalf("a notification without a deep link: %s %+v", r.Data["sendNotification"], r.Errors)
	}
}
