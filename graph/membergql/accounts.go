package membergql

import (
	"context"
	"time"

	"github.com/regulars/regulars/graph/model"
	"github.com/regulars/regulars/graph/relay"
	"github.com/regulars/regulars/graph/request"

	"github.com/regulars/regulars/account"
	"github.com/regulars/regulars/member"
)

// DownloadURL is the resolver for the downloadUrl field.
func (r DataExport) DownloadURL(ctx context.Context, obj *account.Export) (*string, error) {
	if obj.Status != account.ExportReady {
		return nil, nil
	}
	return model.Optional(obj.DownloadURL), nil
}

// ExpiresAt is the resolver for the expiresAt field.
func (r DataExport) ExpiresAt(ctx context.Context, obj *account.Export) (*time.Time, error) {
	return obj.ExpiresAt, nil
}

// RequestPasswordReset is the resolver for the requestPasswordReset field.
func (r Mutation) RequestPasswordReset(ctx context.Context, email string) (bool, error) {
	return true, r.Accounts.RequestPasswordReset(ctx, email, request.ClientIP(ctx))
}

// ResetPassword is the resolver for the resetPassword field.
func (r Mutation) ResetPassword(ctx context.Context, token string, newPassword string) (bool, error) {
	return true, r.Accounts.ResetPassword(ctx, token, newPassword, request.ClientIP(ctx))
}

// RequestEmailVerification is the resolver for the requestEmailVerification field.
func (r Mutation) RequestEmailVerification(ctx context.Context) (bool, error) {
	self, err := member.PrincipalFrom(ctx).Self()
	if err != nil {
		return false, err
	}
	return true, r.Accounts.RequestEmailVerification(ctx, self)
}

// VerifyEmail is the resolver for the verifyEmail field.
func (r Mutation) VerifyEmail(ctx context.Context, token string) (*member.Member, error) {
	return r.Accounts.VerifyEmail(ctx, token, request.ClientIP(ctx))
}

// DeleteMyAccount is the resolver for the deleteMyAccount field.
func (r Mutation) DeleteMyAccount(ctx context.Context, password *string) (bool, error) {
	return true, r.Accounts.DeleteMyAccount(ctx, member.PrincipalFrom(ctx), password)
}

// DeleteMember is the resolver for the deleteMember field.
func (r Mutation) DeleteMember(ctx context.Context, memberID string, reason string) (bool, error) {
	id, err := relay.DecodeID("Member", "memberId", memberID)
	if err != nil {
		return false, err
	}
	return true, r.Accounts.DeleteMember(ctx, member.PrincipalFrom(ctx), id, reason)
}

// RequestMyData is the resolver for the requestMyData field.
func (r Mutation) RequestMyData(ctx context.Context) (*account.Export, error) {
	self, err := member.PrincipalFrom(ctx).Self()
	if err != nil {
		return nil, err
	}
	return r.Accounts.RequestMyData(ctx, self)
}

// MyDataExports is the resolver for the myDataExports field.
func (r Query) MyDataExports(ctx context.Context) ([]*account.Export, error) {
	self, err := member.PrincipalFrom(ctx).Self()
	if err != nil {
		return nil, err
	}
	return r.Accounts.Exports(ctx, self)
}
