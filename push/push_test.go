package push

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/testkit"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/push/pushtest"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// members is an in-memory Members.
type members struct {
	mu sync.Mutex
	m  map[bson.ObjectID]*member.Member
}

func (ms *members) Get(_ context.Context, id bson.ObjectID) (*member.Member, error) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if m, ok := ms.m[id]; ok {
		return m, nil
	}
	return nil, member.ErrNotFound
}

func (ms *members) add(tz string, consent bool) bson.ObjectID {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	id := bson.NewObjectID()
	ms.m[id] = &member.Member{ID: id, Timezone: tz, MarketingConsent: consent}
	return id
}

type env struct {
	t        testing.TB
	svc      *Service
	in       *inbox.Inbox
	members  *members
	clock    *testkit.Clock
	settings Settings
	fcm      *pushtest.FCM
	apns     *pushtest.APNs
	deps     Deps
}

// newEnv is the service over a fresh database with fake FCM and APNs, at
// noon in Paris, no quiet hours and no cap unless a test sets them.
func newEnv(t testing.TB) *env {
	t.Helper()
	db := testkit.Database(t)
	e := &env{t: t, members: &members{m: map[bson.ObjectID]*member.Member{}}, fcm: pushtest.NewFCM(t), apns: pushtest.NewAPNs(t),
		clock: testkit.NewClock(time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC))} // 12:00 in Paris
	e.in = inbox.New(db, inbox.NewMemoryBroker())
	e.in.SetClock(e.clock.Now)
	e.in.SetPush(Pushable)
	fcm, err := NewFCM(context.Background(), testkit.Must(os.ReadFile(e.fcm.CredentialsFile))(t), e.fcm.Server.URL, e.fcm.Server.Client())
	if err != nil {
		t.Fatal(err)
	}
	fcm.now = e.clock.Now
	apns, err := NewAPNs(APNsConfig{KeyFile: e.apns.KeyFile, KeyID: "TEST123456", TeamID: "TEAM123456", Topic: e.apns.Topic, Host: e.apns.Server.URL}, e.apns.Server.Client())
	if err != nil {
		t.Fatal(err)
	}
	e.deps = Deps{Inbox: e.in, Members: e.members, Now: e.clock.Now,
		Settings:  func(context.Context) (Settings, error) { return e.settings, nil },
		Providers: map[Platform]Provider{PlatformAndroid: fcm, PlatformWeb: fcm, PlatformIOS: apns}}
	e.svc = New(db, e.deps)
	testkit.EnsureIndexes(t, e.in.EnsureIndexes, e.svc.EnsureIndexes)
	return e
}

// restart is another instance over the same database: what a crash leaves.
func (e *env) restart() { e.svc = New(e.svc.devices.Database(), e.deps) }

func (e *env) register(memberID bson.ObjectID, p Platform, token string) {
	e.t.Helper()
	if _, err := e.svc.Register(context.Background(), memberID, Registration{Token: token, Platform: p, AppVersion: "2.1.0", Locale: "fr-FR"}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) notify(memberID bson.ObjectID, k inbox.Kind, title string) *inbox.Notification {
	e.t.Helper()
	n, err := e.in.Send(context.Background(), inbox.Message{MemberID: memberID, Kind: k, Title: title, Body: "body of " + title})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) deliver() Report {
	e.t.Helper()
	r, err := e.svc.Deliver(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *env) devices(memberID bson.ObjectID) []string {
	e.t.Helper()
	ds := testkit.Must(e.svc.Devices(context.Background(), memberID))(e.t)
	var tokens []string
	for _, d := range ds {
		tokens = append(tokens, d.Token)
	}
	return tokens
}

func titles(ps []pushtest.Push) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Title)
	}
	return out
}

const androidToken = "fcm-token:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx"
const iosToken = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"

func TestIndexesExist(t *testing.T) {
	e := newEnv(t)
	testkit.RequireIndexes(t, e.svc.devices, indexDeviceMember)
	testkit.RequireIndexes(t, e.svc.deliveries, indexDeliveryDue, indexDeliveryMember, indexDeliveryToken, indexDeliveryEnded)
	testkit.RequireIndexes(t, e.svc.marketing, indexMarketingDay)
}

