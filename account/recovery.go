package account

import (
	"context"
	"errors"
	"net/url"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/member/auth"
	"github.com/regulars/regulars/texts"
)

// RequestPasswordReset emails a reset link to the address if a member has
// it. The answer is the same whether or not one does (nil, or the same
// errors: a malformed address, RATE_LIMITED), so it tells nobody which
// addresses have accounts; the email is sent off the request's path so
// the time taken does not tell either. Counted per address and per client
// address (from) before anything else.
func (s *Service) RequestPasswordReset(ctx context.Context, email, from string) error {
	canonical, err := member.NormalizeEmail(email)
	if err != nil {
		return err
	}
	now := s.now()
	if from != "" {
		if err := s.quotas.take(ctx, resetPerIP, from, now); err != nil {
			return err
		}
	}
	if err := s.quotas.take(ctx, resetPerEmail, canonical, now); err != nil {
		return err
	}
	m, err := s.members.ByEmail(ctx, canonical)
	if errors.Is(err, member.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if m.DeletedAt != nil {
		return nil
	}
	token, err := s.auth.IssueToken(ctx, m, auth.PurposePasswordReset)
	if err != nil {
		return err
	}
	return s.sendLater(ctx, m, texts.PasswordResetEmail, map[string]any{
		"brand": s.cfg.Brand, "name": m.DisplayName, "link": s.link("reset-password", token), "hours": int(auth.ResetTokenTTL.Hours()),
	})
}

// ResetPassword sets a new password with an emailed token and ends every
// session of the member (auth.ResetPassword). Tries are counted per
// client address.
func (s *Service) ResetPassword(ctx context.Context, token, newPassword, from string) error {
	if len(token) > auth.MaxToken {
		return auth.LinkInvalid()
	}
	if from != "" {
		if err := s.quotas.take(ctx, tokenPerIP, from, s.now()); err != nil {
			return err
		}
	}
	_, err := s.auth.ResetPassword(ctx, token, newPassword)
	return err
}

// RequestEmailVerification emails the member a link that verifies their
// address; nothing is sent for an address verified already.
func (s *Service) RequestEmailVerification(ctx context.Context, memberID bson.ObjectID) error {
	if err := s.quotas.take(ctx, verifyPerUser, memberID.Hex(), s.now()); err != nil {
		return err
	}
	m, err := s.members.Get(ctx, memberID)
	if err != nil {
		return err
	}
	if m.EmailVerified() || m.DeletedAt != nil {
		return nil
	}
	token, err := s.auth.IssueToken(ctx, m, auth.PurposeVerifyEmail)
	if err != nil {
		return err
	}
	return s.sendLater(ctx, m, texts.VerifyEmailEmail, map[string]any{
		"brand": s.cfg.Brand, "name": m.DisplayName, "link": s.link("verify-email", token),
	})
}

// VerifyEmail verifies the address an emailed token was sent to. Tries are
// counted per client address.
func (s *Service) VerifyEmail(ctx context.Context, token, from string) (*member.Member, error) {
	if len(token) > auth.MaxToken {
		return nil, auth.LinkInvalid()
	}
	if from != "" {
		if err := s.quotas.take(ctx, tokenPerIP, from, s.now()); err != nil {
			return nil, err
		}
	}
	return s.auth.VerifyEmail(ctx, token)
}

// link is the app link of an emailed token.
func (s *Service) link(path, token string) string {
	return s.cfg.LinkBase + path + "?token=" + url.QueryEscape(token)
}
