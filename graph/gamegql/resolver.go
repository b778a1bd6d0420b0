// Package gamegql resolves the GraphQL fields of the game (package game):
// points and the ledger, tiers, rewards and redemptions, streaks, badges,
// leaderboards, offers and coupons, the till.
//
// It maps arguments to the domain's calls and results to the schema's
// types, and holds no rule of its own; graph.Resolver composes it with the
// other rooms into the generated executor's ResolverRoot.
package gamegql

import (
	"github.com/regulars/regulars/game"
	"github.com/regulars/regulars/game/offer/offerlive"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/till"
)

// Resolver holds the services this room's resolvers call.
type Resolver struct {
	Game       *game.Service      // the loyalty program
	Rooms      game.Rooms         // the game's rooms: resolvers call the one that owns what they read or change
	Members    *member.Service    // members: profiles, search, roles
	Till       *till.Service      // members identified at a store's till
	OfferWatch *offerlive.Watcher // offers' publishing, live
}

// The resolvers of the GraphQL types this room serves fields of.
type (
	Activity         struct{ *Resolver }
	ActivityResult   struct{ *Resolver }
	Badge            struct{ *Resolver }
	Coupon           struct{ *Resolver }
	CouponRedemption struct{ *Resolver }
	Fulfilment       struct{ *Resolver }
	LedgerEntry      struct{ *Resolver }
	LedgerSource     struct{ *Resolver }
	Member           struct{ *Resolver }
	Mutation         struct{ *Resolver }
	Offer            struct{ *Resolver }
	OfferInput       struct{ *Resolver }
	Points           struct{ *Resolver }
	Program          struct{ *Resolver }
	PublicMember     struct{ *Resolver }
	Query            struct{ *Resolver }
	Redemption       struct{ *Resolver }
	Reward           struct{ *Resolver }
	Standing         struct{ *Resolver }
	Subscription     struct{ *Resolver }
	TierStatus       struct{ *Resolver }
	TillMember       struct{ *Resolver }
)
