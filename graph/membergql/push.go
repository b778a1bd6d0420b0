package membergql

import (
	"context"

	"github.com/regulars/regulars/graph/model"
	"github.com/regulars/regulars/member"

	"github.com/regulars/regulars/push"
)

// RegisterDevice is the resolver for the registerDevice field.
func (r Mutation) RegisterDevice(ctx context.Context, token string, platform push.Platform, appVersion *string, locale *string) (*push.Device, error) {
	me, err := member.PrincipalFrom(ctx).Self()
	if err != nil {
		return nil, err
	}
	return r.Push.Register(ctx, me, push.Registration{Token: token, Platform: platform, AppVersion: model.Deref(appVersion), Locale: model.Deref(locale)})
}

// UnregisterDevice is the resolver for the unregisterDevice field.
func (r Mutation) UnregisterDevice(ctx context.Context, token string) (bool, error) {
	me, err := member.PrincipalFrom(ctx).Self()
	if err != nil {
		return false, err
	}
	return true, r.Push.Unregister(ctx, me, token)
}

// MyDevices is the resolver for the myDevices field.
func (r Query) MyDevices(ctx context.Context) ([]*push.Device, error) {
	me, err := member.PrincipalFrom(ctx).Self()
	if err != nil {
		return nil, err
	}
	return r.Push.Devices(ctx, me)
}
