package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/member"
)

// Purpose says what an emailed token is for.
type Purpose string

const (
	PurposePasswordReset Purpose = "PASSWORD_RESET"
	PurposeVerifyEmail   Purpose = "VERIFY_EMAIL"
)

// Lifetimes of emailed tokens.
const (
	ResetTokenTTL  = time.Hour
	VerifyTokenTTL = 7 * 24 * time.Hour
	// MaxToken bounds a token as sent back (ours are 43 characters).
	MaxToken = 128
)

// ErrLinkInvalid answers a token that is unknown, used, expired or for
// another purpose: one answer for all, on the field "token" (LinkInvalid).
var ErrLinkInvalid = fault.New(fault.Invalid, "is invalid, already used or expired: ask for a new link")

// LinkInvalid is ErrLinkInvalid on the field "token".
func LinkInvalid() error { return input.Wrap("token", ErrLinkInvalid) }

// emailToken is an emailed single-use token, stored by the hash of its
// secret in "member_tokens"; the secret itself is only in the email.
type emailToken struct {
	Hash      string        `bson:"_id"`
	Purpose   Purpose       `bson:"purpose"`
	MemberID  bson.ObjectID `bson:"memberId"`
	Email     string        `bson:"email"` // the address it was sent to: verifying it proves that one
	CreatedAt time.Time     `bson:"createdAt"`
	ExpiresAt time.Time     `bson:"expiresAt"`
	UsedAt    *time.Time    `bson:"usedAt,omitempty"`
}

const indexTokensMember = "member"

func linkIndexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		// A member's tokens are spent together (a reset spends the others) and erased with them.
		{Keys: bson.D{{Key: "memberId", Value: 1}, {Key: "purpose", Value: 1}}, Options: options.Index().SetName(indexTokensMember)},
	}
}

// IssueToken stores a new single-use token for the member and returns its
// secret, for the email: a password reset lives ResetTokenTTL, an email
// verification VerifyTokenTTL.
func (s *Service) IssueToken(ctx context.Context, m *member.Member, purpose Purpose) (string, error) {
	ttl := ResetTokenTTL
	if purpose == PurposeVerifyEmail {
		ttl = VerifyTokenTTL
	}
	secret, hash := newRefreshSecret()
	now := s.now().UTC()
	_, err := s.links.InsertOne(ctx, emailToken{Hash: hash, Purpose: purpose, MemberID: m.ID, Email: m.Email, CreatedAt: now, ExpiresAt: now.Add(ttl)})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// liveToken reads an unused, unexpired token of purpose, or ErrLinkInvalid.
func (s *Service) liveToken(ctx context.Context, secret string, purpose Purpose) (*emailToken, error) {
	if secret == "" || len(secret) > MaxToken {
		return nil, LinkInvalid()
	}
	var t emailToken
	err := s.links.FindOne(ctx, bson.D{{Key: "_id", Value: hashRefresh(secret)}}).Decode(&t)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, LinkInvalid()
	}
	if err != nil {
		return nil, err
	}
	if t.Purpose != purpose || t.UsedAt != nil || !s.now().Before(t.ExpiresAt) {
		return nil, LinkInvalid()
	}
	return &t, nil
}

// spend marks a token used, if it still is live: exactly one of any
// number of concurrent uses wins.
func (s *Service) spend(ctx context.Context, t *emailToken) error {
	now := s.now().UTC()
	r, err := s.links.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: t.Hash}, {Key: "usedAt", Value: nil}, {Key: "expiresAt", Value: bson.D{{Key: "$gt", Value: now}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "usedAt", Value: now}}}})
	if err != nil {
		return err
	}
	if r.ModifiedCount == 0 {
		return LinkInvalid()
	}
	return nil
}

