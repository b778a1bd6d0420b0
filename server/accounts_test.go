package main

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/regulars/regulars/graph/relay"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/regulars/regulars/internal/testkit"
	"github.com/regulars/regulars/mail"
	"github.com/regulars/regulars/member"
)

// mailbox catches the emails the server sends.
type mailbox struct{ ch chan mail.Message }

func newMailbox() *mailbox { return &mailbox{ch: make(chan mail.Message, 100)} }

func (b *mailbox) Send(_ context.Context, m mail.Message) error { b.ch <- m; return nil }

// next is the next email sent.
func (b *mailbox) next(t testing.TB) mail.Message {
	t.Helper()
	select {
	case m := <-b.ch:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no email sent")
		return mail.Message{}
	}
}

// empty fails if an email is waiting (call after the sends finished).
func (b *mailbox) empty(t testing.TB) {
	t.Helper()
	select {
	case m := <-b.ch:
		t.Fatalf("unexpected email to %s: %s", m.To, m.Subject)
	default:
	}
}

var tokenInLink = regexp.MustCompile(`token=([A-Za-z0-9%_.~-]+)`)

// tokenOf is the token in an email's link.
func tokenOf(t testing.TB, m mail.Message) string {
	t.Helper()
	match := tokenInLink.FindStringSubmatch(m.Body)
	if match == nil {
		t.Fatalf("no link with a token in %q", m.Body)
	}
	tok, err := url.QueryUnescape(match[1])
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func startAccountsApp(t testing.TB, env map[string]string) (*app, *mailbox) {
	box := newMailbox()
	a := startApp(t, env, func(m *Main) { m.Mailer = box })
	return a, box
}

const (
	requestResetMutation = `mutation($e: String!) { requestPasswordReset(email: $e) }`
	resetMutation        = `mutation($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) }`
	logInMutation        = `mutation($e: String!, $p: String!) { logIn(input: {email: $e, password: $p}) { accessToken refreshToken member { id } } }`
	refreshMutation      = `mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }`
)

func (a *app) logIn(t testing.TB, email, password string) *gqlResponse {
	t.Helper()
	return a.do(t, "", logInMutation, map[string]any{"e": email, "p": password})
}

// The reset flow as the app goes through it: the same answer for a known
// and an unknown address, one email to the known one with a link in the
// brand's words, a new password that signs every session out, and a link
// that works once, within the hour. Bad input writes nothing.
func TestPasswordReset(t *testing.T) {
	a, box := startAccountsApp(t, map[string]string{"BRAND_NAME": "Velo Club", "APP_LINK_BASE": "veloclub://"})
	ann := a.signUp(t, "ann@example.com")
	var phone session
	a.logIn(t, "ann@example.com", "correct horse battery").decode(t, "logIn", &phone)

	unknown := a.do(t, "", requestResetMutation, map[string]any{"e": "nobody@example.com"})
	known := a.do(t, "", requestResetMutation, map[string]any{"e": " Ann@Example.com "})
	if string(unknown.Data["requestPasswordReset"]) != "true" || string(known.Data["requestPasswordReset"]) != "true" || unknown.Errors != nil || known.Errors != nil {
		t.Fatalf("answers differ or fail: %+v / %+v", unknown, known)
	}
	m := box.next(t)
	a.accounts.Wait()
	box.empty(t) // none for the unknown address
	if m.To != "ann@example.com" || !strings.Contains(m.Subject, "Velo Club") || !strings.Contains(m.Body, "veloclub://reset-password?token=") {
		t.Fatalf("email: %+v", m)
	}
	token := tokenOf(t, m)

	// A weak password is refused on its field and spends nothing.
	if r := a.do(t, "", resetMutation, map[string]any{"t": token, "p": "short"}); r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "newPassword" {
		t.Fatalf("weak password: %+v", r.Errors)
	}
	a.do(t, "", resetMutation, map[string]any{"t": token, "p": "a brand new secret"}).decode(t, "resetPassword", new(bool))

	// Every session ends: refresh tokens are refused, access tokens soon.
	for _, s := range []session{ann, phone} {
		if r := a.do(t, "", refreshMutation, map[string]any{"t": s.RefreshToken}); r.code() != "UNAUTHENTICATED" {
			t.Fatalf("refresh after reset: %+v", r.Errors)
		}
		testkit.Eventually(t, 10*time.Second, func() bool { return a.do(t, s.bearer(), `{ me { id } }`, nil).code() == "UNAUTHENTICATED" },
			"an access token of a session the reset ended still works")
	}
	if r := a.logIn(t, "ann@example.com", "correct horse battery"); r.code() != "UNAUTHENTICATED" {
		t.Fatalf("old password: %+v", r.Errors)
	}
	a.logIn(t, "ann@example.com", "a brand new secret").decode(t, "logIn", &session{})

	// Used twice, or oversized: a coded error on token, and the password stays.
	for _, bad := range []string{token, strings.Repeat("x", 10_000), ""} {
		if r := a.do(t, "", resetMutation, map[string]any{"t": bad, "p": "yet another secret"}); r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "token" {
			t.Fatalf("token %.20q: %+v", bad, r.Errors)
		}
	}
	a.logIn(t, "ann@example.com", "a brand new secret").decode(t, "logIn", &session{})

	// After an hour the link is dead.
	a.do(t, "", requestResetMutation, map[string]any{"e": "ann@example.com"}).decode(t, "requestPasswordReset", new(bool))
	late := tokenOf(t, box.next(t))
	tokens := a.mongo.Database(a.Config.MongoDatabase).Collection("member_tokens")
	if _, err := tokens.UpdateMany(context.Background(), bson.D{{Key: "usedAt", Value: nil}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "expiresAt", Value: time.Now().Add(-time.Second)}}}}); err != nil {
		t.Fatal(err)
	}
	if r := a.do(t, "", resetMutation, map[string]any{"t": late, "p": "yet another secret"}); r.code() != "BAD_USER_INPUT" {
		t.Fatalf("expired token: %+v", r.Errors)
	}
	a.logIn(t, "ann@example.com", "a brand new secret").decode(t, "logIn", &session{})

	// Rate-limited per address, known or not, with the same answer.
	for _, email := range []string{"ann@example.com", "nobody@example.com"} {
		var last *gqlResponse
		for range 4 {
			last = a.do(t, "", requestResetMutation, map[string]any{"e": email})
		}
		if last.code() != "RATE_LIMITED" || last.Errors[0].Extensions["retryAfter"] == nil {
			t.Fatalf("%s: 4 requests in an hour: %+v", email, last.Errors)
		}
	}
	if r := a.do(t, "", requestResetMutation, map[string]any{"e": strings.Repeat("a", 5000) + "@example.com"}); r.code() != "BAD_USER_INPUT" {
		t.Fatalf("oversized email: %+v", r.Errors)
	}
}

