package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/regulars/regulars/graph/relay"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/internal/testkit"
)

const recordActivity = `mutation($in: RecordActivityInput!) { recordActivity(input: $in) {
  points replayed activity { id kind externalId amount { amountMinor currency } }
  entries { type amount reason lines { rule points reason } source { kind } availableAt expiresAt balanceAfter }
  tierChange { from to } referral { status } } }`

type activityResult struct {
	Points   int  `json:"points"`
	Replayed bool `json:"replayed"`
	Entries  []struct {
		Type   string `json:"type"`
		Amount int    `json:"amount"`
		Lines  []struct {
			Rule   string `json:"rule"`
			Points int    `json:"points"`
		} `json:"lines"`
	} `json:"entries"`
	TierChange *struct{ From, To string } `json:"tierChange"`
	Referral   *struct{ Status string }   `json:"referral"`
}

func (a *app) service(t testing.TB, query string, vars map[string]any) *gqlResponse {
	t.Helper()
	return a.do(t, "ApiKey "+testAPIKey, query, vars)
}

func purchaseVars(memberID, externalID string, minor int) map[string]any {
	return map[string]any{"in": map[string]any{
		"memberId": memberID, "kind": "PURCHASE", "externalId": externalID,
		"amountMinor": minor, "currency": "USD", "occurredAt": time.Now().UTC().Format(time.RFC3339),
	}}
}

// setProgram makes points spendable at once so the tests need not wait out
// a return window.
func (a *app) setProgram(t testing.TB) {
	t.Helper()
	var p struct{ Version int }
	a.service(t, `mutation($in: ProgramInput!) { updateProgram(input: $in) { version } }`, map[string]any{"in": testProgram()}).decode(t, "updateProgram", &p)
	if p.Version < 1 {
		t.Fatalf("program version %d", p.Version)
	}
}

// testProgram is the program setProgram sets.
func testProgram() map[string]any {
	return map[string]any{
		"currency": "USD", "pointsPerUnit": 10, "firstPurchaseBonus": 50, "escalation": []int{2, 3},
		"birthdayBonus": 0, "checkInPoints": 5, "reviewPoints": 20, "pointsExpireDays": 365, "returnWindowDays": 0,
		"promotions": []any{},
		"tiers": []map[string]any{
			{"name": "Member", "threshold": 0, "earnMultiplierPercent": 100, "benefits": []string{}},
			{"name": "Silver", "threshold": 1000, "earnMultiplierPercent": 125, "benefits": []string{"early-access"}},
		},
		"tierBasis": "POINTS_EARNED", "tierWindowMonths": 12, "tierGraceDays": 30,
		"referral": map[string]any{"referrerPoints": 500, "refereePoints": 300, "minPurchaseMinor": 1000, "monthlyCap": 5, "reversalWindowDays": 30},
	}
}

