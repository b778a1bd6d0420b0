package graph

import (
	"context"

	"github.com/regulars/regulars/webhook"
)

// Webhooks for BRAND: endpoints and deliveries map to package webhook as
// they are; ids are the API's ("Webhook", "WebhookDelivery"). The payloads'
// ids are made with APIID when an event is emitted (server wires it).

func webhookConnection(eps []*webhook.Endpoint, more bool, after *string) *WebhookConnection {
	es, info := edges(eps, more, after, func(e *webhook.Endpoint) string { return encodeIDCursor("webhooks", e.ID) },
		func(c string, e *webhook.Endpoint) *WebhookEdge { return &WebhookEdge{Cursor: c, Node: e} })
	return &WebhookConnection{Edges: es, PageInfo: info}
}

func webhookDeliveryConnection(ds []*webhook.Delivery, more bool, after *string) *WebhookDeliveryConnection {
	es, info := edges(ds, more, after, func(d *webhook.Delivery) string { return encodeIDCursor("webhookDeliveries", d.ID) },
		func(c string, d *webhook.Delivery) *WebhookDeliveryEdge {
			return &WebhookDeliveryEdge{Cursor: c, Node: d}
		})
	return &WebhookDeliveryConnection{Edges: es, PageInfo: info}
}

// webhookNodes shows webhooks to whoever may call webhooks (BRAND).
func (r *Resolver) webhookNodes(ctx context.Context, refs []nodeRef) ([]Node, []error) {
	return each(refs, func(ref nodeRef) (Node, error) {
		if !mayCall(ctx, parsedSchema.Query, "webhooks") {
			return nil, webhook.ErrEndpointNotFound
		}
		return nonNil(r.WebhookService.Endpoint(ctx, ref.id))
	})
}

// webhookDeliveryNodes shows deliveries to whoever may call webhookDeliveries (BRAND).
func (r *Resolver) webhookDeliveryNodes(ctx context.Context, refs []nodeRef) ([]Node, []error) {
	return each(refs, func(ref nodeRef) (Node, error) {
		if !mayCall(ctx, parsedSchema.Query, "webhookDeliveries") {
			return nil, webhook.ErrDeliveryNotFound
		}
		return nonNil(r.WebhookService.Delivery(ctx, ref.id))
	})
}

func nonZero[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}
