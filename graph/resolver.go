package graph

import (
	"sync"

	"github.com/regulars/regulars/account"
	"github.com/regulars/regulars/analytics"
	"github.com/regulars/regulars/community"
	"github.com/regulars/regulars/community/events"
	"github.com/regulars/regulars/community/events/attendees"
	"github.com/regulars/regulars/community/events/rsvp"
	"github.com/regulars/regulars/community/reviewlive"
	"github.com/regulars/regulars/game"
	"github.com/regulars/regulars/game/offer/offerlive"
	"github.com/regulars/regulars/graph/analyticsgql"
	"github.com/regulars/regulars/graph/communitygql"
	"github.com/regulars/regulars/graph/eventsgql"
	"github.com/regulars/regulars/graph/gamegql"
	"github.com/regulars/regulars/graph/membergql"
	"github.com/regulars/regulars/graph/rulesgql"
	"github.com/regulars/regulars/graph/webhookgql"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/member/auth"
	"github.com/regulars/regulars/push"
	"github.com/regulars/regulars/texts"
	"github.com/regulars/regulars/till"
	"github.com/regulars/regulars/webhook"
	"github.com/vektah/gqlparser/v2/ast"
)

// Resolver holds the domain services the resolvers call. NewExecutor makes
// the executor's ResolverRoot over it (resolverRoot), which hands each
// GraphQL type's fields to the room that resolves them (the graph/*gql
// packages), composing a type whose fields several rooms serve (Query,
// Mutation, Subscription, Member) from theirs.
type Resolver struct {
	Members *member.Service
	// Auth signs members in: sign-up, log-in, tokens, sessions, roles.
	Auth            *auth.Service
	Inbox           *inbox.Inbox
	Game            *game.Service
	Rooms           game.Rooms // the game's rooms: resolvers call the one that owns what they read or change
	Texts           *texts.Templates
	EventService    *events.Service
	RSVPs           *rsvp.Service
	AttendeeService *attendees.Service
	// Community is the brand's community (spaces, threads, moderation).
	Community        *community.Service
	AnalyticsService *analytics.Service
	// Till identifies members at a store's till (their cards).
	Till *till.Service
	// Webhooks are the brand's endpoints and their deliveries.
	WebhookService *webhook.Service
	// Accounts: password reset, email verification, deletion, data export.
	Accounts *account.Service
	// Push keeps members' devices (package push).
	Push *push.Service
	// ReviewQueue streams review queues live (community/reviewlive).
	ReviewQueue *reviewlive.Watcher
	// OfferProgress streams offers' publishing live (game/offer/offerlive).
	OfferWatch *offerlive.Watcher

	once  sync.Once
	built *rooms
}

// resolverRoot is the generated executor's ResolverRoot over r: one
// method per GraphQL type with resolvers, handing it to the room (or the
// rooms, composed) that resolve its fields.
type resolverRoot struct{ *Resolver }

// Schema is the GraphQL schema the executor serves, for tests and tools
// that walk it.
func Schema() *ast.Schema { return parsedSchema }

// rooms are the per-room resolvers, made once from the services.
type rooms struct {
	members      *membergql.Resolver
	game         *gamegql.Resolver
	rules        *rulesgql.Resolver
	community    *communitygql.Resolver
	events       *eventsgql.Resolver
	analytics    *analyticsgql.Resolver
	webhooks     *webhookgql.Resolver
	member       *memberResolver
	mutation     *mutationResolver
	query        *queryResolver
	subscription *subscriptionResolver
}