func TestEconomyEndToEnd(t *testing.T) {
	a := startApp(t, nil)
	a.setProgram(t)
	ann := a.signUp(t, "ann@example.com")

	// Ann subscribes; her points notifications arrive live.
	c := a.subscribed(t, ann, `subscription { notifications { kind title } }`)

	var r1 activityResult
	order1 := purchaseVars(ann.Member.ID, "order-1", 4250) // the replay sends the same occurredAt
	a.service(t, recordActivity, order1).decode(t, "recordActivity", &r1)
	if r1.Points != 425+50 || r1.Replayed || len(r1.Entries) != 1 || len(r1.Entries[0].Lines) != 2 {
		t.Fatalf("first purchase: %+v", r1)
	}
	if m := c.Expect("next"); !bytes.Contains(m.Payload, []byte("REWARD_EARNED")) {
		t.Fatalf("notification: %s", m.Payload)
	}
	// A replay changes nothing and says so.
	var replay activityResult
	a.service(t, recordActivity, order1).decode(t, "recordActivity", &replay)
	if !replay.Replayed || replay.Points != r1.Points {
		t.Fatalf("replay: %+v", replay)
	}
	// Second purchase: 2×, and Silver from 1000 points earned.
	var r2 activityResult
	a.service(t, recordActivity, purchaseVars(ann.Member.ID, "order-2", 3000)).decode(t, "recordActivity", &r2)
	if r2.Points != 600 || r2.TierChange == nil || r2.TierChange.To != "Silver" {
		t.Fatalf("second purchase: %+v", r2)
	}

	var me struct {
		Points struct {
			Balance, Available, Pending int
			ExpiringSoon                []struct{ Amount int } `json:"expiringSoon"`
			Ledger                      struct {
				Edges []struct {
					Node struct {
						Type   string
						Amount int
						Reason string
					}
				}
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
			}
		}
		Tier struct {
			Current struct{ Name string }
			Next    *struct{ Name string }
		}
		Referral struct{ Code string }
	}
	a.do(t, ann.bearer(), `{ me { points { balance available pending expiringSoon(withinDays: 400) { amount at }
	  ledger(first: 1) { edges { node { type amount reason } } pageInfo { hasNextPage endCursor } } }
	  tier { current { name } next { name } progress { value toNext } } referral { code } } }`, nil).decode(t, "me", &me)
	if me.Points.Balance != 1075 || me.Points.Available != 1075 || len(me.Points.ExpiringSoon) != 2 {
		t.Fatalf("points: %+v", me.Points)
	}
	if e := me.Points.Ledger.Edges; len(e) != 1 || e[0].Node.Amount != 600 || !me.Points.Ledger.PageInfo.HasNextPage {
		t.Fatalf("ledger page: %+v", me.Points.Ledger)
	}
	if me.Tier.Current.Name != "Silver" || me.Tier.Next != nil || len(me.Referral.Code) != 7 {
		t.Fatalf("tier %+v, referral %+v", me.Tier, me.Referral)
	}

	// A reward with stock 1: Ann redeems it; the code is unguessable; stock is gone.
	var reward struct{ ID string }
	a.service(t, `mutation { createReward(input: {name: "Tote", cost: 1000, stock: 1}) { id } }`, nil).decode(t, "createReward", &reward)
	var red struct {
		ID, Code, Status string
		Reward           struct{ Name string }
	}
	a.do(t, ann.bearer(), `mutation($r: ID!) { redeemReward(rewardId: $r, idempotencyKey: "k1") { id code status reward { name } } }`,
		map[string]any{"r": reward.ID}).decode(t, "redeemReward", &red)
	if red.Status != "COMPLETED" || len(red.Code) != 19 || red.Reward.Name != "Tote" {
		t.Fatalf("redemption: %+v", red)
	}
	bob := a.signUp(t, "bob@example.com")
	if r := a.do(t, bob.bearer(), `mutation($r: ID!) { redeemReward(rewardId: $r, idempotencyKey: "k1") { id } }`, map[string]any{"r": reward.ID}); r.code() != "BAD_USER_INPUT" {
		t.Fatalf("redeem without points: %q %+v", r.code(), r.Errors)
	}
	var mine struct {
		Edges []struct{ Node struct{ Code string } }
	}
	a.do(t, ann.bearer(), `{ myRedemptions(first: 5) { edges { node { code } } } }`, nil).decode(t, "myRedemptions", &mine)
	if len(mine.Edges) != 1 || mine.Edges[0].Node.Code != red.Code {
		t.Fatalf("myRedemptions: %+v", mine)
	}
	var cancelled struct{ Status string }
	a.service(t, `mutation($id: ID!) { cancelRedemption(id: $id, reason: "out of totes") { status } }`, map[string]any{"id": red.ID}).decode(t, "cancelRedemption", &cancelled)
	if cancelled.Status != "CANCELLED" {
		t.Fatalf("cancel: %+v", cancelled)
	}
}

