package guard

import (
	"context"
	"fmt"
	"slices"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Why a mutation may appear only once per request: each alias would run it
// again, multiplying what one request does past what the rate limits
// (counted per request and per socket operation) and the log-in back-off
// see.
const (
	repeatable     = ""
	signsIn        = "it signs in or issues credentials"
	sendsMessages  = "it sends messages to members"
	movesPoints    = "it spends, awards or returns points"
	startsWork     = "it starts work over every member"
	onceLimitLabel = "ONCE_PER_REQUEST"
)

// mutations classifies every Mutation field of the schema, in one place: a
// field with a reason may appear at most once in a request (aliases,
// fragments and all); a repeatable one any number of times, bounded by the
// cost rule. OncePerRequest refuses to start on a schema with a mutation
// missing here, so a new mutation must be classified.
var mutations = map[string]string{
	"signUp":       signsIn, // and sends the WELCOME notification
	"logIn":        signsIn,
	"refreshToken": signsIn,
	"logOut":       repeatable,

	"sendNotification": sendsMessages,
	"publishOffer":     sendsMessages, // to every targeted member

	"redeemReward":     movesPoints,
	"cancelRedemption": movesPoints,
	"claimOffer":       movesPoints,
	"buyStreakFreeze":  movesPoints,
	"adjustPoints":     movesPoints,
	"recordActivity":   movesPoints,
	"checkIn":          movesPoints,
	"createBadge":      startsWork, // a backfill that may award bonus points

	// At the till (graph/schema/till.graphql): each notifies the member.
	"fulfillRedemption": sendsMessages,
	"redeemCoupon":      sendsMessages,

	// Members-only events (graph/schema/events.graphql).
	"checkInAttendee": movesPoints,   // attendance earns points
	"rsvp":            movesPoints,   // a seat taken; keyed, but one per request keeps drops fair
	"cancelRsvp":      sendsMessages, // the freed seat is offered with a notification
	"claimSeat":       repeatable,
	"createEvent":     repeatable,
	"updateEvent":     sendsMessages, // more capacity offers seats with notifications
	"publishEvent":    repeatable,
	"cancelEvent":     repeatable,
	"createThread":    repeatable, // points under the daily cap, posts under trust limits and slow mode
	"reply":           repeatable,
	"editPost":        repeatable,
	"deletePost":      repeatable,
	"react":           repeatable,
	"unreact":         repeatable,
	"flagPost":        repeatable,  // once per post and member
	"moderatePost":    movesPoints, // a removal takes the post's points back
	"moderateThread":  repeatable,
	"sanctionMember":  repeatable,
	"liftSanction":    repeatable, // a lifted sanction is no longer in force: NOT_FOUND again
	"createSpace":     repeatable,
	"updateSpace":     repeatable,
	"watchWord":       repeatable,
	"unwatchWord":     repeatable,

	// Earning rules (graph/schema/rules.graphql): edits of the brand's
	// definitions, like updateProgram; a dry run replays history.
	"createEarningRule":  repeatable,
	"updateEarningRule":  repeatable,
	"pauseEarningRule":   repeatable,
	"archiveEarningRule": repeatable,
	"simulateRules":      startsWork, // a background replay of the range's activities

	// Accounts (graph/schema/accounts.graphql).
	"requestPasswordReset":     sendsMessages,
	"resetPassword":            signsIn, // every session ends
	"requestEmailVerification": sendsMessages,
	"verifyEmail":              repeatable,
	"deleteMyAccount":          signsIn, // checks a password
	"deleteMember":             startsWork,
	"requestMyData":            startsWork,

	"updateProfile":              repeatable,
	"grantRole":                  repeatable,
	"revokeRole":                 repeatable,
	"markNotificationsRead":      repeatable,
	"registerDevice":             repeatable, // keyed by the token, at most push.MaxDevices per member
	"unregisterDevice":           repeatable,
	"markAllNotificationsRead":   repeatable,
	"deleteNotifications":        repeatable,
	"setNotificationPreferences": repeatable,
	"setLeaderboardOptOut":       repeatable,
	"createOffer":                repeatable,
	"createReward":               repeatable,
	"updateReward":               repeatable,
	"updateProgram":              repeatable,
	"setNotificationTemplate":    repeatable,
	"resetNotificationTemplate":  repeatable,

	// Webhooks (graph/schema/webhooks.graphql): the brand's own endpoints;
	// a redelivery sends to the brand's system, not to members.
	"createWebhook": repeatable,
	"updateWebhook": repeatable,
	"deleteWebhook": repeatable,
	"redeliver":     repeatable,
}

// OncePerRequest refuses, before anything runs, a mutation operation in
// which a once-only mutation field appears more than once: QUERY_LIMIT_EXCEEDED
// with extensions.limit ONCE_PER_REQUEST and extensions.field naming it.
// Nothing of the operation is executed.
type OncePerRequest struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = OncePerRequest{}

func (OncePerRequest) ExtensionName() string { return "OncePerRequest" }

// Validate fails on a schema whose mutations are not all classified (or
// whose classification names a mutation the schema lacks).
func (OncePerRequest) Validate(es graphql.ExecutableSchema) error {
	return checkClassified(es.Schema())
}

func checkClassified(schema *ast.Schema) error {
	var missing, stale []string
	if schema.Mutation != nil {
		for _, f := range schema.Mutation.Fields {
			if _, ok := mutations[f.Name]; !ok && f.Name[0] != '_' {
				missing = append(missing, f.Name)
			}
		}
	}
	for name := range mutations {
		if schema.Mutation == nil || schema.Mutation.Fields.ForName(name) == nil {
			stale = append(stale, name)
		}
	}
	if len(missing)+len(stale) > 0 {
		slices.Sort(missing)
		slices.Sort(stale)
		return fmt.Errorf("guard: classify every mutation as once per request or repeatable (graph/guard/once.go); unclassified: %v; not in the schema: %v", missing, stale)
	}
	return nil
}

func (OncePerRequest) MutateOperationContext(_ context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if rc.Operation == nil || rc.Operation.Operation != ast.Mutation {
		return nil
	}
	count := map[string]int{}
	var first []graphql.CollectedField
	for _, f := range graphql.CollectFields(rc, rc.Operation.SelectionSet, []string{"Mutation"}) {
		if count[f.Name]++; count[f.Name] == 1 {
			first = append(first, f)
		}
	}
	for _, f := range first {
		why, known := mutations[f.Name]
		if n := count[f.Name]; n > 1 && (why != repeatable || !known) {
			if !known {
				why = "it is not classified"
			}
			e := gqlerror.Errorf("%s may appear once per request (%s); this request has it %d times: send one per request", f.Name, why, n)
			e.Path = ast.Path{ast.PathName(f.Alias)}
			e.Extensions = map[string]any{"code": CodeQueryLimit, "limit": onceLimitLabel, "field": f.Name}
			return e
		}
	}
	return nil
}
