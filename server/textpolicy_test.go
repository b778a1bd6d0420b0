package main

import (
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/regulars/regulars/graph"
)

// A String input is one of three kinds, each with its own policy:
// human text (input.Text: what people read), an identifier
// (input.Identifier: printable ASCII from the brand's systems or a client's
// key), or something else with a policy of its own, named in its reason.
type textKind int

const (
	humanText textKind = iota
	identifier
	other
)

// textInput is one String argument or input field and how to send it.
type textInput struct {
	kind textKind
	// field is what a refusal names in extensions.field.
	field string
	// send puts v in the input, everything else valid. (other: reason.)
	send   func(e *probeEnv, v string) *gqlResponse
	reason string
}

// probeEnv is a running server with a program, a member and a reward.
type probeEnv struct {
	t        *testing.T
	a        *app
	member   session
	rewardID string
	eventID  string
	// webhookID is a webhook the probes change (webhook).
	webhookID string
	n         int
}

// event is a published event the probes RSVP to, made once.
func (e *probeEnv) event() string {
	if e.eventID == "" {
		e.eventID = e.a.publishedEvent(e.t, nil)
	}
	return e.eventID
}

func probeEvent(send func(a *app, t testing.TB, v any) *gqlResponse) func(e *probeEnv, v string) *gqlResponse {
	return func(e *probeEnv, v string) *gqlResponse { return send(e.a, e.t, v) }
}

func (e *probeEnv) service(q string, vars map[string]any) *gqlResponse {
	return e.a.do(e.t, "ApiKey "+testAPIKey, q, vars)
}

func (e *probeEnv) unique() string { e.n++; return fmt.Sprint(e.n) }