func TestRegisterRefusesBadInputAndWritesNothing(t *testing.T) {
	e := newEnv(t)
	ann := e.members.add("Europe/Paris", true)
	for _, c := range []struct {
		name  string
		r     Registration
		field string
	}{
		{"unknown platform", Registration{Token: androidToken, Platform: "BLACKBERRY"}, "platform"},
		{"empty token", Registration{Token: "  ", Platform: PlatformAndroid}, "token"},
		{"oversized token", Registration{Token: strings.Repeat("a", MaxToken+1), Platform: PlatformAndroid}, "token"},
		{"token with a space", Registration{Token: "abc def", Platform: PlatformAndroid}, "token"},
		{"iOS token not hex", Registration{Token: "not-hex", Platform: PlatformIOS}, "token"},
		{"app version with a control", Registration{Token: androidToken, Platform: PlatformAndroid, AppVersion: "1.0\x00"}, "appVersion"},
		{"locale", Registration{Token: androidToken, Platform: PlatformAndroid, Locale: "not a locale!"}, "locale"},
	} {
		_, err := e.svc.Register(context.Background(), ann, c.r)
		in, ok := input.As(err)
		if !ok || in.Field != c.field || fault.CodeOf(err) != fault.Invalid {
			t.Errorf("%s: %v, want an input error on %s", c.name, err, c.field)
		}
	}
	if n := testkit.Count(t, e.svc.devices, nil); n != 0 {
		t.Fatalf("refused registrations wrote %d devices", n)
	}
}

// A member keeps several devices; a token registered again by another
// member moves to them; unregistering takes only one's own.
func TestDevicesMoveToTheLastRegistrant(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ann, bob := e.members.add("UTC", true), e.members.add("UTC", true)
	e.register(ann, PlatformAndroid, androidToken)
	e.clock.Add(time.Minute)
	e.register(ann, PlatformIOS, strings.ToUpper(iosToken)) // stored lower-case
	if got := e.devices(ann); len(got) != 2 || got[0] != iosToken {
		t.Fatalf("ann's devices = %v", got)
	}
	e.clock.Add(time.Minute)
	e.register(bob, PlatformAndroid, androidToken) // the phone changed hands
	if got, bobs := e.devices(ann), e.devices(bob); len(got) != 1 || len(bobs) != 1 || bobs[0] != androidToken {
		t.Fatalf("after bob registered the token: ann %v, bob %v", got, bobs)
	}
	if n := testkit.Count(t, e.svc.devices, nil); n != 2 {
		t.Fatalf("%d device documents, want 2 (one per token)", n)
	}
	if err := e.svc.Unregister(ctx, ann, androidToken); !errors.Is(err, ErrDeviceNotFound) {
		t.Fatalf("ann unregistering bob's token: %v", err)
	}
	if err := e.svc.Unregister(ctx, ann, strings.ToUpper(iosToken)); err != nil {
		t.Fatal(err)
	}
	if got := e.devices(ann); len(got) != 0 {
		t.Fatalf("after unregistering: %v", got)
	}
	// Past MaxDevices the device seen longest ago goes.
	for i := range MaxDevices + 1 {
		e.clock.Add(time.Second)
		e.register(ann, PlatformWeb, "web-token-"+string(rune('a'+i)))
	}
	if got := e.devices(ann); len(got) != MaxDevices || got[len(got)-1] != "web-token-b" {
		t.Fatalf("%d devices, oldest %v", len(got), got[len(got)-1])
	}
}