// rooms builds the rooms on first use: the server sets the services
// before the executor resolves anything.
func (r *Resolver) rooms() *rooms {
	r.once.Do(func() {
		b := &rooms{
			members:   &membergql.Resolver{Members: r.Members, Auth: r.Auth, Inbox: r.Inbox, Rooms: r.Rooms, Texts: r.Texts, Accounts: r.Accounts, Push: r.Push},
			game:      &gamegql.Resolver{Game: r.Game, Rooms: r.Rooms, Members: r.Members, Till: r.Till, OfferWatch: r.OfferWatch},
			rules:     &rulesgql.Resolver{Game: r.Game, Rooms: r.Rooms},
			community: &communitygql.Resolver{Community: r.Community, ReviewQueue: r.ReviewQueue},
			events:    &eventsgql.Resolver{EventService: r.EventService, RSVPs: r.RSVPs, AttendeeService: r.AttendeeService, Members: r.Members},
			analytics: &analyticsgql.Resolver{AnalyticsService: r.AnalyticsService},
			webhooks:  &webhookgql.Resolver{WebhookService: r.WebhookService},
		}
		b.member = &memberResolver{
			memberMember:    membergql.Member{Resolver: b.members},
			gameMember:      gamegql.Member{Resolver: b.game},
			communityMember: communitygql.Member{Resolver: b.community},
			eventsMember:    eventsgql.Member{Resolver: b.events},
		}
		b.mutation = &mutationResolver{
			memberMutation:    membergql.Mutation{Resolver: b.members},
			gameMutation:      gamegql.Mutation{Resolver: b.game},
			rulesMutation:     rulesgql.Mutation{Resolver: b.rules},
			communityMutation: communitygql.Mutation{Resolver: b.community},
			eventsMutation:    eventsgql.Mutation{Resolver: b.events},
			webhookMutation:   webhookgql.Mutation{Resolver: b.webhooks},
		}
		b.query = &queryResolver{
			root:           r,
			memberQuery:    membergql.Query{Resolver: b.members},
			gameQuery:      gamegql.Query{Resolver: b.game},
			rulesQuery:     rulesgql.Query{Resolver: b.rules},
			communityQuery: communitygql.Query{Resolver: b.community},
			eventsQuery:    eventsgql.Query{Resolver: b.events},
			analyticsQuery: analyticsgql.Query{Resolver: b.analytics},
			webhookQuery:   webhookgql.Query{Resolver: b.webhooks},
		}
		b.subscription = &subscriptionResolver{
			memberSubscription:    membergql.Subscription{Resolver: b.members},
			gameSubscription:      gamegql.Subscription{Resolver: b.game},
			communitySubscription: communitygql.Subscription{Resolver: b.community},
			eventsSubscription:    eventsgql.Subscription{Resolver: b.events},
		}
		r.built = b
	})
	return r.built
}

// memberResolver serves Member's fields from the rooms that own them.
type memberResolver struct {
	memberMember
	gameMember
	communityMember
	eventsMember
}

// mutationResolver serves Mutation's fields from the rooms that own them.
type mutationResolver struct {
	memberMutation
	gameMutation
	rulesMutation
	communityMutation
	eventsMutation
	webhookMutation
}

// Each room's part of a type several serve, named for the room: two
// embedded fields may not share a name.
type (
	memberMember          = membergql.Member
	gameMember            = gamegql.Member
	communityMember       = communitygql.Member
	eventsMember          = eventsgql.Member
	memberMutation        = membergql.Mutation
	gameMutation          = gamegql.Mutation
	rulesMutation         = rulesgql.Mutation
	communityMutation     = communitygql.Mutation
	eventsMutation        = eventsgql.Mutation
	webhookMutation       = webhookgql.Mutation
	memberQuery           = membergql.Query
	gameQuery             = gamegql.Query
	rulesQuery            = rulesgql.Query
	communityQuery        = communitygql.Query
	eventsQuery           = eventsgql.Query
	analyticsQuery        = analyticsgql.Query
	webhookQuery          = webhookgql.Query
	memberSubscription    = membergql.Subscription
	gameSubscription      = gamegql.Subscription
	communitySubscription = communitygql.Subscription
	eventsSubscription    = eventsgql.Subscription
)

// queryResolver serves Query's fields from the rooms that own them (node and nodes here).
type queryResolver struct {
	root *Resolver
	memberQuery
	gameQuery
	rulesQuery
	communityQuery
	eventsQuery
	analyticsQuery
	webhookQuery
}

// subscriptionResolver serves Subscription's fields from the rooms that own them.
type subscriptionResolver struct {
	memberSubscription
	gameSubscription
	communitySubscription
	eventsSubscription
}

