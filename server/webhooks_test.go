package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/internal/mongotest"
	"github.com/regulars/regulars/internal/testkit"
	"github.com/regulars/regulars/webhook"
)

// hookReceiver is a brand's endpoint: it verifies each delivery's
// signature with the secret createWebhook answered and keeps the payloads.
type hookReceiver struct {
	*httptest.Server
	secret string
	mu     sync.Mutex
	got    []webhook.Payload
	bad    int
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		if webhook.Verify(h.secret, r.Header.Get(webhook.SignatureHeader), body, time.Now(), 5*time.Minute) != nil {
			h.bad++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var p webhook.Payload
		if err := json.Unmarshal(body, &p); err != nil {
			h.bad++
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		h.got = append(h.got, p)
	}))
	t.Cleanup(h.Close)
	return h
}

// of returns the payloads received of type typ.
func (h *hookReceiver) of(typ webhook.Type) []webhook.Payload {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []webhook.Payload
	for _, p := range h.got {
		if p.Type == typ {
			out = append(out, p)
		}
	}
	return out
}

// perID counts the payloads received by event id.
func (h *hookReceiver) perID() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]int{}
	for _, p := range h.got {
		out[p.ID]++
	}
	return out
}

const createWebhookMutation = `mutation($url: String!, $events: [String!]!, $secret: String) {
  createWebhook(url: $url, events: $events, secret: $secret) { secret webhook { id url events secretHint } } }`

type createdWebhook struct {
	Secret  string
	Webhook struct {
		ID, URL, SecretHint string
		Events              []string
	}
}

// register registers h for every event type, with the secret the server makes.
func (a *app) register(t testing.TB, h *hookReceiver) createdWebhook {
	t.Helper()
	var c createdWebhook
	a.service(t, createWebhookMutation, map[string]any{"url": h.URL, "events": webhookTypes()}).decode(t, "createWebhook", &c)
	h.secret = c.Secret
	return c
}

func webhookTypes() []string {
	out := make([]string, len(webhook.Types))
	for i, t := range webhook.Types {
		out[i] = string(t)
	}
	return out
}