func TestReferralEndToEnd(t *testing.T) {
	a := startApp(t, nil)
	a.setProgram(t)
	ann := a.signUp(t, "ann@example.com")
	var me struct{ Referral struct{ Code string } }
	a.do(t, ann.bearer(), `{ me { referral { code } } }`, nil).decode(t, "me", &me)

	// A bad code refuses the sign-up and creates nothing.
	r := a.do(t, "", signUpMutation, map[string]any{"in": map[string]any{
		"email": "carl@example.com", "password": "correct horse battery", "displayName": "X", "timezone": "UTC", "referralCode": "NOPE123",
	}})
	if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "referralCode" {
		t.Fatalf("sign-up with an unknown code: %+v", r.Errors)
	}
	// A self-referral under another spelling of the owner's address joins
	// like anyone else, but with no referrer: nobody is rewarded.
	var self session
	a.do(t, "", signUpMutation, map[string]any{"in": map[string]any{
		"email": "ann+2@example.com", "password": "correct horse battery", "displayName": "X", "timezone": "UTC", "referralCode": me.Referral.Code,
	}}).decode(t, "signUp", &self)
	selfID := testkit.Must(relay.DecodeID("Member", "id", self.Member.ID))(t)
	if n := testkit.Count(t, a.mongo.Database(a.Config.MongoDatabase).Collection("accounts"), bson.D{{Key: "_id", Value: selfID}, {Key: "referrerId", Value: bson.D{{Key: "$exists", Value: true}}}}); n != 0 {
		t.Fatal("a self-referral was recorded as a referral")
	}
	var bob session
	a.do(t, "", signUpMutation, map[string]any{"in": map[string]any{
		"email": "bob@example.com", "password": "correct horse battery", "displayName": "Bob", "timezone": "UTC",
		"referralCode": " " + me.Referral.Code[:3] + "-" + me.Referral.Code[3:] + " ",
	}}).decode(t, "signUp", &bob)

	// The qualifying purchase, reported 20 times at once: each side rewarded once.
	const reports = 20
	bob1 := purchaseVars(bob.Member.ID, "bob-1", 2000) // one request: every report sends the same occurredAt
	res := testkit.Race(t, reports, func(int) error {
		r, err := a.post("ApiKey "+testAPIKey, recordActivity, bob1)
		if err == nil && len(r.Errors) > 0 {
			err = fmt.Errorf("%+v", r.Errors)
		}
		return err
	})
	res.Expect(t)
	if res.OK() != reports {
		t.Fatalf("%d of %d reports succeeded", res.OK(), reports)
	}
	db := a.mongo.Database(a.Config.MongoDatabase)
	if n := testkit.Count(t, db.Collection("activities"), bson.D{{Key: "externalId", Value: "bob-1"}}); n != 1 {
		t.Fatalf("%d activities stored, want 1", n)
	}
	if n := testkit.Count(t, db.Collection("ledger"), bson.D{{Key: "type", Value: "REFERRAL"}}); n != 2 {
		t.Fatalf("%d referral entries in the ledger, want 2 (one a side)", n)
	}
	var ref struct {
		Referral struct{ Invited, Converted, PointsEarned int }
	}
	a.do(t, ann.bearer(), `{ me { referral { invited converted pointsEarned } } }`, nil).decode(t, "me", &ref)
	if ref.Referral.Invited != 1 || ref.Referral.Converted != 1 || ref.Referral.PointsEarned != 500 {
		t.Fatalf("ann's referral: %+v", ref.Referral)
	}
	var bobPts struct{ Points struct{ Balance int } }
	a.do(t, bob.bearer(), `{ me { points { balance } } }`, nil).decode(t, "me", &bobPts)
	if bobPts.Points.Balance != 200+50+300 {
		t.Fatalf("bob's balance %d, want 550 (200 + 50 first purchase + 300 referral)", bobPts.Points.Balance)
	}
	// Refunding the qualifying purchase reverses both sides.
	a.service(t, recordActivity, map[string]any{"in": map[string]any{
		"memberId": bob.Member.ID, "kind": "REFUND", "externalId": "bob-r1", "refundOf": "bob-1",
		"amountMinor": 2000, "currency": "USD", "occurredAt": time.Now().UTC().Format(time.RFC3339),
	}}).decode(t, "recordActivity", &activityResult{})
	a.do(t, ann.bearer(), `{ me { referral { invited converted pointsEarned } } }`, nil).decode(t, "me", &ref)
	if ref.Referral.PointsEarned != 0 || ref.Referral.Converted != 0 {
		t.Fatalf("after refund: %+v", ref.Referral)
	}
}

func TestEconomyBadInput(t *testing.T) {
	a := startApp(t, nil)
	a.setProgram(t)
	ann := a.signUp(t, "ann@example.com")
	now := time.Now().UTC()
	cases := []struct {
		name, field, code string
		in                map[string]any
	}{
		{"negative amount", "amountMinor", "BAD_USER_INPUT", map[string]any{"amountMinor": -100}},
		{"unknown currency", "currency", "BAD_USER_INPUT", map[string]any{"currency": "XYZ"}},
		{"far future", "occurredAt", "BAD_USER_INPUT", map[string]any{"occurredAt": now.Add(48 * time.Hour).Format(time.RFC3339)}},
		{"unknown member", "memberId", "NOT_FOUND", map[string]any{"memberId": "TWVtYmVyOjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMA"}},
		{"refund of unknown purchase", "refundOf", "NOT_FOUND", map[string]any{"kind": "REFUND", "refundOf": "ghost"}},
	}
	for _, c := range cases {
		vars := purchaseVars(ann.Member.ID, "bad-"+strings.ReplaceAll(c.name, " ", "-"), 1000)
		for k, v := range c.in {
			vars["in"].(map[string]any)[k] = v
		}
		r := a.service(t, recordActivity, vars)
		if r.code() != c.code || r.Errors[0].Extensions["field"] != c.field {
			t.Errorf("%s: want %s on %s, got %+v", c.name, c.code, c.field, r.Errors)
		}
	}
	if r := a.do(t, ann.bearer(), recordActivity, purchaseVars(ann.Member.ID, "self", 1000)); r.code() != "FORBIDDEN" {
		t.Errorf("a customer recording activity: %q", r.code())
	}
	if r := a.do(t, ann.bearer(), `mutation { redeemReward(rewardId: "UmV3YXJkOjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMA", idempotencyKey: "x") { id } }`, nil); r.code() != "NOT_FOUND" {
		t.Errorf("unknown reward: %q %+v", r.code(), r.Errors)
	}
	var pts struct{ Points struct{ Balance int } }
	a.do(t, ann.bearer(), `{ me { points { balance } } }`, nil).decode(t, "me", &pts)
	if pts.Points.Balance != 0 {
		t.Fatalf("refused activities changed the balance to %d", pts.Points.Balance)
	}
}