func (r resolverRoot) Activity() ActivityResolver { return gamegql.Activity{Resolver: r.rooms().game} }
func (r resolverRoot) ActivityDifference() ActivityDifferenceResolver {
	return rulesgql.ActivityDifference{Resolver: r.rooms().rules}
}
func (r resolverRoot) ActivityResult() ActivityResultResolver {
	return gamegql.ActivityResult{Resolver: r.rooms().game}
}
func (r resolverRoot) Analytics() AnalyticsResolver {
	return analyticsgql.Analytics{Resolver: r.rooms().analytics}
}
func (r resolverRoot) AnalyticsEngagement() AnalyticsEngagementResolver {
	return analyticsgql.AnalyticsEngagement{Resolver: r.rooms().analytics}
}
func (r resolverRoot) AnalyticsOverview() AnalyticsOverviewResolver {
	return analyticsgql.AnalyticsOverview{Resolver: r.rooms().analytics}
}
func (r resolverRoot) AnalyticsRetention() AnalyticsRetentionResolver {
	return analyticsgql.AnalyticsRetention{Resolver: r.rooms().analytics}
}
func (r resolverRoot) Badge() BadgeResolver { return gamegql.Badge{Resolver: r.rooms().game} }
func (r resolverRoot) BadgeUnlocks() BadgeUnlocksResolver {
	return analyticsgql.BadgeUnlocks{Resolver: r.rooms().analytics}
}
func (r resolverRoot) CampaignResults() CampaignResultsResolver {
	return analyticsgql.CampaignResults{Resolver: r.rooms().analytics}
}
func (r resolverRoot) CohortMatrix() CohortMatrixResolver {
	return analyticsgql.CohortMatrix{Resolver: r.rooms().analytics}
}
func (r resolverRoot) CommunityStanding() CommunityStandingResolver {
	return communitygql.CommunityStanding{Resolver: r.rooms().community}
}
func (r resolverRoot) Coupon() CouponResolver { return gamegql.Coupon{Resolver: r.rooms().game} }
func (r resolverRoot) CouponRedemption() CouponRedemptionResolver {
	return gamegql.CouponRedemption{Resolver: r.rooms().game}
}
func (r resolverRoot) DataExport() DataExportResolver {
	return membergql.DataExport{Resolver: r.rooms().members}
}
func (r resolverRoot) EarningExplanation() EarningExplanationResolver {
	return rulesgql.EarningExplanation{Resolver: r.rooms().rules}
}
func (r resolverRoot) EarningRule() EarningRuleResolver {
	return rulesgql.EarningRule{Resolver: r.rooms().rules}
}
func (r resolverRoot) EarningRuleVersion() EarningRuleVersionResolver {
	return rulesgql.EarningRuleVersion{Resolver: r.rooms().rules}
}
func (r resolverRoot) Event() EventResolver { return eventsgql.Event{Resolver: r.rooms().events} }
func (r resolverRoot) EventAttendance() EventAttendanceResolver {
	return analyticsgql.EventAttendance{Resolver: r.rooms().analytics}
}
func (r resolverRoot) EventPlace() EventPlaceResolver {
	return eventsgql.EventPlace{Resolver: r.rooms().events}
}
func (r resolverRoot) EventUpdate() EventUpdateResolver {
	return eventsgql.EventUpdate{Resolver: r.rooms().events}
}
func (r resolverRoot) Fulfilment() FulfilmentResolver {
	return gamegql.Fulfilment{Resolver: r.rooms().game}
}
func (r resolverRoot) LedgerEntry() LedgerEntryResolver {
	return gamegql.LedgerEntry{Resolver: r.rooms().game}
}
func (r resolverRoot) LedgerLine() LedgerLineResolver {
	return rulesgql.LedgerLine{Resolver: r.rooms().rules}
}
func (r resolverRoot) LedgerSource() LedgerSourceResolver {
	return gamegql.LedgerSource{Resolver: r.rooms().game}
}
func (r resolverRoot) LifetimeValue() LifetimeValueResolver {
	return analyticsgql.LifetimeValue{Resolver: r.rooms().analytics}
}
func (r resolverRoot) Member() MemberResolver { return r.rooms().member }
func (r resolverRoot) ModerationLogEntry() ModerationLogEntryResolver {
	return communitygql.ModerationLogEntry{Resolver: r.rooms().community}
}
func (r resolverRoot) Mutation() MutationResolver { return r.rooms().mutation }
func (r resolverRoot) Notification() NotificationResolver {
	return membergql.Notification{Resolver: r.rooms().members}
}
func (r resolverRoot) Offer() OfferResolver   { return gamegql.Offer{Resolver: r.rooms().game} }
func (r resolverRoot) Points() PointsResolver { return gamegql.Points{Resolver: r.rooms().game} }
func (r resolverRoot) PointsComparison() PointsComparisonResolver {
	return rulesgql.PointsComparison{Resolver: r.rooms().rules}
}
func (r resolverRoot) Post() PostResolver       { return communitygql.Post{Resolver: r.rooms().community} }
func (r resolverRoot) Program() ProgramResolver { return gamegql.Program{Resolver: r.rooms().game} }
func (r resolverRoot) ProgramEconomics() ProgramEconomicsResolver {
	return analyticsgql.ProgramEconomics{Resolver: r.rooms().analytics}
}
func (r resolverRoot) PublicMember() PublicMemberResolver {
	return gamegql.PublicMember{Resolver: r.rooms().game}
}
func (r resolverRoot) Query() QueryResolver { return r.rooms().query }
func (r resolverRoot) Redemption() RedemptionResolver {
	return gamegql.Redemption{Resolver: r.rooms().game}
}
func (r resolverRoot) ReferralFunnel() ReferralFunnelResolver {
	return analyticsgql.ReferralFunnel{Resolver: r.rooms().analytics}
}
func (r resolverRoot) ReviewItem() ReviewItemResolver {
	return communitygql.ReviewItem{Resolver: r.rooms().community}
}
func (r resolverRoot) ReviewQueueChange() ReviewQueueChangeResolver {
	return communitygql.ReviewQueueChange{Resolver: r.rooms().community}
}
func (r resolverRoot) Reward() RewardResolver { return gamegql.Reward{Resolver: r.rooms().game} }
func (r resolverRoot) Rsvp() RsvpResolver     { return eventsgql.Rsvp{Resolver: r.rooms().events} }
func (r resolverRoot) RuleCondition() RuleConditionResolver {
	return rulesgql.RuleCondition{Resolver: r.rooms().rules}
}
func (r resolverRoot) RuleSimulation() RuleSimulationResolver {
	return rulesgql.RuleSimulation{Resolver: r.rooms().rules}
}
func (r resolverRoot) RuleSimulationResult() RuleSimulationResultResolver {
	return rulesgql.RuleSimulationResult{Resolver: r.rooms().rules}
}
func (r resolverRoot) RuleVerdict() RuleVerdictResolver {
	return rulesgql.RuleVerdict{Resolver: r.rooms().rules}
}
func (r resolverRoot) Sanction() SanctionResolver {
	return communitygql.Sanction{Resolver: r.rooms().community}
}
func (r resolverRoot) Space() SpaceResolver               { return communitygql.Space{Resolver: r.rooms().community} }
func (r resolverRoot) Standing() StandingResolver         { return gamegql.Standing{Resolver: r.rooms().game} }
func (r resolverRoot) Subscription() SubscriptionResolver { return r.rooms().subscription }
func (r resolverRoot) Thread() ThreadResolver {
	return communitygql.Thread{Resolver: r.rooms().community}
}
func (r resolverRoot) ThreadEvent() ThreadEventResolver {
	return communitygql.ThreadEvent{Resolver: r.rooms().community}
}
func (r resolverRoot) TierStatus() TierStatusResolver {
	return gamegql.TierStatus{Resolver: r.rooms().game}
}
func (r resolverRoot) TillMember() TillMemberResolver {
	return gamegql.TillMember{Resolver: r.rooms().game}
}
func (r resolverRoot) WatchedWord() WatchedWordResolver {
	return communitygql.WatchedWord{Resolver: r.rooms().community}
}
func (r resolverRoot) Webhook() WebhookResolver {
	return webhookgql.Webhook{Resolver: r.rooms().webhooks}
}
func (r resolverRoot) WebhookDelivery() WebhookDeliveryResolver {
	return webhookgql.WebhookDelivery{Resolver: r.rooms().webhooks}
}
func (r resolverRoot) EventInput() EventInputResolver {
	return eventsgql.EventInput{Resolver: r.rooms().events}
}
func (r resolverRoot) OfferInput() OfferInputResolver {
	return gamegql.OfferInput{Resolver: r.rooms().game}
}
