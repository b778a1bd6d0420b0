package membergql

import (
	"context"

	"github.com/regulars/regulars/graph/model"

	"github.com/regulars/regulars/texts"
)

// SetNotificationTemplate is the resolver for the setNotificationTemplate field.
func (r Mutation) SetNotificationTemplate(ctx context.Context, input model.NotificationTemplateInput) (*texts.Text, error) {
	return r.Texts.Set(ctx, input.Locale, input.Name, texts.Template{Title: input.Title, Body: input.Body})
}

// ResetNotificationTemplate is the resolver for the resetNotificationTemplate field.
func (r Mutation) ResetNotificationTemplate(ctx context.Context, locale string, name texts.Name) (*texts.Text, error) {
	return r.Texts.Reset(ctx, locale, name)
}

// NotificationTemplates is the resolver for the notificationTemplates field.
func (r Query) NotificationTemplates(ctx context.Context, locale string) ([]*texts.Text, error) {
	return r.Texts.List(ctx, locale)
}
