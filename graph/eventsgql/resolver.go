// Package eventsgql resolves the GraphQL fields of members-only events
// (community/events): events, RSVPs, waitlists, check-in, live updates.
//
// It maps arguments to the domain's calls and results to the schema's
// types, and holds no rule of its own; graph.Resolver composes it with the
// other rooms into the generated executor's ResolverRoot.
package eventsgql

import (
	"github.com/regulars/regulars/community/events"
	"github.com/regulars/regulars/community/events/attendees"
	"github.com/regulars/regulars/community/events/rsvp"
	"github.com/regulars/regulars/member"
)

// Resolver holds the services this room's resolvers call.
type Resolver struct {
	EventService    *events.Service    // members-only events
	RSVPs           *rsvp.Service      // RSVPs, waitlists, check-in
	AttendeeService *attendees.Service // who answered: lists, counts, a member's answers
	Members         *member.Service    // members: profiles, search, roles
}

// The resolvers of the GraphQL types this room serves fields of.
type (
	Event        struct{ *Resolver }
	EventInput   struct{ *Resolver }
	EventPlace   struct{ *Resolver }
	EventUpdate  struct{ *Resolver }
	Member       struct{ *Resolver }
	Mutation     struct{ *Resolver }
	Query        struct{ *Resolver }
	Rsvp         struct{ *Resolver }
	Subscription struct{ *Resolver }
)