// ResetPassword sets a new password with a reset token, spends it (and
// the member's other reset tokens), and revokes every session: each of the
// member's devices must sign in again. A token used twice, expired or
// unknown is ErrLinkInvalid; a password against the policy is an input
// error on "newPassword"; either way nothing is written.
func (s *Service) ResetPassword(ctx context.Context, token, newPassword string) (*member.Member, error) {
	t, err := s.liveToken(ctx, token, PurposePasswordReset)
	if err != nil {
		return nil, err
	}
	m, err := s.members.Get(ctx, t.MemberID)
	if errors.Is(err, member.ErrNotFound) || (err == nil && m.DeletedAt != nil) {
		return nil, LinkInvalid()
	}
	if err != nil {
		return nil, err
	}
	pw, err := passwordForm(newPassword)
	if err == nil {
		err = checkPassword(pw, m.Email)
	}
	if err != nil {
		if in, ok := input.As(err); ok {
			return nil, input.Errorf("newPassword", "%s", in.Message)
		}
		return nil, err
	}
	hash, err := s.hasher.hash(pw)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	if err := s.spend(ctx, t); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	if _, err := s.links.UpdateMany(ctx,
		bson.D{{Key: "memberId", Value: m.ID}, {Key: "purpose", Value: PurposePasswordReset}, {Key: "usedAt", Value: nil}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "usedAt", Value: now}}}}); err != nil {
		return nil, err
	}
	if m, err = s.members.SetPassword(ctx, m.ID, hash); err != nil {
		return nil, err
	}
	// A reset also proves the address: the link reached it.
	if m.EmailVerifiedAt == nil && m.Email == t.Email {
		if m, err = s.members.EmailVerified(ctx, m.ID); err != nil {
			return nil, err
		}
	}
	return m, s.RevokeSessions(ctx, m.ID, EndPasswordReset)
}

// VerifyEmail marks the address the token was sent to verified, if it is
// still the member's, and spends the token.
func (s *Service) VerifyEmail(ctx context.Context, token string) (*member.Member, error) {
	t, err := s.liveToken(ctx, token, PurposeVerifyEmail)
	if err != nil {
		return nil, err
	}
	m, err := s.members.Get(ctx, t.MemberID)
	if errors.Is(err, member.ErrNotFound) || (err == nil && (m.DeletedAt != nil || m.Email != t.Email)) {
		return nil, LinkInvalid()
	}
	if err != nil {
		return nil, err
	}
	if err := s.spend(ctx, t); err != nil {
		return nil, err
	}
	if m.EmailVerifiedAt != nil {
		return m, nil
	}
	return s.members.EmailVerified(ctx, m.ID)
}

// RevokeSessions ends every session of the member: their refresh tokens
// stop working, and an event per session closes their sockets and refuses
// their access tokens on every instance.
func (s *Service) RevokeSessions(ctx context.Context, memberID bson.ObjectID, reason string) error {
	cur, err := s.refresh.families.Find(ctx, bson.D{{Key: "memberId", Value: memberID}, {Key: "revokedAt", Value: nil}})
	if err != nil {
		return err
	}
	var fs []tokenFamily
	if err := cur.All(ctx, &fs); err != nil {
		return err
	}
	now := s.now().UTC()
	for _, f := range fs {
		if err := s.refresh.revoke(ctx, f.ID, now); err != nil {
			return err
		}
		if err := s.sessionsEnded(ctx, memberID, f.ID, reason); err != nil {
			return err
		}
	}
	return nil
}

// SessionStarted is when the session p belongs to was signed into (its
// log-in, not its last refresh); zero when p has no session.
func (s *Service) SessionStarted(ctx context.Context, p member.Principal) (time.Time, error) {
	if p.Session.IsZero() {
		return time.Time{}, nil
	}
	var f tokenFamily
	err := s.refresh.families.FindOne(ctx, bson.D{{Key: "_id", Value: p.Session}}).Decode(&f)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return time.Time{}, nil
	}
	return f.CreatedAt, err
}

// CheckPassword reports whether password is the member's (ErrBadCredentials
// if not), as slow whether or not it matches.
func (s *Service) CheckPassword(ctx context.Context, m *member.Member, password string) error {
	if len(password) > 4*4*MaxPassword {
		s.hasher.check(nil, "")
		return ErrBadCredentials
	}
	ok, _ := s.hasher.check(m.PasswordHash, password)
	if !ok {
		return ErrBadCredentials
	}
	return nil
}

// EraseMember erases what signing in keeps of a member: their sessions
// end (EndAccountDeleted), and their refresh tokens, emailed links and
// log-in attempts are deleted. The profile is member.Service.EraseMember's,
// after this. Safe to repeat; an unknown member is no error.
func (s *Service) EraseMember(ctx context.Context, id bson.ObjectID) error {
	m, err := s.members.Get(ctx, id)
	if errors.Is(err, member.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := s.RevokeSessions(ctx, id, EndAccountDeleted); err != nil {
		return err
	}
	if !member.IsErasedEmail(m.Email) {
		if _, err := s.attempts.c.DeleteOne(ctx, bson.D{{Key: "_id", Value: accountKey(m.Email)}}); err != nil {
			return err
		}
	}
	for _, c := range []*mongo.Collection{s.links, s.refresh.tokens, s.refresh.spends} {
		if _, err := c.DeleteMany(ctx, bson.D{{Key: "memberId", Value: id}}); err != nil {
			return err
		}
	}
	return nil
}
