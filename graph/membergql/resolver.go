// Package membergql resolves the GraphQL fields of members: sign-up and
// sign-in, profiles, roles, notifications and their templates, devices,
// accounts (reset, verification, deletion, data export).
//
// It maps arguments to the domain's calls and results to the schema's
// types, and holds no rule of its own; graph.Resolver composes it with the
// other rooms into the generated executor's ResolverRoot.
package membergql

import (
	"github.com/regulars/regulars/account"
	"github.com/regulars/regulars/game"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/member/auth"
	"github.com/regulars/regulars/push"
	"github.com/regulars/regulars/texts"
)

// Resolver holds the services this room's resolvers call.
type Resolver struct {
	Members  *member.Service  // members: profiles, search, roles
	Auth     *auth.Service    // sign-up, log-in, tokens, sessions
	Inbox    *inbox.Inbox     // notifications
	Rooms    game.Rooms       // the game's rooms: resolvers call the one that owns what they read or change
	Texts    *texts.Templates // notification templates per locale
	Accounts *account.Service // password reset, email verification, deletion, data export
	Push     *push.Service    // members' devices
}

// The resolvers of the GraphQL types this room serves fields of.
type (
	DataExport   struct{ *Resolver }
	Member       struct{ *Resolver }
	Mutation     struct{ *Resolver }
	Notification struct{ *Resolver }
	Query        struct{ *Resolver }
	Subscription struct{ *Resolver }
)
