// Package webhookgql resolves the GraphQL fields of webhooks (package
// webhook): the brand's endpoints and their deliveries.
//
// It maps arguments to the domain's calls and results to the schema's
// types, and holds no rule of its own; graph.Resolver composes it with the
// other rooms into the generated executor's ResolverRoot.
package webhookgql

import (
	"github.com/regulars/regulars/webhook"
)

// Resolver holds the services this room's resolvers call.
type Resolver struct {
	WebhookService *webhook.Service // the brand's endpoints and deliveries
}

// The resolvers of the GraphQL types this room serves fields of.
type (
	Mutation        struct{ *Resolver }
	Query           struct{ *Resolver }
	Webhook         struct{ *Resolver }
	WebhookDelivery struct{ *Resolver }
)
