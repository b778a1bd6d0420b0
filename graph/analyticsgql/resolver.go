// Package analyticsgql resolves the GraphQL fields of the brand's analytics
// (package analytics).
//
// It maps arguments to the domain's calls and results to the schema's
// types, and holds no rule of its own; graph.Resolver composes it with the
// other rooms into the generated executor's ResolverRoot.
package analyticsgql

import (
	"github.com/regulars/regulars/analytics"
)

// Resolver holds the services this room's resolvers call.
type Resolver struct {
	AnalyticsService *analytics.Service // the brand's figures
}

// The resolvers of the GraphQL types this room serves fields of.
type (
	Analytics           struct{ *Resolver }
	AnalyticsEngagement struct{ *Resolver }
	AnalyticsOverview   struct{ *Resolver }
	AnalyticsRetention  struct{ *Resolver }
	BadgeUnlocks        struct{ *Resolver }
	CampaignResults     struct{ *Resolver }
	CohortMatrix        struct{ *Resolver }
	EventAttendance     struct{ *Resolver }
	LifetimeValue       struct{ *Resolver }
	ProgramEconomics    struct{ *Resolver }
	Query               struct{ *Resolver }
	ReferralFunnel      struct{ *Resolver }
)