func programVars() map[string]any {
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

const updateProgram = `mutation($in: ProgramInput!) { updateProgram(input: $in) { version } }`

func sendProgram(change func(in map[string]any)) func(e *probeEnv, v string) *gqlResponse {
	return func(e *probeEnv, v string) *gqlResponse {
		in := programVars()
		change(in)
		return e.service(updateProgram, map[string]any{"in": in})
	}
}

func promotion(id, name string) []any {
	now := time.Now().UTC()
	return []any{map[string]any{"id": id, "name": name, "bonusPoints": 10,
		"startsAt": now.Format(time.RFC3339), "endsAt": now.Add(time.Hour).Format(time.RFC3339), "expiresAfterDays": 7}}
}

func sendActivity(change func(in map[string]any, v string)) func(e *probeEnv, v string) *gqlResponse {
	return func(e *probeEnv, v string) *gqlResponse {
		vars := purchaseVars(e.member.Member.ID, "text-"+e.unique(), 1000)
		change(vars["in"].(map[string]any), v)
		return e.service(recordActivity, vars)
	}
}

func sendSignUp(field string) func(e *probeEnv, v string) *gqlResponse {
	return func(e *probeEnv, v string) *gqlResponse {
		in := map[string]any{"email": "probe" + e.unique() + "@example.com", "password": "correct horse battery", "displayName": "Probe", "timezone": "UTC"}
		in[field] = v
		return e.a.do(e.t, "", signUpMutation, map[string]any{"in": in})
	}
}

func sendReward(field string) func(e *probeEnv, v string) *gqlResponse {
	return func(e *probeEnv, v string) *gqlResponse {
		in := map[string]any{"name": "Mug", "cost": 100}
		in[field] = v
		return e.service(`mutation($in: RewardInput!) { createReward(input: $in) { id } }`, map[string]any{"in": in})
	}
}

func sendBadge(change func(in map[string]any, v string)) func(e *probeEnv, v string) *gqlResponse {
	return func(e *probeEnv, v string) *gqlResponse {
		in := map[string]any{"name": "Regular " + e.unique(), "counter": "PURCHASES", "levels": []any{map[string]any{"name": "BRONZE", "threshold": 2}}}
		change(in, v)
		return e.service(`mutation($in: BadgeInput!) { createBadge(input: $in) { id } }`, map[string]any{"in": in})
	}
}

func sendOffer(field string) func(e *probeEnv, v string) *gqlResponse {
	return func(e *probeEnv, v string) *gqlResponse {
		now := time.Now().UTC()
		in := map[string]any{"title": "Gold night", "body": "20% off", "benefit": map[string]any{"kind": "PERCENT_OFF", "value": 20},
			"startsAt": now.Format(time.RFC3339), "endsAt": now.Add(time.Hour).Format(time.RFC3339)}
		in[field] = v
		return e.service(`mutation($in: OfferInput!) { createOffer(input: $in) { id } }`, map[string]any{"in": in})
	}
}

func sendTemplate(field string) func(e *probeEnv, v string) *gqlResponse {
	return func(e *probeEnv, v string) *gqlResponse {
		in := map[string]any{"locale": "en", "name": "WIN_BACK", "title": "We miss you", "body": "Come back soon"}
		in[field] = v
		return e.service(`mutation($in: NotificationTemplateInput!) { setNotificationTemplate(input: $in) { title } }`, map[string]any{"in": in})
	}
}

func sendNotification(field string) func(e *probeEnv, v string) *gqlResponse {
	return func(e *probeEnv, v string) *gqlResponse {
		vars := map[string]any{"id": e.member.Member.ID, "title": "Hello", "body": "Double points"}
		vars[field] = v
		return e.service(`mutation($id: ID!, $title: String!, $body: String!, $deepLink: String) {
  sendNotification(memberId: $id, title: $title, body: $body, deepLink: $deepLink) { id } }`, vars)
	}
}

func sendAdjust(field string) func(e *probeEnv, v string) *gqlResponse {
	return func(e *probeEnv, v string) *gqlResponse {
		vars := map[string]any{"id": e.member.Member.ID, "reason": "goodwill", "key": "adjust-" + e.unique()}
		vars[field] = v
		return e.service(`mutation($id: ID!, $reason: String!, $key: String!) { adjustPoints(memberId: $id, amount: 10, reason: $reason, idempotencyKey: $key) { id } }`, vars)
	}
}

func sendWebhook(field string) func(e *probeEnv, v string) *gqlResponse {
	return func(e *probeEnv, v string) *gqlResponse {
		vars := map[string]any{"url": "http://127.0.0.1:9/hook", "events": []string{"member.created"}, "secret": "probe-secret-0123456789"}
		vars[field] = v + "-long-enough-secret"
		return e.service(`mutation($url: String!, $events: [String!]!, $secret: String) { createWebhook(url: $url, events: $events, secret: $secret) { secret } }`, vars)
	}
}

// webhook is a webhook the probes change, made once.
func (e *probeEnv) webhook() string {
	if e.webhookID == "" {
		var w struct{ Webhook struct{ ID string } }
		e.service(`mutation { createWebhook(url: "http://127.0.0.1:9/hook", events: ["member.created"]) { webhook { id } } }`, nil).decode(e.t, "createWebhook", &w)
		e.webhookID = w.Webhook.ID
	}
	return e.webhookID
}

func otherInput(reason string) textInput { return textInput{kind: other, reason: reason} }

// textInputs classifies every String argument and input field of the
// schema. TestEveryStringInputFollowsItsPolicy fails on one missing here.
var textInputs = map[string]textInput{
	// The community (community_inputs_test.go sends them).
	"SpaceInput.name":                 {kind: humanText, field: "name", send: sendSpace(func(in map[string]any, v any) { in["name"] = v })},
	"SpaceInput.description":          {kind: humanText, field: "description", send: sendSpace(func(in map[string]any, v any) { in["description"] = v })},
	"PostInput.title":                 {kind: humanText, field: "title", send: sendPost(func(in map[string]any, v string) { in["title"] = v })},
	"PostInput.body":                  {kind: humanText, field: "body", send: sendPost(func(in map[string]any, v string) { in["body"] = v })},
	"Mutation.flagPost(note)":         {kind: humanText, field: "note", send: sendFlag},
	"Mutation.moderatePost(reason)":   {kind: humanText, field: "reason", send: sendModeratePost},
	"Mutation.moderateThread(reason)": {kind: humanText, field: "reason", send: sendModerateThread},
	"Mutation.sanctionMember(reason)": {kind: humanText, field: "reason", send: func(e *probeEnv, v string) *gqlResponse { return sendSanction(e, 60, v) }},
	"Mutation.liftSanction(reason)":   {kind: humanText, field: "reason", send: func(e *probeEnv, v string) *gqlResponse { return sendLift(e, v) }},
	"Mutation.watchWord(word)":        {kind: humanText, field: "word", send: sendWatchWord},
	"PostInput.images": {kind: identifier, field: "images[0]", send: sendPost(func(in map[string]any, v string) {
		in["images"] = []string{"https://example.com/" + v} // an https URL of printable ASCII
	})},
	"AudienceInput.tiers": otherInput("names of the program's tiers (community.checkAudience: no tier is called …, naming read.tiers[i])"),

	// Human text: input.Text.
	"Mutation.sendNotification(title)": {kind: humanText, field: "title", send: sendNotification("title")},
	"Mutation.sendNotification(body)":  {kind: humanText, field: "body", send: sendNotification("body")},
	"Mutation.adjustPoints(reason)":    {kind: humanText, field: "reason", send: sendAdjust("reason")},
	"Mutation.cancelRedemption(reason)": {kind: humanText, field: "reason", send: func(e *probeEnv, v string) *gqlResponse {
		id := base64.RawURLEncoding.EncodeToString([]byte("Redemption:000000000000000000000000"))
		return e.service(`mutation($id: ID!, $r: String!) { cancelRedemption(id: $id, reason: $r) { id } }`, map[string]any{"id": id, "r": v})
	}},
	"SignUpInput.displayName": {kind: humanText, field: "displayName", send: sendSignUp("displayName")},
	"UpdateProfileInput.displayName": {kind: humanText, field: "displayName", send: func(e *probeEnv, v string) *gqlResponse {
		return e.a.do(e.t, e.member.bearer(), `mutation($in: UpdateProfileInput!) { updateProfile(input: $in) { id } }`, map[string]any{"in": map[string]any{"displayName": v}})
	}},
	"RewardInput.name":        {kind: humanText, field: "name", send: sendReward("name")},
	"RewardInput.description": {kind: humanText, field: "description", send: sendReward("description")},
	"BadgeInput.name":         {kind: humanText, field: "name", send: sendBadge(func(in map[string]any, v string) { in["name"] = v })},
	"BadgeInput.description":  {kind: humanText, field: "description", send: sendBadge(func(in map[string]any, v string) { in["description"] = v })},
	"BadgeLevelInput.name": {kind: humanText, field: "levels[0].name", send: sendBadge(func(in map[string]any, v string) {
		in["levels"] = []any{map[string]any{"name": v, "threshold": 2}}
	})},
	"OfferInput.title":                {kind: humanText, field: "title", send: sendOffer("title")},
	"OfferInput.body":                 {kind: humanText, field: "body", send: sendOffer("body")},
	"NotificationTemplateInput.title": {kind: humanText, field: "title", send: sendTemplate("title")},
	"NotificationTemplateInput.body":  {kind: humanText, field: "body", send: sendTemplate("body")},
	"TierInput.name": {kind: humanText, field: "tiers[1].name", send: func(e *probeEnv, v string) *gqlResponse {
		return sendProgram(func(in map[string]any) { in["tiers"].([]map[string]any)[1]["name"] = v })(e, v)
	}},
	"EventInput.title":        {kind: humanText, field: "title", send: probeEvent(sendEvent(func(in map[string]any, v any) { in["title"] = v }))},
	"EventInput.description":  {kind: humanText, field: "description", send: probeEvent(sendEvent(func(in map[string]any, v any) { in["description"] = v }))},
	"EventPlaceInput.venue":   {kind: humanText, field: "place.venue", send: probeEvent(sendPlace("venue"))},
	"EventPlaceInput.address": {kind: humanText, field: "place.address", send: probeEvent(sendPlace("address"))},
	"PromotionInput.name": {kind: humanText, field: "promotions[0].name", send: func(e *probeEnv, v string) *gqlResponse {
		return sendProgram(func(in map[string]any) { in["promotions"] = promotion("p1", v) })(e, v)
	}},

	"Mutation.deleteMember(reason)": {kind: humanText, field: "reason", send: func(e *probeEnv, v string) *gqlResponse {
		// A member that does not exist: a plain reason passes and NOT_FOUND names memberId.
		return e.service(`mutation($r: String!) { deleteMember(memberId: "TWVtYmVyOjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMA", reason: $r) }`, map[string]any{"r": v})
	}},

	"EarningRuleInput.name": {kind: humanText, field: "name", send: sendRule(func(in map[string]any, v string) { in["name"] = v })},

	// Identifiers: input.Identifier.
	"ItemConditionInput.skus": {kind: identifier, field: "conditions[0].items.skus[0]", send: sendRule(func(in map[string]any, v string) {
		in["conditions"] = []any{map[string]any{"items": map[string]any{"skus": []string{v}}}}
	})},
	"ItemConditionInput.categories": {kind: identifier, field: "conditions[0].items.categories[0]", send: sendRule(func(in map[string]any, v string) {
		in["conditions"] = []any{map[string]any{"items": map[string]any{"categories": []string{v}}}}
	})},
	"RecordActivityInput.externalId": {kind: identifier, field: "externalId", send: sendActivity(func(in map[string]any, v string) { in["externalId"] = v })},
	"RecordActivityInput.refundOf": {kind: identifier, field: "refundOf", send: sendActivity(func(in map[string]any, v string) {
		in["kind"], in["refundOf"], in["amountMinor"] = "REFUND", v, 100
	})},
	"LineItemInput.sku": {kind: identifier, field: "items[0].sku", send: sendActivity(func(in map[string]any, v string) {
		in["items"] = []any{map[string]any{"sku": v, "quantity": 1, "priceMinor": 1000}}
	})},
	"LineItemInput.category": {kind: identifier, field: "items[0].category", send: sendActivity(func(in map[string]any, v string) {
		in["items"] = []any{map[string]any{"sku": "TEE-M", "category": v, "quantity": 1, "priceMinor": 1000}}
	})},
	"PromotionInput.id": {kind: identifier, field: "promotions[0].id", send: func(e *probeEnv, v string) *gqlResponse {
		return sendProgram(func(in map[string]any) { in["promotions"] = promotion(v, "Happy hour") })(e, v)
	}},
	"TierInput.benefits": {kind: identifier, field: "tiers[1].benefits[0]", send: func(e *probeEnv, v string) *gqlResponse {
		return sendProgram(func(in map[string]any) { in["tiers"].([]map[string]any)[1]["benefits"] = []string{v} })(e, v)
	}},
	"Mutation.sendNotification(deepLink)": {kind: identifier, field: "deepLink", send: sendNotification("deepLink")},
	"Mutation.adjustPoints(idempotencyKey)": {kind: identifier, field: "idempotencyKey", send: func(e *probeEnv, v string) *gqlResponse {
		return e.service(`mutation($id: ID!, $key: String!) { adjustPoints(memberId: $id, amount: 10, reason: "goodwill", idempotencyKey: $key) { id } }`,
			map[string]any{"id": e.member.Member.ID, "key": v + e.unique()})
	}},
	"Mutation.redeemReward(idempotencyKey)": {kind: identifier, field: "idempotencyKey", send: func(e *probeEnv, v string) *gqlResponse {
		return e.a.do(e.t, e.member.bearer(), `mutation($id: ID!, $key: String!) { redeemReward(rewardId: $id, idempotencyKey: $key) { id } }`,
			map[string]any{"id": e.rewardID, "key": v})
	}},
	"Mutation.buyStreakFreeze(idempotencyKey)": {kind: identifier, field: "idempotencyKey", send: func(e *probeEnv, v string) *gqlResponse {
		return e.a.do(e.t, e.member.bearer(), `mutation($key: String!) { buyStreakFreeze(idempotencyKey: $key) { freezes } }`, map[string]any{"key": v})
	}},
	"Mutation.rsvp(idempotencyKey)": {kind: identifier, field: "idempotencyKey", send: func(e *probeEnv, v string) *gqlResponse {
		return e.a.do(e.t, e.member.bearer(), rsvpMutation, map[string]any{"id": e.event(), "k": v})
	}},
	"Mutation.checkInAttendee(code)": {kind: identifier, field: "code", send: func(e *probeEnv, v string) *gqlResponse {
		return e.service(`mutation($id: ID!, $c: String!) { checkInAttendee(eventId: $id, code: $c) { status } }`, map[string]any{"id": e.event(), "c": v})
	}},
	"SignUpInput.referralCode": {kind: identifier, field: "referralCode", send: sendSignUp("referralCode")},
	// At the till (server/till_test.go probes the codes' own formats).
	"Mutation.fulfillRedemption(code)": {kind: identifier, field: "code", send: func(e *probeEnv, v string) *gqlResponse {
		return e.service(fulfilMutation, map[string]any{"c": v, "l": "Store", "k": "probe-" + e.unique()})
	}},
	"Mutation.fulfillRedemption(location)": {kind: humanText, field: "location", send: func(e *probeEnv, v string) *gqlResponse {
		return e.service(fulfilMutation, map[string]any{"c": "AAAA-AAAA-AAAA-AAAA", "l": v, "k": "probe-" + e.unique()})
	}},
	"Mutation.fulfillRedemption(idempotencyKey)": {kind: identifier, field: "idempotencyKey", send: func(e *probeEnv, v string) *gqlResponse {
		return e.service(fulfilMutation, map[string]any{"c": "AAAA-AAAA-AAAA-AAAA", "l": "Store", "k": v})
	}},
	"Mutation.redeemCoupon(code)": {kind: identifier, field: "code", send: func(e *probeEnv, v string) *gqlResponse {
		return e.service(couponMutation, map[string]any{"c": v, "o": "probe-" + e.unique()})
	}},
	"Mutation.redeemCoupon(orderExternalId)": {kind: identifier, field: "orderExternalId", send: func(e *probeEnv, v string) *gqlResponse {
		return e.service(couponMutation, map[string]any{"c": "AAAA-AAAA-AAAA-AAAA", "o": v})
	}},
	"Mutation.registerDevice(token)": {kind: identifier, field: "token", send: func(e *probeEnv, v string) *gqlResponse {
		return e.a.do(e.t, e.member.bearer(), registerDevice, map[string]any{"t": v, "p": "ANDROID"})
	}},
	"Mutation.registerDevice(appVersion)": {kind: identifier, field: "appVersion", send: func(e *probeEnv, v string) *gqlResponse {
		return e.a.do(e.t, e.member.bearer(), registerDevice, map[string]any{"t": "fcm:probe", "p": "ANDROID", "v": v})
	}},
	"Mutation.unregisterDevice(token)": {kind: identifier, field: "token", send: func(e *probeEnv, v string) *gqlResponse {
		e.a.do(e.t, e.member.bearer(), registerDevice, map[string]any{"t": v, "p": "ANDROID"}) // a plain token is then the member's
		return e.a.do(e.t, e.member.bearer(), `mutation($t: String!) { unregisterDevice(token: $t) }`, map[string]any{"t": v})
	}},

	// Others, each with its own policy.
	// Webhooks (webhooks_test.go probes the refusals).
	"Mutation.createWebhook(url)":    otherInput("a URL: webhook.Guard.CheckURL (absolute http(s), printable ASCII, at most 2048 bytes; https and public addresses only in production)"),
	"Mutation.updateWebhook(url)":    otherInput("a URL, as createWebhook(url)"),
	"Mutation.createWebhook(events)": otherInput("event type names, each one of webhook.Types (refused naming events[i])"),
	"Mutation.updateWebhook(events)": otherInput("event type names, as createWebhook(events)"),
	"Mutation.createWebhook(secret)": {kind: identifier, field: "secret", send: sendWebhook("secret")},
	"Mutation.updateWebhook(secret)": {kind: identifier, field: "secret", send: func(e *probeEnv, v string) *gqlResponse {
		id := e.webhook()
		return e.service(`mutation($id: ID!, $s: String) { updateWebhook(id: $id, secret: $s) { id } }`, map[string]any{"id": id, "s": v + "-long-enough-secret"})
	}},
	"Query.members(search)":                      otherInput("a search: the start of an address or a name, or an id; any text, 2 to 100 characters, matched, never stored"),
	"SignUpInput.email":                          otherInput("e-mail address: member.CanonicalEmail (NFC, IDNA, no invisible or mixed-script local part)"),
	"LogInInput.email":                           otherInput("e-mail address: the same canonical form as sign-up"),
	"SignUpInput.password":                       otherInput("password: member's password policy (NFC, 8 to 128, 8 visible)"),
	"LogInInput.password":                        otherInput("password: compared, never stored or shown"),
	"SignUpInput.timezone":                       otherInput("IANA timezone name, loaded with time.LoadLocation"),
	"UpdateProfileInput.timezone":                otherInput("IANA timezone name"),
	"ProgramInput.timezone":                      otherInput("IANA timezone name"),
	"SignUpInput.locale":                         otherInput("one of texts.Locales"),
	"UpdateProfileInput.locale":                  otherInput("one of texts.Locales, or empty"),
	"ProgramInput.locale":                        otherInput("one of texts.Locales"),
	"NotificationTemplateInput.locale":           otherInput("one of texts.Locales"),
	"Query.notificationTemplates(locale)":        otherInput("one of texts.Locales"),
	"Mutation.resetNotificationTemplate(locale)": otherInput("one of texts.Locales"),
	"SignUpInput.avatarUrl":                      otherInput("http(s) URL, parsed by net/url"),
	"UpdateProfileInput.avatarUrl":               otherInput("http(s) URL, parsed by net/url"),
	"BadgeInput.imageUrl":                        otherInput("https URL, parsed by net/url"),
	"OfferInput.imageUrl":                        otherInput("https URL"),
	"RecordActivityInput.currency":               otherInput("ISO 4217 code, the program's"),
	"ProgramInput.currency":                      otherInput("ISO 4217 code"),
	"AnalyticsRange.currency":                    otherInput("ISO 4217 code, checked by analytics"),
	"AnalyticsRange.timezone":                    otherInput("IANA timezone name, the program's"),
	"Mutation.refreshToken(refreshToken)":        otherInput("opaque token, looked up by its hash"),
	"Mutation.logOut(refreshToken)":              otherInput("opaque token, looked up by its hash"),
	"Mutation.resetPassword(token)":              otherInput("opaque emailed token, at most auth.MaxToken, looked up by its hash"),
	"Mutation.verifyEmail(token)":                otherInput("opaque emailed token, at most auth.MaxToken, looked up by its hash"),
	"Mutation.resetPassword(newPassword)":        otherInput("password: member's password policy, as at sign-up"),
	"Mutation.deleteMyAccount(password)":         otherInput("password: compared, never stored or shown"),
	"Mutation.requestPasswordReset(email)":       otherInput("e-mail address: the same canonical form as sign-up"),
	"BadgeWindowInput.from":                      otherInput("a month, YYYY-MM"),
	"BadgeWindowInput.to":                        otherInput("a month, YYYY-MM"),
	"RewardInput.minTier":                        otherInput("the name of one of the program's tiers"),
	"OfferTargetingInput.tiers":                  otherInput("names of the program's tiers"),
	"EventEligibilityInput.tiers":                otherInput("names of the program's tiers"),
	"EventInput.timezone":                        otherInput("IANA timezone name"),
	"EventInput.imageUrl":                        otherInput("https URL: input.Identifier, then net/url"),
	"EventPlaceInput.onlineUrl":                  otherInput("https URL: input.Identifier, then net/url"),
	"RuleConditionInput.tiers":                   otherInput("names of the program's tiers"),
	"EarningRuleInput.timezone":                  otherInput("IANA timezone name"),
	"Query.identifyMember(code)":                 otherInput("a member code (Crockford base32 with a check character; case, hyphens and spaces ignored) or a signed QR payload, at most 100 characters; anything else BAD_USER_INPUT on code (server/till_test.go)"),
	"Mutation.registerDevice(locale)":            otherInput("BCP 47 language tag, parsed by golang.org/x/text/language, at most 35 characters"),
}

// cursor arguments are opaque strings the server made, decoded or refused.
func isCursor(key string) bool { return strings.HasSuffix(key, "(after)") }

// stringInputs walks the schema: every argument of every field and every
// field of every input type whose type is String, [String] or their
// non-null forms.
func stringInputs() []string {
	schema := graph.Schema()
	isString := func(t *ast.Type) bool {
		for t.Elem != nil {
			t = t.Elem
		}
		return t.NamedType == "String"
	}
	var keys []string
	for _, def := range schema.Types {
		if strings.HasPrefix(def.Name, "__") {
			continue
		}
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			if def.Kind == ast.InputObject && isString(f.Type) {
				keys = append(keys, def.Name+"."+f.Name)
			}
			for _, arg := range f.Arguments {
				if isString(arg.Type) {
					keys = append(keys, fmt.Sprintf("%s.%s(%s)", def.Name, f.Name, arg.Name))
				}
			}
		}
	}
	slices.Sort(keys)
	return keys
}

