package graph

import (
	"sync"

	"github.com/regulars/regulars/account"
	"github.com/regulars/regulars/analytics"
	"github.com/regulars/regulars/community"
	"github.com/regulars/regulars/community/events"
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
)

// Resolver is the executor's ResolverRoot: it holds the domain services and
// hands each GraphQL type's fields to the room that resolves them (the
// graph/*gql packages), composing a type whose fields several rooms serve
// (Query, Mutation, Subscription, Member) from theirs.
type Resolver struct {
	Members *member.Service
	// Auth signs members in: sign-up, log-in, tokens, sessions, roles.
	Auth         *auth.Service
	Inbox        *inbox.Inbox
	Game         *game.Service
	Rooms        game.Rooms // the game's rooms: resolvers call the one that owns what they read or change
	Texts        *texts.Templates
	EventService *events.Service
	RSVPs        *rsvp.Service
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
			events:    &eventsgql.Resolver{EventService: r.EventService, RSVPs: r.RSVPs, Members: r.Members},
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

func (r *Resolver) Activity() ActivityResolver { return gamegql.Activity{Resolver: r.rooms().game} }
func (r *Resolver) ActivityDifference() ActivityDifferenceResolver {
	return rulesgql.ActivityDifference{Resolver: r.rooms().rules}
}
func (r *Resolver) ActivityResult() ActivityResultResolver {
	return gamegql.ActivityResult{Resolver: r.rooms().game}
}
func (r *Resolver) Analytics() AnalyticsResolver {
	return analyticsgql.Analytics{Resolver: r.rooms().analytics}
}
func (r *Resolver) AnalyticsEngagement() AnalyticsEngagementResolver {
	return analyticsgql.AnalyticsEngagement{Resolver: r.rooms().analytics}
}
func (r *Resolver) AnalyticsOverview() AnalyticsOverviewResolver {
	return analyticsgql.AnalyticsOverview{Resolver: r.rooms().analytics}
}
func (r *Resolver) AnalyticsRetention() AnalyticsRetentionResolver {
	return analyticsgql.AnalyticsRetention{Resolver: r.rooms().analytics}
}
func (r *Resolver) Badge() BadgeResolver { return gamegql.Badge{Resolver: r.rooms().game} }
func (r *Resolver) BadgeUnlocks() BadgeUnlocksResolver {
	return analyticsgql.BadgeUnlocks{Resolver: r.rooms().analytics}
}
func (r *Resolver) CampaignResults() CampaignResultsResolver {
	return analyticsgql.CampaignResults{Resolver: r.rooms().analytics}
}
func (r *Resolver) CohortMatrix() CohortMatrixResolver {
	return analyticsgql.CohortMatrix{Resolver: r.rooms().analytics}
}
func (r *Resolver) CommunityStanding() CommunityStandingResolver {
	return communitygql.CommunityStanding{Resolver: r.rooms().community}
}
func (r *Resolver) Coupon() CouponResolver { return gamegql.Coupon{Resolver: r.rooms().game} }
func (r *Resolver) CouponRedemption() CouponRedemptionResolver {
	return gamegql.CouponRedemption{Resolver: r.rooms().game}
}
func (r *Resolver) DataExport() DataExportResolver {
	return membergql.DataExport{Resolver: r.rooms().members}
}
func (r *Resolver) EarningExplanation() EarningExplanationResolver {
	return rulesgql.EarningExplanation{Resolver: r.rooms().rules}
}
func (r *Resolver) EarningRule() EarningRuleResolver {
	return rulesgql.EarningRule{Resolver: r.rooms().rules}
}
func (r *Resolver) EarningRuleVersion() EarningRuleVersionResolver {
	return rulesgql.EarningRuleVersion{Resolver: r.rooms().rules}
}
func (r *Resolver) Event() EventResolver { return eventsgql.Event{Resolver: r.rooms().events} }
func (r *Resolver) EventAttendance() EventAttendanceResolver {
	return analyticsgql.EventAttendance{Resolver: r.rooms().analytics}
}
func (r *Resolver) EventPlace() EventPlaceResolver {
	return eventsgql.EventPlace{Resolver: r.rooms().events}
}
func (r *Resolver) EventUpdate() EventUpdateResolver {
	return eventsgql.EventUpdate{Resolver: r.rooms().events}
}
func (r *Resolver) Fulfilment() FulfilmentResolver {
	return gamegql.Fulfilment{Resolver: r.rooms().game}
}
func (r *Resolver) LedgerEntry() LedgerEntryResolver {
	return gamegql.LedgerEntry{Resolver: r.rooms().game}
}
func (r *Resolver) LedgerLine() LedgerLineResolver {
	return rulesgql.LedgerLine{Resolver: r.rooms().rules}
}
func (r *Resolver) LedgerSource() LedgerSourceResolver {
	return gamegql.LedgerSource{Resolver: r.rooms().game}
}
func (r *Resolver) LifetimeValue() LifetimeValueResolver {
	return analyticsgql.LifetimeValue{Resolver: r.rooms().analytics}
}
func (r *Resolver) Member() MemberResolver { return r.rooms().member }
func (r *Resolver) ModerationLogEntry() ModerationLogEntryResolver {
	return communitygql.ModerationLogEntry{Resolver: r.rooms().community}
}
func (r *Resolver) Mutation() MutationResolver { return r.rooms().mutation }
func (r *Resolver) Notification() NotificationResolver {
	return membergql.Notification{Resolver: r.rooms().members}
}
func (r *Resolver) Offer() OfferResolver   { return gamegql.Offer{Resolver: r.rooms().game} }
func (r *Resolver) Points() PointsResolver { return gamegql.Points{Resolver: r.rooms().game} }
func (r *Resolver) PointsComparison() PointsComparisonResolver {
	return rulesgql.PointsComparison{Resolver: r.rooms().rules}
}
func (r *Resolver) Post() PostResolver       { return communitygql.Post{Resolver: r.rooms().community} }
func (r *Resolver) Program() ProgramResolver { return gamegql.Program{Resolver: r.rooms().game} }
func (r *Resolver) ProgramEconomics() ProgramEconomicsResolver {
	return analyticsgql.ProgramEconomics{Resolver: r.rooms().analytics}
}
func (r *Resolver) PublicMember() PublicMemberResolver {
	return gamegql.PublicMember{Resolver: r.rooms().game}
}
func (r *Resolver) Query() QueryResolver { return r.rooms().query }
func (r *Resolver) Redemption() RedemptionResolver {
	return gamegql.Redemption{Resolver: r.rooms().game}
}
func (r *Resolver) ReferralFunnel() ReferralFunnelResolver {
	return analyticsgql.ReferralFunnel{Resolver: r.rooms().analytics}
}
func (r *Resolver) ReviewItem() ReviewItemResolver {
	return communitygql.ReviewItem{Resolver: r.rooms().community}
}
func (r *Resolver) ReviewQueueChange() ReviewQueueChangeResolver {
	return communitygql.ReviewQueueChange{Resolver: r.rooms().community}
}
func (r *Resolver) Reward() RewardResolver { return gamegql.Reward{Resolver: r.rooms().game} }
func (r *Resolver) Rsvp() RsvpResolver     { return eventsgql.Rsvp{Resolver: r.rooms().events} }
func (r *Resolver) RuleCondition() RuleConditionResolver {
	return rulesgql.RuleCondition{Resolver: r.rooms().rules}
}
func (r *Resolver) RuleSimulation() RuleSimulationResolver {
	return rulesgql.RuleSimulation{Resolver: r.rooms().rules}
}
func (r *Resolver) RuleSimulationResult() RuleSimulationResultResolver {
	return rulesgql.RuleSimulationResult{Resolver: r.rooms().rules}
}
func (r *Resolver) RuleVerdict() RuleVerdictResolver {
	return rulesgql.RuleVerdict{Resolver: r.rooms().rules}
}
func (r *Resolver) Sanction() SanctionResolver {
	return communitygql.Sanction{Resolver: r.rooms().community}
}
func (r *Resolver) Space() SpaceResolver               { return communitygql.Space{Resolver: r.rooms().community} }
func (r *Resolver) Standing() StandingResolver         { return gamegql.Standing{Resolver: r.rooms().game} }
func (r *Resolver) Subscription() SubscriptionResolver { return r.rooms().subscription }
func (r *Resolver) Thread() ThreadResolver             { return communitygql.Thread{Resolver: r.rooms().community} }
func (r *Resolver) ThreadEvent() ThreadEventResolver {
	return communitygql.ThreadEvent{Resolver: r.rooms().community}
}
func (r *Resolver) TierStatus() TierStatusResolver {
	return gamegql.TierStatus{Resolver: r.rooms().game}
}
func (r *Resolver) TillMember() TillMemberResolver {
	return gamegql.TillMember{Resolver: r.rooms().game}
}
func (r *Resolver) WatchedWord() WatchedWordResolver {
	return communitygql.WatchedWord{Resolver: r.rooms().community}
}
func (r *Resolver) Webhook() WebhookResolver { return webhookgql.Webhook{Resolver: r.rooms().webhooks} }
func (r *Resolver) WebhookDelivery() WebhookDeliveryResolver {
	return webhookgql.WebhookDelivery{Resolver: r.rooms().webhooks}
}
func (r *Resolver) EventInput() EventInputResolver {
	return eventsgql.EventInput{Resolver: r.rooms().events}
}
func (r *Resolver) OfferInput() OfferInputResolver {
	return gamegql.OfferInput{Resolver: r.rooms().game}
}
