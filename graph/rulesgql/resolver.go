// Package rulesgql resolves the GraphQL fields of earning rules
// (game/rules): rules and their versions, explanations, dry runs.
//
// It maps arguments to the domain's calls and results to the schema's
// types, and holds no rule of its own; graph.Resolver composes it with the
// other rooms into the generated executor's ResolverRoot.
package rulesgql

import (
	"github.com/regulars/regulars/game"
)

// Resolver holds the services this room's resolvers call.
type Resolver struct {
	Game  *game.Service // the loyalty program
	Rooms game.Rooms    // the game's rooms: resolvers call the one that owns what they read or change
}

// The resolvers of the GraphQL types this room serves fields of.
type (
	ActivityDifference   struct{ *Resolver }
	EarningExplanation   struct{ *Resolver }
	EarningRule          struct{ *Resolver }
	EarningRuleVersion   struct{ *Resolver }
	LedgerLine           struct{ *Resolver }
	Mutation             struct{ *Resolver }
	PointsComparison     struct{ *Resolver }
	Query                struct{ *Resolver }
	RuleCondition        struct{ *Resolver }
	RuleSimulation       struct{ *Resolver }
	RuleSimulationResult struct{ *Resolver }
	RuleVerdict          struct{ *Resolver }
)
