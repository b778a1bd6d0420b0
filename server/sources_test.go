package main

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// Every way points are created leaves a ledger entry whose source has a
// kind and an id the API accepts: node(id:) answers the object of the type
// the kind names (LedgerSourceKind's docs), or the id is null where the
// cause is no object. Expiry (LOT) needs a clock and is walked in package
// game (TestExpirySpendsSoonestFirst).
func TestEveryLedgerEntryNamesItsSource(t *testing.T) {
	a := startApp(t, nil)
	a.setProgram(t)
	a.service(t, `mutation { updateProgram(input: {birthdayBonus: 200}) { version } }`, nil)
	bob := a.signUp(t, "bob@example.com")
	var bobMe struct{ Referral struct{ Code string } }
	a.do(t, bob.bearer(), `{ me { referral { code } } }`, nil).decode(t, "me", &bobMe)

	// Ann joins through Bob's code; her birthday is this month (UTC).
	now := time.Now().UTC()
	var ann session
	a.do(t, "", signUpMutation, map[string]any{"in": map[string]any{
		"email": "ann@example.com", "password": "correct horse battery", "displayName": "Ann", "timezone": "UTC",
		"birthday": fmt.Sprintf("1990-%02d-01", int(now.Month())), "referralCode": bobMe.Referral.Code,
	}}).decode(t, "signUp", &ann)

	var badge, offer, reward, redemption struct{ ID string }
	a.service(t, `mutation { createBadge(input: {name: "First order", counter: PURCHASES, levels: [{name: "BRONZE", threshold: 1, bonusPoints: 25}]}) { id } }`, nil).decode(t, "createBadge", &badge)
	a.service(t, `mutation($s: DateTime!, $e: DateTime!) { createOffer(input: {title: "Welcome gift", body: "Points on us",
	  benefit: {kind: BONUS_POINTS, value: 100}, startsAt: $s, endsAt: $e}) { id } }`,
		map[string]any{"s": now.Add(-time.Minute).Format(time.RFC3339), "e": now.Add(48 * time.Hour).Format(time.RFC3339)}).decode(t, "createOffer", &offer)
	a.service(t, `mutation($id: ID!) { publishOffer(id: $id) { status } }`, map[string]any{"id": offer.ID})
	a.service(t, `mutation { createReward(input: {name: "Tote bag", cost: 50}) { id } }`, nil).decode(t, "createReward", &reward)

	// Purchase (with the referral both sides, the badge and the birthday),
	// a second purchase (escalation), an adjustment, an offer claim, a
	// redemption and its cancellation, a streak freeze, a refund.
	a.service(t, recordActivity, purchaseVars(ann.Member.ID, "order-1", 2000))
	a.service(t, recordActivity, purchaseVars(ann.Member.ID, "order-2", 2000))
	a.service(t, `mutation($id: ID!) { adjustPoints(memberId: $id, amount: 10, reason: "goodwill", idempotencyKey: "adj-1") { id } }`, map[string]any{"id": ann.Member.ID})
	a.do(t, ann.bearer(), `mutation($id: ID!) { claimOffer(offerId: $id) { code } }`, map[string]any{"id": offer.ID}).decode(t, "claimOffer", &struct{ Code string }{})
	a.do(t, ann.bearer(), `mutation($id: ID!) { redeemReward(rewardId: $id, idempotencyKey: "r-1") { id } }`, map[string]any{"id": reward.ID}).decode(t, "redeemReward", &redemption)
	a.service(t, `mutation($id: ID!) { cancelRedemption(id: $id, reason: "out of totes") { status } }`, map[string]any{"id": redemption.ID})
	a.do(t, ann.bearer(), `mutation { buyStreakFreeze(idempotencyKey: "f-1") { freezes } }`, nil).decode(t, "buyStreakFreeze", &struct{ Freezes int }{})
	a.service(t, recordActivity, map[string]any{"in": map[string]any{
		"memberId": ann.Member.ID, "kind": "REFUND", "externalId": "refund-2", "refundOf": "order-2",
		"amountMinor": 2000, "currency": "USD", "occurredAt": time.Now().UTC().Format(time.RFC3339),
	}})

	type entry struct {
		Type   string
		Source struct {
			Kind string
			ID   *string
		}
	}
	ledgerOf := func(memberID string) []entry {
		var m struct {
			Points struct {
				Ledger struct{ Edges []struct{ Node entry } }
			}
		}
		a.service(t, `query($id: ID!) { member(id: $id) { points { ledger(first: 50) { edges { node { type source { kind id } } } } } } }`,
			map[string]any{"id": memberID}).decode(t, "member", &m)
		var out []entry
		for _, e := range m.Points.Ledger.Edges {
			out = append(out, e.Node)
		}
		return out
	}
	// The type each kind's id opens; "" for none.
	want := map[string]string{
		"ACTIVITY": "Activity", "REFERRAL": "Activity", "BIRTHDAY": "Activity", "BADGE": "Badge", "OFFER": "Offer",
		"REDEMPTION": "Redemption", "ADJUSTMENT": "", "STREAK_FREEZE": "",
	}
	var seen []string
	for _, e := range append(ledgerOf(ann.Member.ID), ledgerOf(bob.Member.ID)...) {
		k := e.Source.Kind
		typ, known := want[k]
		if !known {
			t.Errorf("%s entry with source kind %q", e.Type, k)
			continue
		}
		seen = append(seen, e.Type+" "+k)
		if typ == "" {
			if e.Source.ID != nil {
				t.Errorf("%s entry from %s has id %q; want null", e.Type, k, *e.Source.ID)
			}
			continue
		}
		if e.Source.ID == nil {
			t.Errorf("%s entry from %s has no id", e.Type, k)
			continue
		}
		var n struct {
			Typename string `json:"__typename"`
		}
		a.service(t, `query($id: ID!) { node(id: $id) { __typename } }`, map[string]any{"id": *e.Source.ID}).decode(t, "node", &n)
		if n.Typename != typ {
			t.Errorf("%s entry from %s: node(id: source.id) is a %q, want %s", e.Type, k, n.Typename, typ)
		}
	}
	for _, w := range []string{"EARN ACTIVITY", "REFERRAL REFERRAL", "EARN BIRTHDAY", "EARN BADGE", "ADJUST ADJUSTMENT", "EARN OFFER",
		"REDEEM REDEMPTION", "REFUND REDEMPTION", "REDEEM STREAK_FREEZE", "REFUND ACTIVITY"} {
		if !slices.Contains(seen, w) {
			t.Errorf("no %s entry among %v", w, seen)
		}
	}
	// Every notification about something relates to it with an id node(id:) opens.
	var inbox struct {
		Edges []struct {
			Node struct {
				Kind    string
				Related *struct{ Kind, ID string }
			}
		}
	}
	a.do(t, ann.bearer(), `{ notifications(first: 50) { edges { node { kind related { kind id } } } } }`, nil).decode(t, "notifications", &inbox)
	relatedType := map[string]string{"LEDGER_ENTRY": "LedgerEntry", "REDEMPTION": "Redemption", "BADGE": "Badge", "OFFER": "Offer"}
	var kinds []string
	for _, e := range inbox.Edges {
		n := e.Node
		kinds = append(kinds, n.Kind)
		if n.Kind == "WELCOME" || n.Kind == "SYSTEM" {
			continue
		}
		if n.Related == nil {
			t.Errorf("%s notification has no related", n.Kind)
			continue
		}
		var node struct {
			Typename string `json:"__typename"`
		}
		a.do(t, ann.bearer(), `query($id: ID!) { node(id: $id) { __typename } }`, map[string]any{"id": n.Related.ID}).decode(t, "node", &node)
		if node.Typename != relatedType[n.Related.Kind] {
			t.Errorf("%s notification: related %s opens a %q", n.Kind, n.Related.Kind, node.Typename)
		}
	}
	for _, k := range []string{"REWARD_EARNED", "REDEMPTION", "BADGE_UNLOCKED", "OFFER_AVAILABLE"} {
		if !slices.Contains(kinds, k) {
			t.Errorf("no %s notification among %v", k, kinds)
		}
	}
	if n := len(slices.DeleteFunc(slices.Clone(seen), func(s string) bool { return s != "REFERRAL REFERRAL" })); n != 2 {
		t.Errorf("%d referral entries, want one each side: %v", n, seen)
	}
}