// Many devices racing to spend one reset link: exactly one sets its
// password, the others are refused, and only that password works.
func TestResetTokenSpentOnce(t *testing.T) {
	a, box := startAccountsApp(t, map[string]string{"RATE_LIMIT_IP_BURST": "1000", "RATE_LIMIT_IP_RPS": "1000"})
	a.signUp(t, "ann@example.com")
	a.do(t, "", requestResetMutation, map[string]any{"e": "ann@example.com"}).decode(t, "requestPasswordReset", new(bool))
	token := tokenOf(t, box.next(t))
	const n = 8
	start := make(chan struct{})
	var wg sync.WaitGroup
	won := make(chan string, n)
	for i := range n {
		wg.Go(func() {
			<-start
			pw := "racing password " + string(rune('a'+i))
			if r, err := a.post("", resetMutation, map[string]any{"t": token, "p": pw}); err == nil && r.Errors == nil {
				won <- pw
			}
		})
	}
	close(start)
	wg.Wait()
	close(won)
	var winners []string
	for pw := range won {
		winners = append(winners, pw)
	}
	if len(winners) != 1 {
		t.Fatalf("%d resets succeeded with one token: %v", len(winners), winners)
	}
	a.logIn(t, "ann@example.com", winners[0]).decode(t, "logIn", &session{})
}