// A reward earned while the app is closed reaches FCM once, however often
// the outbox runs, with the notification's id as its collapse tag.
func TestRewardReachesFCMOnce(t *testing.T) {
	e := newEnv(t)
	ann := e.members.add("Europe/Paris", false) // consent is for marketing only
	e.register(ann, PlatformAndroid, androidToken)
	e.register(ann, PlatformIOS, iosToken)
	n := e.notify(ann, inbox.KindRewardEarned, "You earned 50 points")
	e.notify(ann, inbox.KindWelcome, "Welcome") // NEVER
	if r := e.deliver(); r.Queued != 2 || r.Sent != 2 {
		t.Fatalf("first run: %+v", r)
	}
	e.deliver()
	e.restart()
	e.deliver()
	fcm, apns := e.fcm.Received(), e.apns.Received()
	if len(fcm) != 1 || len(apns) != 1 {
		t.Fatalf("FCM got %v, APNs got %v; want the reward once each", titles(fcm), titles(apns))
	}
	for _, p := range []pushtest.Push{fcm[0], apns[0]} {
		if p.Title != "You earned 50 points" || p.CollapseID != n.ID.Hex() || p.Data["notificationId"] != n.ID.Hex() || p.Data["kind"] != "REWARD_EARNED" {
			t.Errorf("push = %+v", p)
		}
	}
	if fcm[0].Token != androidToken || apns[0].Token != iosToken {
		t.Errorf("tokens: %s, %s", fcm[0].Token, apns[0].Token)
	}
}

// UNREGISTERED (FCM 404), INVALID_ARGUMENT (FCM 400), Unregistered (APNs
// 410) and BadDeviceToken (APNs 400) delete the token; its other pending
// pushes are dropped, never sent.
func TestUnregisteredTokensAreDeleted(t *testing.T) {
	e := newEnv(t)
	const invalid = "fcm-token:invalid"
	const gone = "00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff"
	const bad = "11ee11ee11ee11ee11ee11ee11ee11ee11ee11ee11ee11ee11ee11ee11ee11ee"
	e.fcm.Answer(func(token string, _ int) pushtest.Reply {
		switch token {
		case androidToken:
			return pushtest.Reply{Status: 404, Reason: "UNREGISTERED"}
		case invalid:
			return pushtest.Reply{Status: 400, Reason: "INVALID_ARGUMENT"}
		}
		return pushtest.Reply{}
	})
	e.apns.Answer(func(token string, _ int) pushtest.Reply {
		if token == gone {
			return pushtest.Reply{Status: 410, Reason: "Unregistered"}
		}
		return pushtest.Reply{Status: 400, Reason: "BadDeviceToken"}
	})
	ann, bob := e.members.add("UTC", true), e.members.add("UTC", true)
	e.register(ann, PlatformAndroid, androidToken)
	e.register(ann, PlatformWeb, invalid)
	e.register(ann, PlatformIOS, gone)
	e.register(ann, PlatformIOS, bad)
	e.register(bob, PlatformAndroid, "fcm-token:fine")
	e.notify(ann, inbox.KindRedemption, "Your mug is ready")
	e.notify(bob, inbox.KindRedemption, "Your tote is ready")
	e.deliver()
	if got := e.devices(ann); len(got) != 0 {
		t.Fatalf("ann still has %v", got)
	}
	if got := e.devices(bob); len(got) != 1 {
		t.Fatalf("bob's good token went too: %v", got)
	}
	e.notify(ann, inbox.KindRedemption, "Another")
	e.deliver()
	if n := len(e.fcm.Received()) + len(e.apns.Received()); n != 5 {
		t.Fatalf("%d pushes, want the 4 refused and bob's", n)
	}
}