// Every event type wired here reaches a registered endpoint through the
// API, signed, with the API's ids: a sign-up, a purchase that moves the
// tier and unlocks a badge, a redemption, an RSVP. BRAND lists the
// webhook and its deliveries.
func TestWebhooksEndToEnd(t *testing.T) {
	a := startApp(t, nil)
	a.setProgram(t)
	h := newHookReceiver(t)
	c := a.register(t, h)
	if !strings.HasPrefix(c.Secret, "whsec_") || strings.Contains(c.Webhook.SecretHint, c.Secret[8:20]) || len(c.Webhook.Events) != len(webhook.Types) {
		t.Fatalf("created %+v", c)
	}
	a.service(t, `mutation { createBadge(input: {name: "First", counter: PURCHASES, levels: [{name: "ONE", threshold: 1}]}) { id } }`, nil).
		decode(t, "createBadge", &struct{}{})
	var reward struct{ ID string }
	a.service(t, `mutation { createReward(input: {name: "Mug", cost: 100}) { id } }`, nil).decode(t, "createReward", &reward)

	ann := a.signUp(t, "ann@example.com")
	var act struct {
		Activity struct{ ID string }
	}
	a.service(t, recordActivity, purchaseVars(ann.Member.ID, "order-1", 20000)).decode(t, "recordActivity", &act)
	var red struct{ ID string }
	a.do(t, ann.bearer(), `mutation($r: ID!) { redeemReward(rewardId: $r, idempotencyKey: "k1") { id } }`, map[string]any{"r": reward.ID}).
		decode(t, "redeemReward", &red)
	eventID := a.publishedEvent(t, nil)
	a.rsvp(t, ann, eventID, 0, "rsvp-1")

	for _, typ := range []webhook.Type{webhook.MemberCreated, webhook.ActivityRecorded, webhook.TierChanged, webhook.BadgeUnlocked,
		webhook.RedemptionCreated, webhook.RSVPChanged} {
		testkit.Eventually(t, 20*time.Second, func() bool { return len(h.of(typ)) > 0 }, "no %s delivered", typ)
	}
	data := func(typ webhook.Type) map[string]any { return h.of(typ)[0].Data }
	if d := data(webhook.MemberCreated); d["member"] != ann.Member.ID || d["email"] != "ann@example.com" {
		t.Errorf("member.created %v", d)
	}
	if d := data(webhook.ActivityRecorded); d["activity"] != act.Activity.ID || d["member"] != ann.Member.ID || d["kind"] != "PURCHASE" || d["externalId"] != "order-1" {
		t.Errorf("activity.recorded %v", d)
	}
	if d := data(webhook.TierChanged); d["from"] != "Member" || d["to"] != "Silver" || d["member"] != ann.Member.ID {
		t.Errorf("tier.changed %v", d)
	}
	if d := data(webhook.BadgeUnlocked); d["level"] != "ONE" || d["member"] != ann.Member.ID {
		t.Errorf("badge.unlocked %v", d)
	}
	if d := data(webhook.RedemptionCreated); d["redemption"] != red.ID || d["reward"] != reward.ID || d["points"] != float64(100) {
		t.Errorf("redemption.created %v", d)
	}
	if d := data(webhook.RSVPChanged); d["event"] != eventID || d["status"] != "CONFIRMED" || d["member"] != ann.Member.ID {
		t.Errorf("rsvp.changed %v", d)
	}
	// The ids are the API's: node(id:) finds the activity.
	var node struct{ ID string }
	a.service(t, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": data(webhook.ActivityRecorded)["activity"]}).decode(t, "node", &node)
	if node.ID != act.Activity.ID {
		t.Errorf("node of the payload's activity: %+v", node)
	}
	h.mu.Lock()
	bad := h.bad
	h.mu.Unlock()
	if bad != 0 {
		t.Errorf("%d deliveries did not verify", bad)
	}

	var list struct {
		Edges []struct{ Node struct{ ID, URL string } }
	}
	a.service(t, `{ webhooks(first: 10) { edges { node { id url } } } }`, nil).decode(t, "webhooks", &list)
	if len(list.Edges) != 1 || list.Edges[0].Node.ID != c.Webhook.ID {
		t.Fatalf("webhooks %+v", list)
	}
	var ds struct {
		Edges []struct {
			Node struct {
				ID, WebhookID, EventID, EventType, State string
				Attempts, LastStatus                     int
			}
		}
	}
	testkit.Eventually(t, 10*time.Second, func() bool {
		a.service(t, `query($id: ID!) { webhookDeliveries(webhookId: $id, state: DELIVERED, first: 100) { edges { node { id webhookId eventId eventType state attempts lastStatus } } } }`,
			map[string]any{"id": c.Webhook.ID}).decode(t, "webhookDeliveries", &ds)
		return len(ds.Edges) == len(h.perID())
	}, "deliveries listed as DELIVERED: %d, received %d", len(ds.Edges), len(h.perID()))
	for _, e := range ds.Edges {
		if e.Node.WebhookID != c.Webhook.ID || e.Node.Attempts != 1 || e.Node.LastStatus != 200 || h.perID()[e.Node.EventID] != 1 {
			t.Errorf("delivery %+v", e.Node)
		}
	}
	// A customer sees none of it.
	if r := a.do(t, ann.bearer(), `{ webhooks { edges { node { id } } } }`, nil); r.code() != "FORBIDDEN" {
		t.Errorf("a customer listed webhooks: %+v", r.Errors)
	}
	if r := a.do(t, ann.bearer(), `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": c.Webhook.ID}); r.code() != "NOT_FOUND" {
		t.Errorf("a customer fetched the webhook node: %+v", r.Errors)
	}

	// Update, redeliver, delete.
	var up struct{ Events []string }
	a.service(t, `mutation($id: ID!) { updateWebhook(id: $id, events: ["tier.changed"]) { events } }`, map[string]any{"id": c.Webhook.ID}).decode(t, "updateWebhook", &up)
	if len(up.Events) != 1 || up.Events[0] != "tier.changed" {
		t.Errorf("updated events %v", up.Events)
	}
	var again struct{ State string }
	a.service(t, `mutation($id: ID!) { redeliver(deliveryId: $id) { state } }`, map[string]any{"id": ds.Edges[0].Node.ID}).decode(t, "redeliver", &again)
	if again.State != "PENDING" {
		t.Errorf("redelivered: %+v", again)
	}
	first := ds.Edges[0].Node.EventID
	testkit.Eventually(t, 10*time.Second, func() bool { return h.perID()[first] == 2 }, "the redelivery did not arrive")
	var gone string
	a.service(t, `mutation($id: ID!) { deleteWebhook(id: $id) }`, map[string]any{"id": c.Webhook.ID}).decode(t, "deleteWebhook", &gone)
	if r := a.service(t, `mutation($id: ID!) { deleteWebhook(id: $id) }`, map[string]any{"id": c.Webhook.ID}); r.code() != "NOT_FOUND" {
		t.Errorf("second delete: %+v", r.Errors)
	}
}

// Bad webhook input is refused naming the field, and nothing is written.
func TestWebhookInputRefused(t *testing.T) {
	a := startApp(t, nil)
	for _, c := range []struct {
		url    string
		events []string
		secret any
		field  string
	}{
		{"ftp://example.com/hook", []string{"member.created"}, nil, "url"},
		{"https://example.com/" + strings.Repeat("a", webhook.MaxURL), []string{"member.created"}, nil, "url"},
		{"https://example.com/hook", []string{"member.created", "order.shipped"}, nil, "events[1]"},
		{"https://example.com/hook", []string{}, nil, "events"},
		{"https://example.com/hook", []string{"member.created"}, "short", "secret"},
		{"https://example.com/hook", []string{"member.created"}, strings.Repeat("s", webhook.MaxSecret+1), "secret"},
	} {
		r := a.service(t, createWebhookMutation, map[string]any{"url": c.url, "events": c.events, "secret": c.secret})
		if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != c.field {
			t.Errorf("%.40s %v: want BAD_USER_INPUT on %s, got %+v", c.url, c.events, c.field, r.Errors)
		}
	}
	if n := testkit.Count(t, a.mongo.Database(a.Config.MongoDatabase).Collection("webhook_endpoints"), nil); n != 0 {
		t.Errorf("%d webhooks written", n)
	}
	if r := a.service(t, `mutation { redeliver(deliveryId: "bm9wZQ") { id } }`, nil); r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "deliveryId" {
		t.Errorf("redeliver of a bad id: %+v", r.Errors)
	}
}

// In production a webhook URL must be https and must not name a loopback,
// private or link-local address.
func TestWebhookURLInProduction(t *testing.T) {
	a := startApp(t, map[string]string{"APP_ENV": "production"})
	for _, url := range []string{"http://example.com/hook", "https://127.0.0.1/hook", "https://192.168.1.10/hook", "https://169.254.169.254/", "https://localhost/hook"} {
		r := a.service(t, createWebhookMutation, map[string]any{"url": url, "events": []string{"member.created"}})
		if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "url" {
			t.Errorf("%s: want BAD_USER_INPUT on url, got %+v", url, r.Errors)
		}
	}
	if n := testkit.Count(t, a.mongo.Database(a.Config.MongoDatabase).Collection("webhook_endpoints"), nil); n != 0 {
		t.Errorf("%d webhooks written", n)
	}
}

// The server stops after writing causes and before delivering them (its
// delivery loop never ran; one cause's event was not even written when it
// stopped): started again, it delivers each event to each endpoint exactly
// once, and replaying a cause delivers nothing more.
func TestWebhookSurvivesRestartOncePerEndpoint(t *testing.T) {
	h1, h2 := newHookReceiver(t), newHookReceiver(t)
	first := startApp(t, nil, func(m *Main) { m.webhooksOff = true })
	dbName := first.Config.MongoDatabase
	first.setProgram(t)
	first.register(t, h1)
	first.register(t, h2)
	ann := first.signUp(t, "ann@example.com")
	var act struct {
		Activity struct{ ID string }
	}
	purchase := purchaseVars(ann.Member.ID, "order-1", 20000)
	first.service(t, recordActivity, purchase).decode(t, "recordActivity", &act)
	eventID := first.publishedEvent(t, nil)
	first.rsvp(t, ann, eventID, 0, "rsvp-1")
	db := mongotest.Client(t).Database(dbName)
	ctx := context.Background()
	// The purchase's crash came before its events were written: its effects
	// are still pending, and the outbox has nothing of it.
	actID := mustActivityID(t, act.Activity.ID)
	if _, err := db.Collection("activities").UpdateOne(ctx, bson.D{{Key: "_id", Value: actID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "effectsPending", Value: true}, {Key: "createdAt", Value: time.Now().Add(-time.Hour)}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection("webhook_events").DeleteMany(ctx, bson.D{{Key: "type", Value: bson.D{{Key: "$in", Value: bson.A{"activity.recorded", "tier.changed"}}}}}); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	// A server killed holds its job leases until they expire: they have.
	if _, err := db.Collection("leases").UpdateMany(ctx, bson.D{}, bson.D{{Key: "$set", Value: bson.D{{Key: "expiresAt", Value: time.Now().Add(-time.Second)}}}}); err != nil {
		t.Fatal(err)
	}
	if len(h1.perID())+len(h2.perID()) != 0 {
		t.Fatal("delivered before the restart")
	}

	again := startApp(t, map[string]string{"MONGODB_DATABASE": dbName})
	want := []webhook.Type{webhook.MemberCreated, webhook.ActivityRecorded, webhook.TierChanged, webhook.RSVPChanged}
	for _, h := range []*hookReceiver{h1, h2} {
		for _, typ := range want {
			testkit.Eventually(t, 90*time.Second, func() bool { return len(h.of(typ)) > 0 }, "%s not delivered after the restart", typ)
		}
	}
	// A replay of the purchase changes nothing: no new event.
	again.service(t, recordActivity, purchase).decode(t, "recordActivity", &act)
	deliveries := db.Collection("webhook_deliveries")
	testkit.Eventually(t, 20*time.Second, func() bool {
		return testkit.Count(t, deliveries, bson.D{{Key: "state", Value: bson.D{{Key: "$ne", Value: "DELIVERED"}}}}) == 0
	}, "deliveries still pending")
	events := testkit.Count(t, db.Collection("webhook_events"), nil)
	if n := testkit.Count(t, deliveries, bson.D{{Key: "attempts", Value: 1}}); n != 2*events || testkit.Count(t, deliveries, nil) != 2*events {
		t.Errorf("%d deliveries made in one attempt, want one per endpoint for each of %d events", n, events)
	}
	for i, h := range []*hookReceiver{h1, h2} {
		ids := h.perID()
		if int64(len(ids)) != events {
			t.Errorf("endpoint %d got %d event ids, want %d", i+1, len(ids), events)
		}
		for id, n := range ids {
			if n != 1 {
				t.Errorf("endpoint %d got %s %d times", i+1, id, n)
			}
		}
	}
}

func mustActivityID(t *testing.T, apiID string) bson.ObjectID {
	t.Helper()
	raw := testkit.Must(base64.RawURLEncoding.DecodeString(apiID))(t)
	_, hex, _ := strings.Cut(string(raw), ":")
	return testkit.Must(bson.ObjectIDFromHex(hex))(t)
}

// What happens at the till reaches the brand's systems: a reward handed
// over (redemption.fulfilled, with the place and the staff member) and a
// coupon used on an order (coupon.redeemed, with the order's id), each
// once, even when the till retries.
func TestTillEventsReachWebhooks(t *testing.T) {
	a := startApp(t, nil)
	a.setProgram(t)
	h := newHookReceiver(t)
	a.register(t, h)
	ann := a.signUp(t, "ann@example.com")
	sam := a.staff(t, "sam@example.com")

	redemptionID, code := a.redeemed(t, ann, "mug-1", nil)
	vars := map[string]any{"c": code, "l": "Rue de Rivoli, till 3", "k": "till3-0001"}
	for range 2 { // a retry with the same key
		a.do(t, sam.bearer(), fulfilMutation, vars).decode(t, "fulfillRedemption", &struct{ Status string }{})
	}
	coupon := a.coupon(t, ann)
	a.do(t, sam.bearer(), couponMutation, map[string]any{"c": coupon, "o": "order-77"}).decode(t, "redeemCoupon", &struct{ Code string }{})

	testkit.Eventually(t, 30*time.Second, func() bool {
		return len(h.of(webhook.RedemptionFulfilled)) > 0 && len(h.of(webhook.CouponRedeemed)) > 0
	}, "the till's events never reached the endpoint")
	// References arrive as the API's ids.
	f := h.of(webhook.RedemptionFulfilled)
	if len(f) != 1 || f[0].Data["redemption"] != redemptionID || f[0].Data["location"] != "Rue de Rivoli, till 3" || f[0].Data["staff"] != sam.Member.ID {
		t.Fatalf("redemption.fulfilled: %+v", f)
	}
	c := h.of(webhook.CouponRedeemed)
	if len(c) != 1 || c[0].Data["orderExternalId"] != "order-77" || c[0].Data["code"] != coupon || c[0].Data["member"] != ann.Member.ID {
		t.Fatalf("coupon.redeemed: %+v", c)
	}
}