// The program may require a verified address before redemptions: the
// member is told so, verifies through the emailed link, and redeems.
func TestEmailVerificationGatesRedemption(t *testing.T) {
	a, box := startAccountsApp(t, nil)
	a.setProgram(t)
	ann := a.signUp(t, "ann@example.com")
	a.service(t, `mutation { updateProgram(input: {requireVerifiedEmailToRedeem: true}) { requireVerifiedEmailToRedeem } }`, nil).decode(t, "updateProgram", &struct{}{})
	a.service(t, `mutation($id: ID!) { adjustPoints(memberId: $id, amount: 500, reason: "welcome", idempotencyKey: "k1") { id } }`, map[string]any{"id": ann.Member.ID}).decode(t, "adjustPoints", &struct{}{})
	var reward struct{ ID string }
	a.service(t, `mutation { createReward(input: {name: "Mug", cost: 100}) { id } }`, nil).decode(t, "createReward", &reward)
	const redeem = `mutation($id: ID!, $k: String!) { redeemReward(rewardId: $id, idempotencyKey: $k) { status } }`

	r := a.do(t, ann.bearer(), redeem, map[string]any{"id": reward.ID, "k": "r1"})
	if r.code() != "FORBIDDEN" || !strings.Contains(r.Errors[0].Message, "verify your email") {
		t.Fatalf("unverified redemption: %+v", r.Errors)
	}
	var me struct{ EmailVerified bool }
	a.do(t, ann.bearer(), `{ me { emailVerified } }`, nil).decode(t, "me", &me)
	if me.EmailVerified {
		t.Fatal("verified before verifying")
	}
	a.do(t, ann.bearer(), `mutation { requestEmailVerification }`, nil).decode(t, "requestEmailVerification", new(bool))
	m := box.next(t)
	if m.To != "ann@example.com" || !strings.Contains(m.Body, "verify-email?token=") {
		t.Fatalf("email: %+v", m)
	}
	token := tokenOf(t, m)
	var verified struct{ EmailVerified bool }
	a.do(t, "", `mutation($t: String!) { verifyEmail(token: $t) { emailVerified } }`, map[string]any{"t": token}).decode(t, "verifyEmail", &verified)
	if !verified.EmailVerified {
		t.Fatal("verifyEmail did not verify")
	}
	if r := a.do(t, "", `mutation($t: String!) { verifyEmail(token: $t) { id } }`, map[string]any{"t": token}); r.code() != "BAD_USER_INPUT" {
		t.Fatalf("token used twice: %+v", r.Errors)
	}
	var red struct{ Status string }
	a.do(t, ann.bearer(), redeem, map[string]any{"id": reward.ID, "k": "r1"}).decode(t, "redeemReward", &red)
	if red.Status != "COMPLETED" {
		t.Fatalf("redemption: %+v", red)
	}
	// Verified already: nothing more is sent.
	a.do(t, ann.bearer(), `mutation { requestEmailVerification }`, nil).decode(t, "requestEmailVerification", new(bool))
	a.accounts.Wait()
	box.empty(t)
}

// identity is what a test member is known by: none of it may remain
// anywhere once they are deleted.
type identity struct {
	email, name, avatar string
}