// A 503 with Retry-After is tried again after it and not before; a 429
// without one backs off exponentially; APNs 503 likewise.
func TestRetryAfterIsHonoured(t *testing.T) {
	e := newEnv(t)
	e.fcm.Answer(func(token string, n int) pushtest.Reply {
		if n == 0 {
			return pushtest.Reply{Status: 503, Reason: "UNAVAILABLE", RetryAfter: "120"}
		}
		return pushtest.Reply{}
	})
	e.apns.Answer(func(token string, n int) pushtest.Reply {
		if n < 2 {
			return pushtest.Reply{Status: 503, Reason: "ServiceUnavailable"}
		}
		return pushtest.Reply{}
	})
	ann := e.members.add("UTC", true)
	e.register(ann, PlatformAndroid, androidToken)
	e.register(ann, PlatformIOS, iosToken)
	e.notify(ann, inbox.KindRewardEarned, "Points")
	if r := e.deliver(); r.Retried != 2 || r.Sent != 0 {
		t.Fatalf("first run: %+v", r)
	}
	e.clock.Add(2 * time.Second) // APNs: the first backoff
	e.deliver()
	if got := len(e.fcm.Received()); got != 1 {
		t.Fatalf("FCM tried %d times within its Retry-After", got)
	}
	e.clock.Add(4 * time.Second) // APNs: the second backoff, doubled
	e.deliver()
	if got := len(e.apns.Accepted()); got != 1 {
		t.Fatalf("APNs accepted %d after backoff", got)
	}
	e.clock.Set(time.Date(2026, 6, 1, 10, 1, 59, 0, time.UTC)) // 119 s after the 503
	e.deliver()
	if got := len(e.fcm.Received()); got != 1 {
		t.Fatalf("FCM tried %d times before Retry-After passed", got)
	}
	e.clock.Add(time.Second)
	e.deliver()
	if got := e.fcm.Accepted(); len(got) != 1 || len(e.fcm.Received()) != 2 {
		t.Fatalf("after Retry-After: %d received, %d accepted", len(e.fcm.Received()), len(got))
	}
}

// Quiet hours hold a marketing push until they end in the member's
// timezone and let a redemption through; marketing needs consent and an
// unmuted category, and the daily cap counts per local day.
func TestQuietHoursConsentMutingAndCap(t *testing.T) {
	e := newEnv(t)
	e.settings = Settings{QuietStart: 22, QuietEnd: 8, DailyCap: 2}
	e.clock.Set(time.Date(2026, 6, 1, 21, 30, 0, 0, time.UTC)) // 23:30 in Paris
	ctx := context.Background()
	ann := e.members.add("Europe/Paris", true)
	noConsent := e.members.add("Europe/Paris", false)
	muted := e.members.add("Europe/Paris", true)
	e.register(ann, PlatformAndroid, androidToken)
	e.register(noConsent, PlatformAndroid, "fcm-token:no-consent")
	e.register(muted, PlatformAndroid, "fcm-token:muted")
	if _, err := e.in.SetMuted(ctx, muted, []inbox.Category{inbox.CategoryWinBack}); err != nil {
		t.Fatal(err)
	}
	e.notify(ann, inbox.KindOfferAvailable, "Offer 1")
	e.notify(ann, inbox.KindRedemption, "Your mug is ready")
	e.notify(ann, inbox.KindEventPublished, "Offer 2")
	e.notify(ann, inbox.KindBirthday, "Offer 3") // past the cap of 2 for tomorrow morning
	e.notify(noConsent, inbox.KindOfferAvailable, "Not for them")
	e.notify(muted, inbox.KindOfferAvailable, "Muted later")
	if _, err := e.in.SetMuted(ctx, muted, []inbox.Category{inbox.CategoryOffers}); err != nil { // after storing, before pushing
		t.Fatal(err)
	}
	e.deliver()
	if got := titles(e.fcm.Received()); len(got) != 1 || got[0] != "Your mug is ready" {
		t.Fatalf("at 23:30 pushed %v, want the redemption only", got)
	}
	e.clock.Set(time.Date(2026, 6, 2, 5, 59, 0, 0, time.UTC)) // 07:59 in Paris
	e.deliver()
	if got := len(e.fcm.Received()); got != 1 {
		t.Fatalf("%d pushes before quiet hours ended", got)
	}
	e.clock.Set(time.Date(2026, 6, 2, 6, 0, 0, 0, time.UTC)) // 08:00 in Paris
	e.deliver()
	if got := titles(e.fcm.Received()); len(got) != 3 || !slices.Contains(got, "Offer 1") || !slices.Contains(got, "Offer 2") {
		t.Fatalf("at 08:00 pushed %v, want the two offers within the cap", got)
	}
	// The next day has its own cap.
	e.clock.Set(time.Date(2026, 6, 3, 10, 0, 0, 0, time.UTC))
	e.notify(ann, inbox.KindWinBack, "Offer 4")
	e.deliver()
	if got := titles(e.fcm.Received()); len(got) != 4 || got[3] != "Offer 4" {
		t.Fatalf("the next day pushed %v", got)
	}
}

