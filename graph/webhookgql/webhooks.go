package webhookgql

import (
	"context"
	"time"

	"github.com/regulars/regulars/graph/model"
	"github.com/regulars/regulars/graph/relay"

	"github.com/regulars/regulars/webhook"
)

// CreateWebhook is the resolver for the createWebhook field.
func (r Mutation) CreateWebhook(ctx context.Context, url string, events []string, secret *string) (*model.CreatedWebhook, error) {
	ep, err := r.WebhookService.Create(ctx, webhook.EndpointInput{URL: &url, Events: events, Secret: secret})
	if err != nil {
		return nil, err
	}
	return &model.CreatedWebhook{Webhook: ep, Secret: ep.Secret}, nil
}

// UpdateWebhook is the resolver for the updateWebhook field.
func (r Mutation) UpdateWebhook(ctx context.Context, id string, url *string, events []string, secret *string) (*webhook.Endpoint, error) {
	oid, err := relay.DecodeID("Webhook", "id", id)
	if err != nil {
		return nil, err
	}
	return r.WebhookService.Update(ctx, oid, webhook.EndpointInput{URL: url, Events: events, Secret: secret})
}

// DeleteWebhook is the resolver for the deleteWebhook field.
func (r Mutation) DeleteWebhook(ctx context.Context, id string) (string, error) {
	oid, err := relay.DecodeID("Webhook", "id", id)
	if err != nil {
		return "", err
	}
	return id, r.WebhookService.Delete(ctx, oid)
}

// Redeliver is the resolver for the redeliver field.
func (r Mutation) Redeliver(ctx context.Context, deliveryID string) (*webhook.Delivery, error) {
	oid, err := relay.DecodeID("WebhookDelivery", "deliveryId", deliveryID)
	if err != nil {
		return nil, err
	}
	return r.WebhookService.Redeliver(ctx, oid)
}

// Webhooks is the resolver for the webhooks field.
func (r Query) Webhooks(ctx context.Context, first *int, after *string) (*model.WebhookConnection, error) {
	n, err := relay.PageSize(first)
	if err != nil {
		return nil, err
	}
	from, err := relay.DecodeIDCursor("webhooks", after)
	if err != nil {
		return nil, err
	}
	eps, more, err := r.WebhookService.Endpoints(ctx, from, n)
	if err != nil {
		return nil, err
	}
	return webhookConnection(eps, more, after), nil
}

// WebhookDeliveries is the resolver for the webhookDeliveries field.
func (r Query) WebhookDeliveries(ctx context.Context, webhookID string, state *webhook.State, first *int, after *string) (*model.WebhookDeliveryConnection, error) {
	n, err := relay.PageSize(first)
	if err != nil {
		return nil, err
	}
	epID, err := relay.DecodeID("Webhook", "webhookId", webhookID)
	if err != nil {
		return nil, err
	}
	list := relay.DeliveriesList(epID)
	from, err := relay.DecodeIDCursor(list, after)
	if err != nil {
		return nil, err
	}
	var st webhook.State
	if state != nil {
		st = *state
	}
	ds, more, err := r.WebhookService.Deliveries(ctx, epID, st, from, n)
	if err != nil {
		return nil, err
	}
	return webhookDeliveryConnection(list, ds, more, after), nil
}

// ID is the resolver for the id field.
func (r Webhook) ID(ctx context.Context, obj *webhook.Endpoint) (string, error) {
	return relay.EncodeID("Webhook", obj.ID), nil
}

// Events is the resolver for the events field.
func (r Webhook) Events(ctx context.Context, obj *webhook.Endpoint) ([]string, error) {
	out := make([]string, len(obj.Events))
	for i, t := range obj.Events {
		out[i] = string(t)
	}
	return out, nil
}

// ID is the resolver for the id field.
func (r WebhookDelivery) ID(ctx context.Context, obj *webhook.Delivery) (string, error) {
	return relay.EncodeID("WebhookDelivery", obj.ID), nil
}

// WebhookID is the resolver for the webhookId field.
func (r WebhookDelivery) WebhookID(ctx context.Context, obj *webhook.Delivery) (string, error) {
	return relay.EncodeID("Webhook", obj.EndpointID), nil
}

// EventType is the resolver for the eventType field.
func (r WebhookDelivery) EventType(ctx context.Context, obj *webhook.Delivery) (string, error) {
	return string(obj.EventType), nil
}

// NextAttemptAt is the resolver for the nextAttemptAt field.
func (r WebhookDelivery) NextAttemptAt(ctx context.Context, obj *webhook.Delivery) (*time.Time, error) {
	if obj.State != webhook.StatePending {
		return nil, nil
	}
	return &obj.NextAttemptAt, nil
}

// LastStatus is the resolver for the lastStatus field.
func (r WebhookDelivery) LastStatus(ctx context.Context, obj *webhook.Delivery) (*int, error) {
	return nonZero(obj.LastStatus), nil
}

// LastResponse is the resolver for the lastResponse field.
func (r WebhookDelivery) LastResponse(ctx context.Context, obj *webhook.Delivery) (*string, error) {
	return nonZero(obj.LastResponse), nil
}

// LastError is the resolver for the lastError field.
func (r WebhookDelivery) LastError(ctx context.Context, obj *webhook.Delivery) (*string, error) {
	return nonZero(obj.LastError), nil
}
