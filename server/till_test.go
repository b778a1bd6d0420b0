package main

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/regulars/regulars/graph/relay"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game"
	"github.com/regulars/regulars/internal/testkit"
)

// tillLimits lifts the rate limits for tests that race many tills.
var tillLimits = map[string]string{"RATE_LIMIT_IP_RPS": "100000", "RATE_LIMIT_IP_BURST": "100000",
	"RATE_LIMIT_MEMBER_RPS": "100000", "RATE_LIMIT_MEMBER_BURST": "100000"}

const (
	identifyQuery  = `query($c: String!) { identifyMember(code: $c) { memberId displayName tier availablePoints byQr } }`
	fulfilMutation = `mutation($c: String!, $l: String!, $k: String!) { fulfillRedemption(code: $c, location: $l, idempotencyKey: $k) {
	  id status fulfilment { location at byService staff { id } } } }`
	couponMutation = `mutation($c: String!, $o: String!) { redeemCoupon(code: $c, orderExternalId: $o) { code redemption { orderExternalId at purchase { externalId } } } }`
)

type tillMember struct {
	MemberID        string
	DisplayName     string
	Tier            string
	AvailablePoints int
	ByQr            bool
}

type fulfilled struct {
	ID         string
	Status     string
	Fulfilment *struct {
		Location  string
		At        time.Time
		ByService bool
		Staff     *struct{ ID string }
	}
}

// staff signs up a member and makes them STAFF (in the token once refreshed).
func (a *app) staff(t testing.TB, email string) session {
	t.Helper()
	s := a.signUp(t, email)
	var roles struct{ Roles []string }
	a.service(t, `mutation($id: ID!) { grantRole(memberId: $id, role: STAFF) { roles } }`, map[string]any{"id": s.Member.ID}).decode(t, "grantRole", &roles)
	a.do(t, "", `mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }`, map[string]any{"t": s.RefreshToken}).decode(t, "refreshToken", &s)
	return s
}

// redeemed is the code of a reward (cost 100, validDays when not nil) the
// member redeems with points they are given first.
func (a *app) redeemed(t testing.TB, m session, key string, validDays any) (id, code string) {
	t.Helper()
	var rw struct{ ID string }
	a.service(t, `mutation($d: Int) { createReward(input: {name: "Mug", cost: 100, validDays: $d}) { id validDays } }`, map[string]any{"d": validDays}).decode(t, "createReward", &rw)
	a.service(t, `mutation($id: ID!, $k: String!) { adjustPoints(memberId: $id, amount: 100, reason: "for a mug", idempotencyKey: $k) { id } }`,
		map[string]any{"id": m.Member.ID, "k": "mug-" + key}).decode(t, "adjustPoints", &struct{ ID string }{})
	var r struct{ ID, Code, Status string }
	a.do(t, m.bearer(), `mutation($r: ID!, $k: String!) { redeemReward(rewardId: $r, idempotencyKey: $k) { id code status } }`,
		map[string]any{"r": rw.ID, "k": key}).decode(t, "redeemReward", &r)
	if r.Status != "COMPLETED" {
		t.Fatalf("redeem: %+v", r)
	}
	return r.ID, r.Code
}

// crockfordCheck is the Luhn mod 32 check character of a member code's
// first nine characters, written out again here to make codes the server
// never gave.
func crockfordCheck(digits string) byte {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	sum, factor := 0, 2
	for i := len(digits) - 1; i >= 0; i-- {
		add := factor * strings.IndexByte(alphabet, digits[i])
		sum += add/32 + add%32
		factor = 3 - factor
	}
	return alphabet[(32-sum%32)%32]
}