func TestQuietUntil(t *testing.T) {
	paris := testkit.Must(time.LoadLocation("Europe/Paris"))(t)
	at := func(d, h, m int) time.Time { return time.Date(2026, 6, d, h, m, 0, 0, paris) }
	for _, c := range []struct {
		st        Settings
		now, want time.Time
	}{
		{Settings{QuietStart: 22, QuietEnd: 8}, at(1, 21, 59), at(1, 21, 59)},
		{Settings{QuietStart: 22, QuietEnd: 8}, at(1, 22, 0), at(2, 8, 0)},
		{Settings{QuietStart: 22, QuietEnd: 8}, at(2, 3, 0), at(2, 8, 0)},
		{Settings{QuietStart: 22, QuietEnd: 8}, at(2, 8, 0), at(2, 8, 0)},
		{Settings{QuietStart: 1, QuietEnd: 6}, at(2, 5, 59), at(2, 6, 0)},
		{Settings{QuietStart: 1, QuietEnd: 6}, at(2, 0, 30), at(2, 0, 30)},
		{Settings{QuietStart: 7, QuietEnd: 7}, at(2, 7, 30), at(2, 7, 30)},
	} {
		if got := c.st.quietUntil(c.now.UTC(), paris); !got.Equal(c.want) {
			t.Errorf("%+v at %s: %s, want %s", c.st, c.now, got.In(paris), c.want)
		}
	}
}

// crashingProvider is a provider whose process dies around the send.
type crashingProvider struct {
	Provider
	before, after bool
	cancel        context.CancelFunc
}

func (p *crashingProvider) Send(ctx context.Context, m Message) error {
	if p.before {
		p.cancel()
		return context.Canceled
	}
	err := p.Provider.Send(ctx, m)
	if p.after {
		p.cancel() // the provider took it; the record of it never lands
		return context.Canceled
	}
	return err
}

// A crash at any point between storing a notification and recording its
// push loses nothing, and the phone never shows a push twice: storing
// marks it in the same insert, queueing is keyed, a claim cut short lapses,
// and a send repeated after a crash carries the same collapse id.
func TestCrashBetweenStoringAndPushing(t *testing.T) {
	e := newEnv(t)
	ann := e.members.add("UTC", true)
	e.register(ann, PlatformAndroid, androidToken)

	// 1. Stored, then the process died before any push run.
	first := e.notify(ann, inbox.KindRewardEarned, "Stored before the crash")
	e.restart()
	e.deliver()

	// 2. Queued, then died before the mark was cleared: queued again, no double.
	second := e.notify(ann, inbox.KindRewardEarned, "Queued before the crash")
	ctx := context.Background()
	if _, err := e.svc.queue(ctx, second, Settings{Location: time.UTC}); err != nil {
		t.Fatal(err)
	}
	remark(t, e, second)
	e.restart()
	e.deliver()

	// 3. Claimed, then died before the provider was called; 4. the
	// provider took it, then died before recording it.
	fcm := e.deps.Providers[PlatformAndroid]
	for i, crash := range []crashingProvider{{before: true}, {after: true}} {
		n := e.notify(ann, inbox.KindRewardEarned, []string{"Claimed before the crash", "Sent before the crash"}[i])
		runCtx, cancel := context.WithCancel(ctx)
		crash.Provider, crash.cancel = fcm, cancel
		e.deps.Providers = map[Platform]Provider{PlatformAndroid: &crash}
		e.restart()
		if _, err := e.svc.Deliver(runCtx); !errors.Is(err, context.Canceled) {
			t.Fatalf("the crashing run ended with %v", err)
		}
		e.deps.Providers = map[Platform]Provider{PlatformAndroid: fcm}
		e.restart()
		e.deliver() // the claim has not lapsed yet: nothing
		e.clock.Add(claimTTL)
		e.deliver()
		var d delivery
		if err := e.svc.deliveries.FindOne(ctx, bson.D{{Key: "notificationId", Value: n.ID}}).Decode(&d); err != nil || d.Status != statusSent {
			t.Fatalf("crash %d: delivery %+v (%v)", i+3, d, err)
		}
	}
	// Every notification reached the phone, each under its own collapse id:
	// the one sent twice (crash 4) is shown once.
	shown := map[string]string{}
	for _, p := range e.fcm.Accepted() {
		shown[p.CollapseID] = p.Title
	}
	if len(shown) != 4 || shown[first.ID.Hex()] != "Stored before the crash" || shown[second.ID.Hex()] != "Queued before the crash" {
		t.Fatalf("shown on the phone: %v", shown)
	}
	if got := len(e.fcm.Accepted()); got != 5 {
		t.Fatalf("FCM accepted %d sends, want 5 (the one whose record was lost again, same collapse id)", got)
	}
}