// A member with data in every domain deletes their account: a wrong
// password is refused and changes nothing; then their sessions end, every
// collection is walked and none holds their email, name, avatar or
// birthday; their ledger, activities and redemptions stay under the
// anonymous id; their posts show as from a former member; they leave the
// leaderboards; their referral code is retired; and the address may sign
// up again as a new member.
func TestDeleteMyAccountErasesEverywhere(t *testing.T) {
	a, _ := startAccountsApp(t, map[string]string{"RATE_LIMIT_MEMBER_BURST": "100", "RATE_LIMIT_IP_BURST": "1000"})
	a.setProgram(t)
	db := a.mongo.Database(a.Config.MongoDatabase)
	who := identity{email: "zelda.quixote@example.com", name: "Zeldaquix", avatar: "https://cdn.example.com/zq-avatar.png"}
	var zelda session
	a.do(t, "", signUpMutation, map[string]any{"in": map[string]any{
		"email": who.email, "password": "correct horse battery", "displayName": who.name, "timezone": "Europe/Paris",
		"birthday": "1987-06-05", "avatarUrl": who.avatar, "marketingConsent": true,
	}}).decode(t, "signUp", &zelda)
	bob := a.signUp(t, "bob@example.com")
	zid := testkit.Must(relay.DecodeID("Member", "id", zelda.Member.ID))(t)

	// Data in every domain: points and activities, a redemption, a
	// leaderboard place, a referral code, notifications, an RSVP, posts,
	// a mention by another member and a reply in their thread.
	a.service(t, recordActivity, purchaseVars(zelda.Member.ID, "order-1", 5000)).decode(t, "recordActivity", &struct{}{})
	var reward struct{ ID string }
	a.service(t, `mutation { createReward(input: {name: "Mug", cost: 100}) { id } }`, nil).decode(t, "createReward", &reward)
	a.do(t, zelda.bearer(), `mutation($id: ID!) { redeemReward(rewardId: $id, idempotencyKey: "r1") { status } }`, map[string]any{"id": reward.ID}).decode(t, "redeemReward", &struct{}{})
	var ref struct{ Referral struct{ Code string } }
	a.do(t, zelda.bearer(), `{ me { referral { code } } }`, nil).decode(t, "me", &ref)
	event := a.publishedEvent(t, nil)
	a.rsvp(t, zelda, event, 0, "rsvp-1")
	var space, thread struct{ ID string }
	a.service(t, createSpaceMutation, map[string]any{"in": map[string]any{"name": "Rides"}}).decode(t, "createSpace", &space)
	a.do(t, zelda.bearer(), createThreadMutation, map[string]any{"s": space.ID, "in": map[string]any{"title": "Sunday", "body": "Who rides?"}}).decode(t, "createThread", &thread)
	a.do(t, bob.bearer(), `mutation($t: ID!) { reply(threadId: $t, input: {body: "me, and @Zeldaquix of course"}) { number } }`, map[string]any{"t": thread.ID}).decode(t, "reply", &struct{}{})
	var bobThread struct{ ID string }
	a.do(t, bob.bearer(), createThreadMutation, map[string]any{"s": space.ID, "in": map[string]any{"title": "Bob's", "body": "Hello"}}).decode(t, "createThread", &bobThread)
	a.do(t, zelda.bearer(), `mutation($t: ID!) { reply(threadId: $t, input: {body: "hi Bob"}) { number } }`, map[string]any{"t": bobThread.ID}).decode(t, "reply", &struct{}{})
	testkit.Eventually(t, 10*time.Second, func() bool {
		return testkit.Count(t, db.Collection("notifications"), bson.D{{Key: "memberId", Value: testkit.Must(relay.DecodeID("Member", "id", bob.Member.ID))(t)},
			{Key: "title", Value: bson.Regex{Pattern: who.name}}}) > 0
	}, "bob was never told of zelda's reply")
	if n := testkit.Count(t, db.Collection("leaderboard_scores"), bson.D{{Key: "memberId", Value: zid}}); n == 0 {
		t.Fatal("no leaderboard entry to remove")
	}
	ledgerBefore := testkit.Count(t, db.Collection("ledger"), bson.D{{Key: "memberId", Value: zid}})

	// A wrong password: refused on its field, nothing written.
	if r := a.do(t, zelda.bearer(), `mutation { deleteMyAccount(password: "not my password") }`, nil); r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "password" {
		t.Fatalf("wrong password: %+v", r.Errors)
	}
	if r := a.do(t, zelda.bearer(), `mutation($p: String!) { deleteMyAccount(password: $p) }`, map[string]any{"p": strings.Repeat("p", 10_000)}); r.code() != "BAD_USER_INPUT" {
		t.Fatalf("oversized password: %+v", r.Errors)
	}
	a.do(t, zelda.bearer(), `{ me { email } }`, nil).decode(t, "me", &struct{}{})

	a.do(t, zelda.bearer(), `mutation { deleteMyAccount(password: "correct horse battery") }`, nil).decode(t, "deleteMyAccount", new(bool))

	// Sessions end at once.
	if r := a.do(t, "", refreshMutation, map[string]any{"t": zelda.RefreshToken}); r.code() != "UNAUTHENTICATED" {
		t.Fatalf("refresh after deletion: %+v", r.Errors)
	}
	testkit.Eventually(t, 10*time.Second, func() bool { return a.do(t, zelda.bearer(), `{ me { id } }`, nil).code() == "UNAUTHENTICATED" },
		"the deleted member's access token still works")
	if r := a.logIn(t, who.email, "correct horse battery"); r.code() != "UNAUTHENTICATED" {
		t.Fatalf("log-in after deletion: %+v", r.Errors)
	}

	// Nothing personal is left in any collection.
	walkForIdentity(t, db, who)

	// Accounting stays under the anonymous id.
	if n := testkit.Count(t, db.Collection("ledger"), bson.D{{Key: "memberId", Value: zid}}); n != ledgerBefore || n == 0 {
		t.Fatalf("ledger entries: %d, were %d", n, ledgerBefore)
	}
	for _, c := range []string{"activities", "redemptions"} {
		if n := testkit.Count(t, db.Collection(c), bson.D{{Key: "memberId", Value: zid}}); n == 0 {
			t.Fatalf("%s of the deleted member are gone", c)
		}
	}
	if n := testkit.Count(t, db.Collection("leaderboard_scores"), bson.D{{Key: "memberId", Value: zid}}); n != 0 {
		t.Fatalf("%d leaderboard entries remain", n)
	}
	var board struct {
		Edges []struct {
			Node struct{ Member struct{ ID string } }
		}
	}
	a.do(t, bob.bearer(), `{ leaderboard(period: ALL_TIME, first: 10) { edges { node { member { id } } } } }`, nil).decode(t, "leaderboard", &board)
	for _, e := range board.Edges {
		if e.Node.Member.ID == zelda.Member.ID {
			t.Fatal("the deleted member is still on the leaderboard")
		}
	}
	r := a.do(t, bob.bearer(), `query($t: ID!) { posts(threadId: $t, first: 10) { edges { node { body author { displayName } } } } }`, map[string]any{"t": thread.ID})
	if !strings.Contains(string(r.Data["posts"]), `"displayName":"a former member"`) || strings.Contains(string(r.Data["posts"]), who.name) {
		t.Fatalf("posts after deletion: %s %+v", r.Data["posts"], r.Errors)
	}

	// Idempotent, also for the brand; the code is retired; the address signs up anew.
	a.service(t, `mutation($id: ID!) { deleteMember(memberId: $id, reason: "asked by email") }`, map[string]any{"id": zelda.Member.ID}).decode(t, "deleteMember", new(bool))
	if r := a.do(t, "", signUpMutation, map[string]any{"in": map[string]any{"email": "new@example.com", "password": "correct horse battery",
		"displayName": "New", "timezone": "UTC", "referralCode": ref.Referral.Code}}); r.code() != "BAD_USER_INPUT" {
		t.Fatalf("sign-up with the retired code: %+v", r.Errors)
	}
	again := a.signUp(t, who.email)
	if again.Member.ID == zelda.Member.ID {
		t.Fatal("the address signed up as the deleted member")
	}
	if n := testkit.Count(t, db.Collection("ledger"), bson.D{{Key: "memberId", Value: testkit.Must(relay.DecodeID("Member", "id", again.Member.ID))(t)}}); n != 0 {
		t.Fatalf("the new member inherited %d ledger entries", n)
	}
}

