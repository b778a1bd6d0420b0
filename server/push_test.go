package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/graph"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/internal/testkit"
	"github.com/regulars/regulars/push"
	"github.com/regulars/regulars/push/pushtest"
)

// Every notification kind of the API has a push policy, in push.Policies.
func TestEveryNotificationKindHasAPushPolicy(t *testing.T) {
	schema := graph.Schema()
	kinds := schema.Types["NotificationKind"]
	if kinds == nil || len(kinds.EnumValues) == 0 {
		t.Fatal("the schema has no NotificationKind enum")
	}
	var inSchema []inbox.Kind
	for _, v := range kinds.EnumValues {
		k := inbox.Kind(v.Name)
		inSchema = append(inSchema, k)
		if _, ok := push.Policies[k]; !ok {
			t.Errorf("notification kind %s has no push policy: add it to push.Policies (ALWAYS, MARKETING or NEVER)", k)
		}
	}
	for k, p := range push.Policies {
		if !slices.Contains(inSchema, k) {
			t.Errorf("push.Policies lists %s, which the API does not have", k)
		}
		if p != push.PolicyAlways && p != push.PolicyMarketing && p != push.PolicyNever {
			t.Errorf("%s: unknown policy %q", k, p)
		}
	}
}

const registerDevice = `mutation($t: String!, $p: DevicePlatform!, $v: String, $l: String) {
  registerDevice(token: $t, platform: $p, appVersion: $v, locale: $l) { token platform appVersion locale registeredAt lastSeenAt } }`

// pushApp is a server whose FCM is the fake.
func pushApp(t *testing.T, fcm *pushtest.FCM, env map[string]string) *app {
	t.Helper()
	base := map[string]string{"FCM_CREDENTIALS_FILE": fcm.CredentialsFile, "FCM_BASE_URL": fcm.Server.URL}
	for k, v := range env {
		base[k] = v
	}
	return startApp(t, base)
}

func (a *app) registerDevice(t testing.TB, s session, token, platform string) {
	t.Helper()
	var d struct{ Token, Platform string }
	a.do(t, s.bearer(), registerDevice, map[string]any{"t": token, "p": platform, "v": "3.2.1", "l": "fr-CA"}).decode(t, "registerDevice", &d)
	if d.Token != token || d.Platform != platform {
		t.Fatalf("registered %+v", d)
	}
}

func (a *app) myDevices(t testing.TB, s session) []string {
	t.Helper()
	var ds []struct{ Token string }
	a.do(t, s.bearer(), `{ myDevices { token platform appVersion locale } }`, nil).decode(t, "myDevices", &ds)
	var out []string
	for _, d := range ds {
		out = append(out, d.Token)
	}
	return out
}

// waitPushed waits until the fake accepted a push titled title (an
// instance that stopped holds the outbox's lease up to pushLease).
func waitPushed(t testing.TB, f *pushtest.FCM, title string) {
	t.Helper()
	testkit.Eventually(t, 3*pushLease, func() bool { return slices.Contains(pushTitles(f.Accepted()), title) }, "no push titled %q reached FCM", title)
}

func pushTitles(ps []pushtest.Push) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Title)
	}
	return out
}

func count(titles []string, title string) int {
	n := 0
	for _, s := range titles {
		if s == title {
			n++
		}
	}
	return n
}

// A reward earned while the app is closed (no socket) reaches FCM once.
func TestRewardReachesThePhoneOnce(t *testing.T) {
	fcm := pushtest.NewFCM(t)
	a := pushApp(t, fcm, nil)
	a.setProgram(t)
	ann := a.signUp(t, "ann@example.com")
	a.registerDevice(t, ann, "fcm:ann-phone", "ANDROID")
	a.service(t, recordActivity, purchaseVars(ann.Member.ID, "order-1", 4250)).decode(t, "recordActivity", &activityResult{})
	var inbox struct {
		Edges []struct {
			Node struct{ ID, Kind, Title string }
		}
	}
	a.do(t, ann.bearer(), `{ notifications(first: 1) { edges { node { id kind title } } } }`, nil).decode(t, "notifications", &inbox)
	reward := inbox.Edges[0].Node
	if reward.Kind != "REWARD_EARNED" {
		t.Fatalf("newest notification %+v", reward)
	}
	waitPushed(t, fcm, reward.Title)
	// A later push arriving means the outbox ran again since: the reward
	// was not sent a second time.
	a.service(t, `mutation($id: ID!) { sendNotification(memberId: $id, title: "Later", body: "b") { id } }`, map[string]any{"id": ann.Member.ID})
	waitPushed(t, fcm, "Later")
	got := fcm.Received()
	if titles := pushTitles(got); count(titles, reward.Title) != 1 || slices.Contains(titles, "Welcome to Regulars") || len(titles) != 2 {
		t.Fatalf("FCM received %v; want the reward once and the later message (WELCOME is never pushed)", titles)
	}
	if got[0].Token != "fcm:ann-phone" || got[0].Data["kind"] != "REWARD_EARNED" || got[0].CollapseID == "" {
		t.Fatalf("push %+v", got[0])
	}
}