// remark puts back the push mark, as if PushDone never ran.
func remark(t *testing.T, e *env, n *inbox.Notification) {
	t.Helper()
	coll := e.svc.devices.Database().Collection("notifications")
	if _, err := coll.UpdateOne(context.Background(), bson.D{{Key: "_id", Value: n.ID}}, bson.D{{Key: "$set", Value: bson.D{{Key: "pushPending", Value: true}}}}); err != nil {
		t.Fatal(err)
	}
}

// A push waiting for a retry is not sent once its token moved to another
// member or was unregistered.
func TestQueuedPushFollowsNoMovedToken(t *testing.T) {
	e := newEnv(t)
	e.fcm.Answer(func(_ string, n int) pushtest.Reply {
		if n == 0 {
			return pushtest.Reply{Status: 429, Reason: "QUOTA_EXCEEDED", RetryAfter: "60"}
		}
		return pushtest.Reply{}
	})
	ann, bob := e.members.add("UTC", true), e.members.add("UTC", true)
	e.register(ann, PlatformAndroid, androidToken)
	e.register(ann, PlatformWeb, "web:ann")
	e.notify(ann, inbox.KindRedemption, "Ann's mug")
	e.deliver()
	e.register(bob, PlatformAndroid, androidToken) // the phone changed hands
	if err := e.svc.Unregister(context.Background(), ann, "web:ann"); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(time.Minute)
	if r := e.deliver(); r.Dropped != 2 || len(e.fcm.Accepted()) != 0 {
		t.Fatalf("after the token moved: %+v, accepted %v", r, titles(e.fcm.Accepted()))
	}
}

// EraseMember removes devices and pending pushes of the member only.
func TestEraseMember(t *testing.T) {
	e := newEnv(t)
	e.fcm.Answer(func(string, int) pushtest.Reply { return pushtest.Reply{Status: 503, RetryAfter: "3600"} })
	ann, bob := e.members.add("UTC", true), e.members.add("UTC", true)
	e.register(ann, PlatformAndroid, androidToken)
	e.register(bob, PlatformAndroid, "fcm-token:bob")
	e.notify(ann, inbox.KindRewardEarned, "Pending")
	e.notify(bob, inbox.KindRewardEarned, "Pending")
	e.deliver()
	if err := e.svc.EraseMember(context.Background(), ann); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.EraseMember(context.Background(), ann); err != nil {
		t.Fatal(err)
	}
	if len(e.devices(ann)) != 0 || testkit.Count(t, e.svc.deliveries, bson.D{{Key: "memberId", Value: ann}}) != 0 {
		t.Fatal("ann's devices or pushes remain")
	}
	if len(e.devices(bob)) != 1 || testkit.Count(t, e.svc.deliveries, bson.D{{Key: "memberId", Value: bob}}) != 1 {
		t.Fatal("bob's devices or pushes went too")
	}
}