// walkForIdentity reads every document of every collection and fails on
// one that holds the member's email, name, avatar or birthday.
func walkForIdentity(t *testing.T, db *mongo.Database, who identity) {
	t.Helper()
	ctx := context.Background()
	names, err := db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	birthday := regexp.MustCompile(`"year":\s*1987\b`)
	walked := 0
	for _, name := range names {
		cur, err := db.Collection(name).Find(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		for cur.Next(ctx) {
			walked++
			doc, err := bson.MarshalExtJSON(cur.Current, false, false)
			if err != nil {
				t.Fatal(err)
			}
			text := strings.ToLower(string(doc))
			for _, s := range []string{who.email, who.name, who.avatar, "zelda"} {
				if strings.Contains(text, strings.ToLower(s)) {
					t.Errorf("%s still holds %q: %s", name, s, doc)
				}
			}
			if birthday.MatchString(text) {
				t.Errorf("%s still holds the birthday: %s", name, doc)
			}
		}
		if err := cur.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if walked < 50 {
		t.Fatalf("walked only %d documents in %d collections", walked, len(names))
	}
}

// The member deletes without a password from a fresh log-in; from an
// older one they must give it.
func TestDeleteMyAccountFreshLogIn(t *testing.T) {
	a, _ := startAccountsApp(t, nil)
	ann := a.signUp(t, "ann@example.com")
	bob := a.signUp(t, "bob@example.com")
	families := a.mongo.Database(a.Config.MongoDatabase).Collection("refresh_families")
	bobID := testkit.Must(relay.DecodeID("Member", "id", bob.Member.ID))(t)
	if _, err := families.UpdateMany(context.Background(), bson.D{{Key: "memberId", Value: bobID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "createdAt", Value: time.Now().Add(-10 * time.Minute)}}}}); err != nil {
		t.Fatal(err)
	}
	if r := a.do(t, bob.bearer(), `mutation { deleteMyAccount }`, nil); r.code() != "FORBIDDEN" || !strings.Contains(r.Errors[0].Message, "password") {
		t.Fatalf("stale log-in without password: %+v", r.Errors)
	}
	a.do(t, bob.bearer(), `{ me { id } }`, nil).decode(t, "me", &struct{}{})
	a.do(t, ann.bearer(), `mutation { deleteMyAccount }`, nil).decode(t, "deleteMyAccount", new(bool))
	// Her token is refused by this instance from the next request: it can
	// neither read nor write her name back, nor delete again as if fine.
	for _, q := range []string{`{ me { id } }`, `mutation { updateProfile(input: {displayName: "Ann Again"}) { displayName } }`,
		`mutation { deleteMyAccount(password: "nope nope nope") }`} {
		if r := a.do(t, ann.bearer(), q, nil); r.code() != "UNAUTHENTICATED" {
			t.Fatalf("%s with the deleted member's token: %+v", q, r.Errors)
		}
	}
	var m struct{ Email, DisplayName string }
	a.service(t, `query($id: ID!) { member(id: $id) { email displayName } }`, map[string]any{"id": ann.Member.ID}).decode(t, "member", &m)
	if m.DisplayName != member.FormerMemberName || strings.Contains(m.Email, "ann") {
		t.Fatalf("after deletion the brand sees %+v", m)
	}
	// Rate-limited: guesses at a password are few.
	var last *gqlResponse
	for range 6 {
		last = a.do(t, bob.bearer(), `mutation { deleteMyAccount(password: "guess guess guess") }`, nil)
	}
	if last.code() != "RATE_LIMITED" {
		t.Fatalf("6 deletion attempts: %+v", last.Errors)
	}
}