// UNREGISTERED deletes the token: myDevices no longer lists it.
func TestUnregisteredTokenIsDeleted(t *testing.T) {
	fcm := pushtest.NewFCM(t)
	fcm.Answer(func(token string, _ int) pushtest.Reply {
		if token == "fcm:uninstalled" {
			return pushtest.Reply{Status: 404, Reason: "UNREGISTERED"}
		}
		return pushtest.Reply{}
	})
	a := pushApp(t, fcm, nil)
	ann := a.signUp(t, "ann@example.com")
	a.registerDevice(t, ann, "fcm:uninstalled", "ANDROID")
	a.registerDevice(t, ann, "fcm:tablet", "ANDROID")
	a.service(t, `mutation($id: ID!) { sendNotification(memberId: $id, title: "Hello", body: "b") { id } }`, map[string]any{"id": ann.Member.ID})
	waitPushed(t, fcm, "Hello")
	testkit.Eventually(t, 10*time.Second, func() bool { return fmt.Sprint(a.myDevices(t, ann)) == "[fcm:tablet]" }, "the unregistered token was not deleted")
}

// Quiet hours hold a marketing push (an offer) and let a redemption through.
func TestQuietHoursHoldMarketingButNotRedemptions(t *testing.T) {
	fcm := pushtest.NewFCM(t)
	a := pushApp(t, fcm, nil)
	a.setProgram(t)
	paris := testkit.Must(time.LoadLocation("Europe/Paris"))(t)
	h := time.Now().In(paris).Hour()
	a.service(t, `mutation($s: Int!, $e: Int!) { updateProgram(input: {push: {quietHoursStart: $s, quietHoursEnd: $e, marketingDailyCap: 5}}) { push { quietHoursStart } } }`,
		map[string]any{"s": h, "e": (h + 2) % 24}).decode(t, "updateProgram", &struct{}{})
	ann := a.signUp(t, "ann@example.com") // in Europe/Paris
	a.do(t, ann.bearer(), `mutation { updateProfile(input: {marketingConsent: true}) { id } }`, nil).decode(t, "updateProfile", &struct{}{})
	a.registerDevice(t, ann, "fcm:ann", "ANDROID")

	now := time.Now().UTC()
	var offer struct{ ID string }
	a.service(t, `mutation($s: DateTime!, $e: DateTime!) { createOffer(input: {title: "Double points weekend", body: "Members only",
	  benefit: {kind: BONUS_POINTS, value: 100}, startsAt: $s, endsAt: $e, holdoutPercent: 0}) { id } }`,
		map[string]any{"s": now.Add(-time.Minute).Format(time.RFC3339), "e": now.Add(48 * time.Hour).Format(time.RFC3339)}).decode(t, "createOffer", &offer)
	a.service(t, `mutation($id: ID!) { publishOffer(id: $id) { status } }`, map[string]any{"id": offer.ID}).decode(t, "publishOffer", &struct{}{})
	db := a.mongo.Database(a.Config.MongoDatabase)
	var held struct {
		Status string
		NextAt time.Time
	}
	testkit.Eventually(t, 20*time.Second, func() bool {
		return db.Collection("push_deliveries").FindOne(context.Background(), bson.D{{Key: "kind", Value: "OFFER_AVAILABLE"}}).Decode(&held) == nil
	}, "the offer's push was never queued")

	a.service(t, recordActivity, purchaseVars(ann.Member.ID, "order-1", 5000)).decode(t, "recordActivity", &activityResult{})
	var reward struct{ ID string }
	a.service(t, `mutation { createReward(input: {name: "Mug", cost: 100}) { id } }`, nil).decode(t, "createReward", &reward)
	a.do(t, ann.bearer(), `mutation($r: ID!) { redeemReward(rewardId: $r, idempotencyKey: "mug") { id } }`, map[string]any{"r": reward.ID}).decode(t, "redeemReward", &struct{}{})
	testkit.Eventually(t, 20*time.Second, func() bool {
		return slices.ContainsFunc(fcm.Accepted(), func(p pushtest.Push) bool { return p.Data["kind"] == "REDEMPTION" })
	}, "the redemption was not pushed during quiet hours")

	if err := db.Collection("push_deliveries").FindOne(context.Background(), bson.D{{Key: "kind", Value: "OFFER_AVAILABLE"}}).Decode(&held); err != nil {
		t.Fatal(err)
	}
	local := held.NextAt.In(paris)
	if held.Status != "PENDING" || local.Hour() != (h+2)%24 || local.Minute() != 0 || !held.NextAt.After(time.Now()) {
		t.Fatalf("the offer's push is %s until %s, want held until %02d:00 in Paris", held.Status, local, (h+2)%24)
	}
	if slices.ContainsFunc(fcm.Received(), func(p pushtest.Push) bool { return p.Data["kind"] == "OFFER_AVAILABLE" }) {
		t.Fatal("the offer was pushed during quiet hours")
	}
}