// The walkthrough of the README: the member shows their card, the till
// identifies them, reports the purchase and hands over a reward, which the
// member sees live; every refusal on the way is coded and names its field.
func TestAtTheTill(t *testing.T) {
	clock := testkit.NewClock(time.Now().UTC())
	a := startApp(t, tillLimits, func(m *Main) { m.tillNow = clock.Now })
	a.setProgram(t)
	ann := a.signUp(t, "ann@example.com")
	bob := a.signUp(t, "bob@example.com")
	sam := a.staff(t, "sam@example.com")

	// The card: a printed code that stays, a QR payload for 60 seconds.
	type card struct {
		Code, QrPayload string
		QrExpiresAt     time.Time
	}
	var me1, me2 struct{ MemberCard card }
	a.do(t, ann.bearer(), `{ me { memberCard { code qrPayload qrExpiresAt } } }`, nil).decode(t, "me", &me1)
	a.do(t, ann.bearer(), `{ me { memberCard { code qrPayload qrExpiresAt } } }`, nil).decode(t, "me", &me2)
	if !regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$`).MatchString(me1.MemberCard.Code) || me2.MemberCard.Code != me1.MemberCard.Code {
		t.Fatalf("printed codes %q then %q: want one XXXXX-XXXXX code", me1.MemberCard.Code, me2.MemberCard.Code)
	}
	if d := me1.MemberCard.QrExpiresAt.Sub(clock.Now()); d < 55*time.Second || d > 61*time.Second || !strings.HasPrefix(me1.MemberCard.QrPayload, "RQ1.") {
		t.Fatalf("QR payload %q valid for %s", me1.MemberCard.QrPayload, d)
	}
	var bobs struct{ MemberCard card }
	a.do(t, bob.bearer(), `{ me { memberCard { code } } }`, nil).decode(t, "me", &bobs)
	if bobs.MemberCard.Code == me1.MemberCard.Code {
		t.Fatalf("ann and bob share the code %s", bobs.MemberCard.Code)
	}
	if r := a.service(t, `query($id: ID!) { member(id: $id) { memberCard { code } } }`, map[string]any{"id": ann.Member.ID}); r.code() != "FORBIDDEN" {
		t.Fatalf("the brand reading ann's card: %q %+v", r.code(), r.Errors)
	}

	// Identify: the code as typed (lower case, no hyphen, O for 0), the QR
	// payload; STAFF and the service key may, a member may not.
	typed := strings.ToLower(strings.ReplaceAll(me1.MemberCard.Code, "-", ""))
	typed = strings.ReplaceAll(typed, "0", "o")
	var who tillMember
	a.do(t, sam.bearer(), identifyQuery, map[string]any{"c": typed}).decode(t, "identifyMember", &who)
	if who.MemberID != ann.Member.ID || who.DisplayName != "Member ann@example.com" || who.Tier != "Member" || who.AvailablePoints != 0 || who.ByQr {
		t.Fatalf("identified by code: %+v", who)
	}
	a.service(t, identifyQuery, map[string]any{"c": me1.MemberCard.QrPayload}).decode(t, "identifyMember", &who)
	if who.MemberID != ann.Member.ID || !who.ByQr {
		t.Fatalf("identified by QR: %+v", who)
	}
	if r := a.do(t, bob.bearer(), identifyQuery, map[string]any{"c": typed}); r.code() != "FORBIDDEN" {
		t.Fatalf("a member identifying: %q", r.code())
	}
	unknown := "ABCDEFGHJ"
	unknown += string(crockfordCheck(unknown))
	mistyped := []byte(strings.ReplaceAll(me1.MemberCard.Code, "-", ""))
	mistyped[3] = map[bool]byte{true: 'A', false: 'B'}[mistyped[3] != 'A']
	qr := me1.MemberCard.QrPayload
	forged := qr[:len(qr)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(qr, "AA")]
	for _, c := range []struct{ code, want, says string }{
		{"hello", "BAD_USER_INPUT", "not a member code"},
		{"a\u0000b", "BAD_USER_INPUT", "not a member code"},
		{string(mistyped), "BAD_USER_INPUT", "mistyped"},
		{forged, "BAD_USER_INPUT", "not a QR code of this program"},
		{"RQ1.not-base64!", "BAD_USER_INPUT", "not a QR code of this program"},
		{strings.Repeat("A", 101), "BAD_USER_INPUT", "at most 100"},
		{unknown, "NOT_FOUND", "no member has this code"},
	} {
		r := a.do(t, sam.bearer(), identifyQuery, map[string]any{"c": c.code})
		if r.code() != c.want || r.Errors[0].Extensions["field"] != "code" || !strings.Contains(r.Errors[0].Message, c.says) {
			t.Errorf("identify %q: %q %+v, want %s on code saying %q", c.code, r.code(), r.Errors, c.want, c.says)
		}
	}
	// A screenshot a minute later no longer works, and says so.
	clock.Add(61 * time.Second)
	r := a.do(t, sam.bearer(), identifyQuery, map[string]any{"c": qr})
	if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "code" || r.Errors[0].Extensions["reason"] != "QR_EXPIRED" || !strings.Contains(r.Errors[0].Message, "expired") {
		t.Fatalf("an expired QR: %q %+v", r.code(), r.Errors)
	}

	// Report the purchase for the member identified, then hand over a
	// reward, which the member sees live.
	live := a.subscribed(t, ann, `subscription { notifications { kind title body } }`)
	a.waitSubscribers(t, ann.Member.ID, 1)
	var purchase activityResult
	a.service(t, recordActivity, purchaseVars(who.MemberID, "till-order-1", 1250)).decode(t, "recordActivity", &purchase)
	if purchase.Points != 125+50 {
		t.Fatalf("purchase: %+v", purchase)
	}
	if m := live.Expect("next"); !bytes.Contains(m.Payload, []byte("REWARD_EARNED")) {
		t.Fatalf("live: %s", m.Payload)
	}
	redemptionID, code := a.redeemed(t, ann, "mug-1", 30)
	if m := live.Expect("next"); !bytes.Contains(m.Payload, []byte("RECEIVED")) && !bytes.Contains(m.Payload, []byte("REWARD_EARNED")) {
		t.Fatalf("live: %s", m.Payload)
	}
	if m := live.Expect("next"); !bytes.Contains(m.Payload, []byte(`"REDEMPTION"`)) {
		t.Fatalf("live: %s", m.Payload)
	}
	var f fulfilled
	vars := map[string]any{"c": strings.ToLower(code), "l": "Rue de Rivoli, till 3", "k": "till3-0001"}
	a.do(t, sam.bearer(), fulfilMutation, vars).decode(t, "fulfillRedemption", &f)
	if f.ID != redemptionID || f.Status != "FULFILLED" || f.Fulfilment == nil || f.Fulfilment.Location != "Rue de Rivoli, till 3" || f.Fulfilment.ByService ||
		f.Fulfilment.Staff == nil || f.Fulfilment.Staff.ID != sam.Member.ID {
		t.Fatalf("fulfilled: %+v, want by %s", f, sam.Member.ID)
	}
	if m := live.Expect("next"); !bytes.Contains(m.Payload, []byte("REDEMPTION_FULFILLED")) || !bytes.Contains(m.Payload, []byte("Rue de Rivoli, till 3")) {
		t.Fatalf("live fulfilment: %s", m.Payload)
	}
	var mine struct {
		Edges []struct {
			Node struct {
				Status     string
				Fulfilment *struct{ Staff *struct{ ID string } }
			}
		}
	}
	// The member sees where and when, not which staff member.
	a.do(t, ann.bearer(), `{ myRedemptions(first: 5) { edges { node { status fulfilment { staff { id } } } } } }`, nil).decode(t, "myRedemptions", &mine)
	if len(mine.Edges) != 1 || mine.Edges[0].Node.Status != "FULFILLED" || mine.Edges[0].Node.Fulfilment == nil || mine.Edges[0].Node.Fulfilment.Staff != nil {
		t.Fatalf("myRedemptions: %+v", mine)
	}
	// The same request again (a retry) answers the same fulfilment.
	var again fulfilled
	a.do(t, sam.bearer(), fulfilMutation, vars).decode(t, "fulfillRedemption", &again)
	if !again.Fulfilment.At.Equal(f.Fulfilment.At) {
		t.Fatalf("retry: %+v, want %+v", again, f)
	}
	// Another till: CONFLICT with the first fulfilment's time and place.
	r = a.service(t, fulfilMutation, map[string]any{"c": code, "l": "Elsewhere", "k": "till9-0001"})
	if r.code() != "CONFLICT" || r.Errors[0].Extensions["location"] != "Rue de Rivoli, till 3" ||
		r.Errors[0].Extensions["fulfilledAt"] != f.Fulfilment.At.UTC().Format(time.RFC3339Nano) {
		t.Fatalf("second fulfilment: %q %+v", r.code(), r.Errors)
	}
	if r := a.do(t, bob.bearer(), fulfilMutation, map[string]any{"c": code, "l": "x", "k": "bob-1"}); r.code() != "FORBIDDEN" {
		t.Fatalf("a member fulfilling: %q", r.code())
	}

	// Bad input: coded, naming the field, and nothing written.
	_, pending := a.redeemed(t, ann, "mug-2", nil)
	for _, c := range []struct {
		vars  map[string]any
		code  string
		field string
	}{
		{map[string]any{"c": pending, "l": strings.Repeat("x", 101), "k": "k-1"}, "BAD_USER_INPUT", "location"},
		{map[string]any{"c": pending, "l": "", "k": "k-2"}, "BAD_USER_INPUT", "location"},
		{map[string]any{"c": "MUG-1", "l": "Store", "k": "k-3"}, "BAD_USER_INPUT", "code"},
		{map[string]any{"c": "AAAA-AAAA-AAAA-AAAA", "l": "Store", "k": "k-4"}, "NOT_FOUND", "code"},
		{map[string]any{"c": pending, "l": "Store", "k": "no spaces"}, "BAD_USER_INPUT", "idempotencyKey"},
		{map[string]any{"c": pending, "l": "Other store", "k": "till3-0001"}, "IDEMPOTENCY_KEY_REUSED", "idempotencyKey"},
	} {
		r := a.service(t, fulfilMutation, c.vars)
		if r.code() != c.code || r.Errors[0].Extensions["field"] != c.field {
			t.Errorf("fulfil %v: %q %+v, want %s on %s", c.vars, r.code(), r.Errors, c.code, c.field)
		}
	}
	a.do(t, ann.bearer(), `{ myRedemptions(first: 5) { edges { node { status } } } }`, nil).decode(t, "myRedemptions", &mine)
	if len(mine.Edges) != 2 || mine.Edges[0].Node.Status != "COMPLETED" {
		t.Fatalf("after refused fulfilments: %+v", mine)
	}
}

// A coupon at the till: used once on an order, linked to the purchase
// reported with that order's externalId.
func TestCouponAtTheTill(t *testing.T) {
	a := startApp(t, tillLimits)
	a.setProgram(t)
	ann := a.signUp(t, "ann@example.com")
	sam := a.staff(t, "sam@example.com")
	code := a.coupon(t, ann)

	live := a.subscribed(t, ann, `subscription { notifications { kind title } }`)
	a.waitSubscribers(t, ann.Member.ID, 1)
	type coupon struct {
		Code       string
		Redemption *struct {
			OrderExternalID string
			At              time.Time
			Purchase        *struct{ ExternalID string }
		}
	}
	var c coupon
	a.do(t, sam.bearer(), couponMutation, map[string]any{"c": code, "o": "order-77"}).decode(t, "redeemCoupon", &c)
	if c.Redemption == nil || c.Redemption.OrderExternalID != "order-77" || c.Redemption.Purchase != nil {
		t.Fatalf("redeemed: %+v", c)
	}
	if m := live.Expect("next"); !bytes.Contains(m.Payload, []byte("COUPON_REDEEMED")) {
		t.Fatalf("live: %s", m.Payload)
	}
	// The purchase reported afterwards with the order's id links to it.
	a.service(t, recordActivity, purchaseVars(ann.Member.ID, "order-77", 3000)).decode(t, "recordActivity", &activityResult{})
	var again coupon
	a.service(t, couponMutation, map[string]any{"c": code, "o": "order-77"}).decode(t, "redeemCoupon", &again)
	if again.Redemption == nil || !again.Redemption.At.Equal(c.Redemption.At) || again.Redemption.Purchase == nil || again.Redemption.Purchase.ExternalID != "order-77" {
		t.Fatalf("the same order again: %+v", again)
	}
	r := a.service(t, couponMutation, map[string]any{"c": code, "o": "order-78"})
	if r.code() != "CONFLICT" || r.Errors[0].Extensions["orderExternalId"] != "order-77" || r.Errors[0].Extensions["redeemedAt"] == nil {
		t.Fatalf("another order: %q %+v", r.code(), r.Errors)
	}
	for _, c := range []struct{ code, order, want, field string }{
		{"hello", "o-1", "BAD_USER_INPUT", "code"},
		{"AAAA-AAAA-AAAA-AAAA", "o-1", "NOT_FOUND", "code"},
		{code, "an order", "BAD_USER_INPUT", "orderExternalId"},
		{code, strings.Repeat("o", 129), "BAD_USER_INPUT", "orderExternalId"},
	} {
		r := a.service(t, couponMutation, map[string]any{"c": c.code, "o": c.order})
		if r.code() != c.want || r.Errors[0].Extensions["field"] != c.field {
			t.Errorf("coupon %q on %q: %q %+v, want %s on %s", c.code, c.order, r.code(), r.Errors, c.want, c.field)
		}
	}
	if r := a.do(t, ann.bearer(), couponMutation, map[string]any{"c": code, "o": "o-2"}); r.code() != "FORBIDDEN" {
		t.Fatalf("a member redeeming: %q", r.code())
	}
	// Another member's order never links: its revenue is not the offer's.
	bob := a.signUp(t, "bob@example.com")
	a.service(t, recordActivity, purchaseVars(bob.Member.ID, "order-99", 5000)).decode(t, "recordActivity", &activityResult{})
	var foreign coupon
	a.do(t, sam.bearer(), couponMutation, map[string]any{"c": a.coupon(t, ann), "o": "order-99"}).decode(t, "redeemCoupon", &foreign)
	if foreign.Redemption == nil || foreign.Redemption.Purchase != nil {
		t.Fatalf("ann's coupon on bob's order links to his purchase: %+v", foreign.Redemption)
	}
}

// coupon is the code of an offer's coupon the member claims (a running
// percent-off offer for everyone).
func (a *app) coupon(t testing.TB, m session) string {
	t.Helper()
	now := time.Now().UTC()
	var offer struct{ ID string }
	a.service(t, `mutation($s: DateTime!, $e: DateTime!) { createOffer(input: {title: "10% off", body: "Members only",
	  benefit: {kind: PERCENT_OFF, value: 10}, startsAt: $s, endsAt: $e, holdoutPercent: 0}) { id } }`,
		map[string]any{"s": now.Add(-time.Minute).Format(time.RFC3339), "e": now.Add(48 * time.Hour).Format(time.RFC3339)}).decode(t, "createOffer", &offer)
	a.service(t, `mutation($id: ID!) { publishOffer(id: $id) { status } }`, map[string]any{"id": offer.ID}).decode(t, "publishOffer", &struct{ Status string }{})
	var c struct{ Code string }
	a.do(t, m.bearer(), `mutation($id: ID!) { claimOffer(offerId: $id) { code } }`, map[string]any{"id": offer.ID}).decode(t, "claimOffer", &c)
	return c.Code
}

// race runs n calls released together and returns their error codes ("" for success).
func race(t *testing.T, n int, call func(i int) (*gqlResponse, error)) []string {
	t.Helper()
	codes := make([]string, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			r, err := call(i)
			if err != nil {
				codes[i] = err.Error()
				return
			}
			codes[i] = r.code()
		})
	}
	close(start)
	wg.Wait()
	return codes
}

// Twenty tills fulfil one code at once: one wins, nineteen are told when
// and where it was; the database holds one fulfilment and one notification.
func TestConcurrentFulfilmentsOneWins(t *testing.T) {
	a := startApp(t, tillLimits)
	a.setProgram(t)
	ann := a.signUp(t, "ann@example.com")
	id, code := a.redeemed(t, ann, "mug", nil)
	codes := race(t, 20, func(i int) (*gqlResponse, error) {
		return a.post("ApiKey "+testAPIKey, fulfilMutation, map[string]any{"c": code, "l": fmt.Sprintf("till %d", i), "k": fmt.Sprintf("till-%d", i)})
	})
	if count(codes, "") != 1 || count(codes, "CONFLICT") != 19 {
		t.Fatalf("20 fulfilments answered %q: want one success and 19 CONFLICT", codes)
	}
	db := a.mongo.Database(a.Config.MongoDatabase)
	var r struct {
		Status     string
		Fulfilment struct{ Key, Location string }
	}
	if err := db.Collection("redemptions").FindOne(context.Background(), bson.D{{Key: "_id", Value: redemptionObjectID(t, id)}}).Decode(&r); err != nil {
		t.Fatal(err)
	}
	for i, c := range codes {
		if c == "" && (r.Status != "FULFILLED" || r.Fulfilment.Key != fmt.Sprintf("till-%d", i) || r.Fulfilment.Location != fmt.Sprintf("till %d", i)) {
			t.Fatalf("stored %+v, the winner was till %d", r, i)
		}
	}
	if n := testkit.Count(t, db.Collection("notifications"), bson.D{{Key: "kind", Value: "REDEMPTION_FULFILLED"}}); n != 1 {
		t.Fatalf("%d fulfilment notifications", n)
	}
}

// Twenty tills use one coupon on twenty orders at once: one wins.
func TestConcurrentCouponRedemptionsOneWins(t *testing.T) {
	a := startApp(t, tillLimits)
	a.setProgram(t)
	ann := a.signUp(t, "ann@example.com")
	code := a.coupon(t, ann)
	codes := race(t, 20, func(i int) (*gqlResponse, error) {
		return a.post("ApiKey "+testAPIKey, couponMutation, map[string]any{"c": code, "o": fmt.Sprintf("order-%d", i)})
	})
	if count(codes, "") != 1 || count(codes, "CONFLICT") != 19 {
		t.Fatalf("20 redemptions answered %q: want one success and 19 CONFLICT", codes)
	}
	db := a.mongo.Database(a.Config.MongoDatabase)
	var c struct {
		Redemption struct{ OrderExternalID string }
	}
	if err := db.Collection("offer_claims").FindOne(context.Background(), bson.D{{Key: "code", Value: code}}).Decode(&c); err != nil {
		t.Fatal(err)
	}
	for i, r := range codes {
		if r == "" && c.Redemption.OrderExternalID != fmt.Sprintf("order-%d", i) {
			t.Fatalf("stored order %q, the winner was order-%d", c.Redemption.OrderExternalID, i)
		}
	}
	if n := testkit.Count(t, db.Collection("notifications"), bson.D{{Key: "kind", Value: "COUPON_REDEEMED"}}); n != 1 {
		t.Fatalf("%d coupon notifications", n)
	}
}

func redemptionObjectID(t testing.TB, id string) bson.ObjectID {
	t.Helper()
	return testkit.Must(relay.DecodeID("Redemption", "id", id))(t)
}

// later is a second game over the app's database whose clock runs ahead by
// d: the background job of an instance that reads a later time.
func (a *app) later(d time.Duration) *game.Service {
	g := game.New(a.mongo.Database(a.Config.MongoDatabase), a.members, a.inbox)
	g.SetClock(func() time.Time { return time.Now().Add(d) })
	return g
}

// A code not fulfilled within the reward's validDays expires, and its
// points come back once, with a ledger entry that says so, however often
// the job runs; the member sees it; the till is told it expired.
func TestUnfulfilledRedemptionExpiresAndRefundsOnce(t *testing.T) {
	a := startApp(t, tillLimits)
	a.setProgram(t)
	ann := a.signUp(t, "ann@example.com")
	id, code := a.redeemed(t, ann, "mug", 1)
	_, lasting := a.redeemed(t, ann, "lasting", nil)
	job := a.later(49 * time.Hour)
	for run, want := range []int{1, 0} {
		if n, err := job.Rewards().ExpireRedemptions(context.Background(), 100); err != nil || n != want {
			t.Fatalf("run %d of the job: %d, %v; want %d", run+1, n, err, want)
		}
	}
	var me struct {
		Points struct {
			Balance int
			Ledger  struct {
				Edges []struct {
					Node struct {
						Type   string
						Amount int
						Reason string
						Source struct{ Kind string }
					}
				}
			}
		}
	}
	a.do(t, ann.bearer(), `{ me { points { balance ledger(first: 1) { edges { node { type amount reason source { kind } } } } } } }`, nil).decode(t, "me", &me)
	e := me.Points.Ledger.Edges[0].Node
	if me.Points.Balance != 100 || e.Type != "REFUND" || e.Amount != 100 || e.Source.Kind != "REDEMPTION" || !strings.Contains(e.Reason, "expired unused") {
		t.Fatalf("after expiry: balance %d, last entry %+v; want the 100 points back by a REFUND saying it expired", me.Points.Balance, e)
	}
	var mine struct {
		Edges []struct {
			Node struct {
				ID, Status string
				ExpiredAt  *time.Time
			}
		}
	}
	a.do(t, ann.bearer(), `{ myRedemptions(first: 5) { edges { node { id status expiredAt } } } }`, nil).decode(t, "myRedemptions", &mine)
	if n := mine.Edges[1].Node; n.ID != id || n.Status != "EXPIRED" || n.ExpiredAt == nil || mine.Edges[0].Node.Status != "COMPLETED" {
		t.Fatalf("myRedemptions: %+v", mine)
	}
	db := a.mongo.Database(a.Config.MongoDatabase)
	if n := testkit.Count(t, db.Collection("notifications"), bson.D{{Key: "kind", Value: "REDEMPTION_EXPIRED"}}); n != 1 {
		t.Fatalf("%d expiry notifications", n)
	}
	r := a.service(t, fulfilMutation, map[string]any{"c": code, "l": "Store", "k": "late-1"})
	if r.code() != "CONFLICT" || !strings.Contains(r.Errors[0].Message, "expired") {
		t.Fatalf("fulfilling an expired code: %q %+v", r.code(), r.Errors)
	}
	// A reward without validDays never expires.
	a.service(t, fulfilMutation, map[string]any{"c": lasting, "l": "Store", "k": "lasting-1"}).decode(t, "fulfillRedemption", &fulfilled{})
}

// Codes expiring while tills fulfil them: each ends FULFILLED or EXPIRED,
// never both, and only expired ones are refunded, once.
func TestExpiryRacingFulfilmentHasOneOutcome(t *testing.T) {
	a := startApp(t, tillLimits)
	a.setProgram(t)
	ann := a.signUp(t, "ann@example.com")
	const n = 10
	ids, codes := make([]string, n), make([]string, n)
	for i := range n {
		ids[i], codes[i] = a.redeemed(t, ann, fmt.Sprint("mug-", i), 1)
	}
	// The job walks the codes from the first, one at a time; the tills
	// fulfil from the last, each a few requests later than the one before,
	// so the two meet somewhere in the middle, on the same codes at once.
	job := a.later(49 * time.Hour)
	answers := race(t, n+1, func(i int) (*gqlResponse, error) {
		if i == n {
			for range n {
				if _, err := job.Rewards().ExpireRedemptions(context.Background(), 1); err != nil {
					return nil, err
				}
			}
			return &gqlResponse{}, nil
		}
		for range 4 * i {
			if _, err := a.post("ApiKey "+testAPIKey, `{ rewards(first: 1) { edges { cursor } } }`, nil); err != nil {
				return nil, err
			}
		}
		return a.post("ApiKey "+testAPIKey, fulfilMutation, map[string]any{"c": codes[n-1-i], "l": "Store", "k": fmt.Sprint("race-", n-1-i)})
	})
	answers = append(reversed(answers[:n]), answers[n])
	if answers[n] != "" {
		t.Fatalf("the expiry job: %s", answers[n])
	}
	if _, err := job.Rewards().ExpireRedemptions(context.Background(), 100); err != nil { // a rerun refunds nothing twice
		t.Fatal(err)
	}
	db := a.mongo.Database(a.Config.MongoDatabase)
	expired := 0
	for i, id := range ids {
		oid := redemptionObjectID(t, id)
		var r struct{ Status string }
		if err := db.Collection("redemptions").FindOne(context.Background(), bson.D{{Key: "_id", Value: oid}}).Decode(&r); err != nil {
			t.Fatal(err)
		}
		refunds := testkit.Count(t, db.Collection("ledger"), bson.D{{Key: "key", Value: "redeem:" + oid.Hex() + ":expired"}})
		switch {
		case r.Status == "FULFILLED" && answers[i] == "" && refunds == 0:
		case r.Status == "EXPIRED" && answers[i] == "CONFLICT" && refunds == 1:
			expired++
		default:
			t.Errorf("redemption %d: %s, the till was answered %q, %d refunds", i, r.Status, answers[i], refunds)
		}
	}
	var me struct{ Points struct{ Balance int } }
	a.do(t, ann.bearer(), `{ me { points { balance } } }`, nil).decode(t, "me", &me)
	if me.Points.Balance != 100*expired {
		t.Fatalf("balance %d after %d of %d codes expired: want %d", me.Points.Balance, expired, n, 100*expired)
	}
	t.Logf("%d fulfilled, %d expired", n-expired, expired)
}

func reversed(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}
