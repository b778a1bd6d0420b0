// Package communitygql resolves the GraphQL fields of the community
// (package community): spaces, threads, posts, reactions, flags, the review
// queue, sanctions, the audit log.
//
// It maps arguments to the domain's calls and results to the schema's
// types, and holds no rule of its own; graph.Resolver composes it with the
// other rooms into the generated executor's ResolverRoot.
package communitygql

import (
	"github.com/regulars/regulars/community"
	"github.com/regulars/regulars/community/reviewlive"
)

// Resolver holds the services this room's resolvers call.
type Resolver struct {
	Community   *community.Service  // spaces, threads, moderation
	ReviewQueue *reviewlive.Watcher // review queues, live
}

// The resolvers of the GraphQL types this room serves fields of.
type (
	CommunityStanding  struct{ *Resolver }
	Member             struct{ *Resolver }
	ModerationLogEntry struct{ *Resolver }
	Mutation           struct{ *Resolver }
	Post               struct{ *Resolver }
	Query              struct{ *Resolver }
	ReviewItem         struct{ *Resolver }
	ReviewQueueChange  struct{ *Resolver }
	Sanction           struct{ *Resolver }
	Space              struct{ *Resolver }
	Subscription       struct{ *Resolver }
	Thread             struct{ *Resolver }
	ThreadEvent        struct{ *Resolver }
	WatchedWord        struct{ *Resolver }
)