// The brand deletes a member on request: a reason is required, the
// deletion is logged, customers may not.
func TestDeleteMemberByBrand(t *testing.T) {
	a, _ := startAccountsApp(t, nil)
	ann := a.signUp(t, "ann@example.com")
	bob := a.signUp(t, "bob@example.com")
	const del = `mutation($id: ID!, $r: String!) { deleteMember(memberId: $id, reason: $r) }`
	if r := a.do(t, bob.bearer(), del, map[string]any{"id": ann.Member.ID, "r": "spite"}); r.code() != "FORBIDDEN" {
		t.Fatalf("a customer deleting another: %+v", r.Errors)
	}
	if r := a.service(t, del, map[string]any{"id": ann.Member.ID, "r": ""}); r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "reason" {
		t.Fatalf("no reason: %+v", r.Errors)
	}
	if r := a.service(t, del, map[string]any{"id": ann.Member.ID, "r": strings.Repeat("r", 600)}); r.code() != "BAD_USER_INPUT" {
		t.Fatalf("oversized reason: %+v", r.Errors)
	}
	a.do(t, ann.bearer(), `{ me { id } }`, nil).decode(t, "me", &struct{}{})
	a.service(t, del, map[string]any{"id": ann.Member.ID, "r": "asked by email, ticket 42"}).decode(t, "deleteMember", new(bool))
	a.service(t, del, map[string]any{"id": ann.Member.ID, "r": "asked twice"}).decode(t, "deleteMember", new(bool))
	logged := testkit.Count(t, a.mongo.Database(a.Config.MongoDatabase).Collection("account_deletions"),
		bson.D{{Key: "memberId", Value: testkit.Must(relay.DecodeID("Member", "id", ann.Member.ID))(t)}, {Key: "by", Value: "service"}, {Key: "reason", Value: "asked by email, ticket 42"}})
	if logged != 1 {
		t.Fatalf("deletion logged %d times", logged)
	}
	if r := a.service(t, del, map[string]any{"id": "TWVtYmVyOjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMA", "r": "gone"}); r.code() != "NOT_FOUND" {
		t.Fatalf("unknown member: %+v", r.Errors)
	}
}

