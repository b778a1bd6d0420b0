package webhookgql

import (
	"github.com/regulars/regulars/graph/model"
	"github.com/regulars/regulars/graph/relay"

	"github.com/regulars/regulars/webhook"
)

// Webhooks for BRAND: endpoints and deliveries map to package webhook as
// they are; ids are the API's ("Webhook", "WebhookDelivery"). The payloads'
// ids are made with APIID when an event is emitted (server wires it).

func webhookConnection(eps []*webhook.Endpoint, more bool, after *string) *model.WebhookConnection {
	es, info := relay.Edges(eps, more, after, func(e *webhook.Endpoint) string { return relay.EncodeIDCursor("webhooks", e.ID) },
		func(c string, e *webhook.Endpoint) *model.WebhookEdge { return &model.WebhookEdge{Cursor: c, Node: e} })
	return &model.WebhookConnection{Edges: es, PageInfo: info}
}

func webhookDeliveryConnection(list string, ds []*webhook.Delivery, more bool, after *string) *model.WebhookDeliveryConnection {
	es, info := relay.Edges(ds, more, after, func(d *webhook.Delivery) string { return relay.EncodeIDCursor(list, d.ID) },
		func(c string, d *webhook.Delivery) *model.WebhookDeliveryEdge {
			return &model.WebhookDeliveryEdge{Cursor: c, Node: d}
		})
	return &model.WebhookDeliveryConnection{Edges: es, PageInfo: info}
}

func nonZero[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}