// TestEveryStringInputFollowsItsPolicy walks the schema: each String input
// must be classified in textInputs, and each human-text or identifier
// input must refuse NUL (and the other characters its policy refuses) with
// BAD_USER_INPUT naming it, while a plain value passes.
func TestEveryStringInputFollowsItsPolicy(t *testing.T) {
	inSchema := stringInputs()
	for _, k := range inSchema {
		if _, ok := textInputs[k]; !ok && !isCursor(k) {
			t.Errorf("%s is a String input nobody classified: add it to textInputs (human text, identifier or other with a reason)", k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(textInputs)) {
		if !slices.Contains(inSchema, k) {
			t.Errorf("textInputs lists %s, which the schema no longer has", k)
		}
		if c := textInputs[k]; c.kind == other && c.reason == "" {
			t.Errorf("%s: an input of another kind says why", k)
		}
	}

	a := startApp(t, map[string]string{"RATE_LIMIT_IP_RPS": "100000", "RATE_LIMIT_IP_BURST": "100000",
		"RATE_LIMIT_MEMBER_RPS": "100000", "RATE_LIMIT_MEMBER_BURST": "100000"})
	a.setProgram(t)
	e := &probeEnv{t: t, a: a, member: a.signUp(t, "ann@example.com")}
	var reward struct{ ID string }
	a.service(t, `mutation { createReward(input: {name: "Mug", cost: 100}) { id } }`, nil).decode(t, "createReward", &reward)
	e.rewardID = reward.ID
	bad := map[textKind][]string{
		humanText:  {"a\u0000b", "\u202enimdA", "\u3164", "a\u200bb"},
		identifier: {"a\u0000b", "a b", "caf\u00e9"},
	}
	for _, k := range slices.Sorted(maps.Keys(textInputs)) {
		c := textInputs[k]
		if c.kind == other {
			continue
		}
		send := c.send
		if send == nil {
			t.Errorf("%s: no request to probe it with", k)
			continue
		}
		t.Run(k, func(t *testing.T) {
			e.t = t
			for _, v := range bad[c.kind] {
				r := send(e, v)
				if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != c.field {
					t.Errorf("%q: want BAD_USER_INPUT on %s, got %+v", v, c.field, r.Errors)
				}
			}
			// The request is otherwise right: a plain value is not refused
			// for this field (it may still fail on something else, such as
			// an unknown referral code or a redemption that does not exist).
			plain := "Plain-" + e.unique()
			if k == "RecordActivityInput.refundOf" || k == "SignUpInput.referralCode" || k == "Mutation.checkInAttendee(code)" ||
				k == "Mutation.fulfillRedemption(code)" || k == "Mutation.redeemCoupon(code)" {
				return // a plain value names nothing that exists (or is not signed): refused as unknown
			}
			if r := send(e, plain); len(r.Errors) > 0 && r.Errors[0].Extensions["field"] == c.field {
				t.Errorf("plain %q refused: %+v", plain, r.Errors)
			}
		})
	}
}