// A member asks for their data: the export is built in the background,
// a DATA_EXPORT_READY notification links to it, and the link works with
// their token only, for a day.
func TestDataExport(t *testing.T) {
	a, _ := startAccountsApp(t, nil)
	a.setProgram(t)
	ann := a.signUp(t, "ann@example.com")
	bob := a.signUp(t, "bob@example.com")
	a.service(t, recordActivity, purchaseVars(ann.Member.ID, "order-1", 2500)).decode(t, "recordActivity", &struct{}{})
	var ex struct{ Status string }
	a.do(t, ann.bearer(), `mutation { requestMyData { status requestedAt downloadUrl } }`, nil).decode(t, "requestMyData", &ex)
	if ex.Status != "PENDING" {
		t.Fatalf("export: %+v", ex)
	}
	a.accounts.Wait()
	var ns struct {
		Edges []struct {
			Node struct{ Kind, Title, DeepLink string }
		}
	}
	a.do(t, ann.bearer(), `{ notifications(first: 5) { edges { node { kind title deepLink } } } }`, nil).decode(t, "notifications", &ns)
	if len(ns.Edges) == 0 || ns.Edges[0].Node.Kind != "DATA_EXPORT_READY" {
		t.Fatalf("notifications: %+v", ns)
	}
	link := ns.Edges[0].Node.DeepLink
	path := link[strings.Index(link, "/exports/"):]
	var list []struct{ Status, DownloadURL string }
	a.do(t, ann.bearer(), `{ myDataExports { status downloadUrl } }`, nil).decode(t, "myDataExports", &list)
	if len(list) != 1 || list[0].Status != "READY" || list[0].DownloadURL != link {
		t.Fatalf("myDataExports: %+v (link %s)", list, link)
	}

	status, media, body := a.getFile(t, path, ann.bearer())
	if status != 200 || !strings.HasPrefix(media, "application/json") {
		t.Fatalf("download: %d %s %s", status, media, body)
	}
	var doc struct {
		Sections map[string][]map[string]any `json:"sections"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"profile", "ledger", "activities", "redemptions", "badges", "notifications", "rsvps", "posts"} {
		if _, ok := doc.Sections[s]; !ok {
			t.Errorf("the export has no %s", s)
		}
	}
	if len(doc.Sections["profile"]) != 1 || doc.Sections["profile"][0]["email"] != "ann@example.com" || doc.Sections["profile"][0]["passwordHash"] != nil {
		t.Errorf("profile: %+v", doc.Sections["profile"])
	}
	if len(doc.Sections["ledger"]) == 0 || len(doc.Sections["activities"]) != 1 {
		t.Errorf("ledger %d, activities %d", len(doc.Sections["ledger"]), len(doc.Sections["activities"]))
	}
	if status, _, _ := a.getFile(t, path, bob.bearer()); status != 404 {
		t.Fatalf("another member's download: %d", status)
	}
	if status, _, _ := a.getFile(t, path, ""); status != 401 {
		t.Fatalf("anonymous download: %d", status)
	}
	for _, auth := range []string{"Bearer not-a-token", "Basic abc", "ApiKey " + testAPIKey} {
		if status, _, body := a.getFile(t, path, auth); status != 401 || !strings.Contains(body, `"UNAUTHENTICATED"`) {
			t.Fatalf("the export with %q: %d %s", auth, status, body)
		}
	}
	if status, _, _ := a.getFile(t, "/exports/not-an-id", ann.bearer()); status != 404 {
		t.Fatalf("bad id: %d", status)
	}

	// After a day the link is dead and the job deletes the export.
	exports := a.mongo.Database(a.Config.MongoDatabase).Collection("data_exports")
	if _, err := exports.UpdateMany(context.Background(), bson.D{}, bson.D{{Key: "$set", Value: bson.D{{Key: "expiresAt", Value: time.Now().Add(-time.Second)}}}}); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := a.getFile(t, path, ann.bearer()); status != 404 {
		t.Fatalf("expired download: %d", status)
	}
	if n := testkit.Must(a.accounts.Cleanup(context.Background()))(t); n != 1 {
		t.Fatalf("cleanup deleted %d exports", n)
	}
}

// A deletion cut short (the process died after marking the member) is
// finished by the background job; an export whose builder died is built
// by it. The queries they and the flows make have their indexes.
func TestAccountJobsFinishWhatStopped(t *testing.T) {
	// The server's own round of jobs would race the calls below (and find
	// the work done first): wait out its first round, the next being an
	// hour away.
	firstRound := make(chan struct{})
	var once sync.Once
	a := startApp(t, map[string]string{"JOB_INTERVAL": "1h"}, func(m *Main) {
		m.Mailer = newMailbox()
		m.jobRound = func(_ int64, start bool) {
			if !start {
				once.Do(func() { close(firstRound) })
			}
		}
	})
	select {
	case <-firstRound:
	case <-time.After(30 * time.Second):
		t.Fatal("the first round of jobs never ended")
	}
	ctx := context.Background()
	db := a.mongo.Database(a.Config.MongoDatabase)
	ann := a.signUp(t, "ann@example.com")
	annID := testkit.Must(relay.DecodeID("Member", "id", ann.Member.ID))(t)
	if _, err := a.members.MarkDeleting(ctx, annID); err != nil {
		t.Fatal(err)
	}
	if r := a.logIn(t, "ann@example.com", "correct horse battery"); r.code() != "UNAUTHENTICATED" {
		t.Fatalf("log-in during a deletion: %+v", r.Errors)
	}
	if n := testkit.Must(a.accounts.ResumeDeletions(ctx))(t); n != 1 {
		t.Fatalf("resumed %d deletions", n)
	}
	m := testkit.Must(a.members.Get(ctx, annID))(t)
	if !m.Erased() || m.Email == "ann@example.com" || m.DisplayName != member.FormerMemberName {
		t.Fatalf("after the job: %+v", m)
	}
	if n := testkit.Must(a.accounts.ResumeDeletions(ctx))(t); n != 0 {
		t.Fatalf("resumed %d deletions again", n)
	}

	bob := a.signUp(t, "bob@example.com")
	bobID := testkit.Must(relay.DecodeID("Member", "id", bob.Member.ID))(t)
	if _, err := db.Collection("data_exports").InsertOne(ctx, bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "memberId", Value: bobID},
		{Key: "status", Value: "PENDING"}, {Key: "requestedAt", Value: time.Now().Add(-time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	if n := testkit.Must(a.accounts.BuildPending(ctx))(t); n != 1 {
		t.Fatalf("built %d exports", n)
	}
	var list []struct{ Status string }
	a.do(t, bob.bearer(), `{ myDataExports { status } }`, nil).decode(t, "myDataExports", &list)
	if len(list) != 1 || list[0].Status != "READY" {
		t.Fatalf("exports: %+v", list)
	}

	testkit.RequireIndexes(t, db.Collection("member_tokens"), "member")
	testkit.RequireIndexes(t, db.Collection("refresh_families"), "member")
	testkit.RequireIndexes(t, db.Collection("members"), "deleting")
	testkit.RequireIndexes(t, db.Collection("account_quotas"), "expires")
	testkit.RequireIndexes(t, db.Collection("data_exports"), "member", "status")
}