// A crash between storing and pushing loses nothing: notifications stored
// by an instance that stops before reaching the provider are pushed, once,
// by the next one.
func TestNotificationsStoredBeforeACrashArePushed(t *testing.T) {
	down := pushtest.NewFCM(t)
	down.Server.Close() // the provider is unreachable from the first instance
	db := testkit.Database(t)
	first := pushApp(t, down, map[string]string{"MONGODB_DATABASE": db.Name()})
	ann := first.signUp(t, "ann@example.com")
	first.registerDevice(t, ann, "fcm:ann", "ANDROID")
	for _, title := range []string{"One", "Two"} {
		first.service(t, `mutation($id: ID!, $t: String!) { sendNotification(memberId: $id, title: $t, body: "b") { id } }`, map[string]any{"id": ann.Member.ID, "t": title})
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	fcm := pushtest.NewFCM(t)
	second := pushApp(t, fcm, map[string]string{"MONGODB_DATABASE": db.Name()})
	waitPushed(t, fcm, "One")
	waitPushed(t, fcm, "Two")
	second.service(t, `mutation($id: ID!) { sendNotification(memberId: $id, title: "Three", body: "b") { id } }`, map[string]any{"id": ann.Member.ID})
	waitPushed(t, fcm, "Three")
	if titles := pushTitles(fcm.Received()); len(titles) != 3 {
		t.Fatalf("FCM received %v, want One, Two and Three once each", titles)
	}
}

// Bad input is refused with the field named and nothing is written.
func TestRegisterDeviceBadInput(t *testing.T) {
	a := startApp(t, nil)
	ann := a.signUp(t, "ann@example.com")
	for _, c := range []struct {
		name, token, platform, field string
	}{
		{"empty token", "", "ANDROID", "token"},
		{"blank token", "   ", "ANDROID", "token"},
		{"oversized token", strings.Repeat("a", push.MaxToken+1), "ANDROID", "token"},
		{"iOS token not hexadecimal", "not-hex-at-all", "IOS", "token"},
	} {
		r := a.do(t, ann.bearer(), registerDevice, map[string]any{"t": c.token, "p": c.platform})
		if r.code() != graph.CodeBadUserInput || r.Errors[0].Extensions["field"] != c.field {
			t.Errorf("%s: %+v, want BAD_USER_INPUT on %s", c.name, r.Errors, c.field)
		}
	}
	// The enum refuses it before any resolver runs, naming the variable and the type.
	r := a.do(t, ann.bearer(), registerDevice, map[string]any{"t": "fcm:x", "p": "BLACKBERRY"})
	if r.code() != graph.CodeBadUserInput || !strings.Contains(r.Errors[0].Message, "DevicePlatform") || fmt.Sprint(r.Errors[0].Path) != "[variable p]" {
		t.Errorf("unknown platform: %+v", r.Errors)
	}
	r = a.do(t, ann.bearer(), `mutation { unregisterDevice(token: "fcm:never-registered") }`, nil)
	if r.code() != graph.CodeNotFound || r.Errors[0].Extensions["field"] != "token" {
		t.Errorf("unregistering an unknown token: %+v", r.Errors)
	}
	if got := a.myDevices(t, ann); len(got) != 0 {
		t.Fatalf("refused registrations wrote %v", got)
	}
	if r := a.do(t, "", `{ myDevices { token } }`, nil); r.code() != graph.CodeUnauthenticated {
		t.Fatalf("myDevices without signing in: %+v", r.Errors)
	}
	// A token registered by another member moves to them.
	bob := a.signUp(t, "bob@example.com")
	a.registerDevice(t, ann, "fcm:shared", "ANDROID")
	a.registerDevice(t, bob, "fcm:shared", "ANDROID")
	if fmt.Sprint(a.myDevices(t, ann)) != "[]" || fmt.Sprint(a.myDevices(t, bob)) != "[fcm:shared]" {
		t.Fatalf("after bob registered the token: ann %v, bob %v", a.myDevices(t, ann), a.myDevices(t, bob))
	}
	var ok bool
	a.do(t, bob.bearer(), `mutation { unregisterDevice(token: "fcm:shared") }`, nil).decode(t, "unregisterDevice", &ok)
	if !ok || len(a.myDevices(t, bob)) != 0 {
		t.Fatal("unregisterDevice kept the device")
	}
}
