package member

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/input"
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

const (
	indexTokensMember   = "member"
	indexFamiliesMember = "member"
	indexDeleting       = "deleting"
)

func tokenIndexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		// A member's tokens are spent together (a reset spends the others) and erased with them.
		{Keys: bson.D{{Key: "memberId", Value: 1}, {Key: "purpose", Value: 1}}, Options: options.Index().SetName(indexTokensMember)},
	}
}

// IssueToken stores a new single-use token for the member and returns its
// secret, for the email: a password reset lives ResetTokenTTL, an email
// verification VerifyTokenTTL.
func (s *Service) IssueToken(ctx context.Context, m *Member, purpose Purpose) (string, error) {
	ttl := ResetTokenTTL
	if purpose == PurposeVerifyEmail {
		ttl = VerifyTokenTTL
	}
	secret, hash := newRefreshSecret()
	now := s.now().UTC()
	_, err := s.tokensC.InsertOne(ctx, emailToken{Hash: hash, Purpose: purpose, MemberID: m.ID, Email: m.Email, CreatedAt: now, ExpiresAt: now.Add(ttl)})
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
	err := s.tokensC.FindOne(ctx, bson.D{{Key: "_id", Value: hashRefresh(secret)}}).Decode(&t)
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
	r, err := s.tokensC.UpdateOne(ctx,
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
func (s *Service) ResetPassword(ctx context.Context, token, newPassword string) (*Member, error) {
	t, err := s.liveToken(ctx, token, PurposePasswordReset)
	if err != nil {
		return nil, err
	}
	m, err := s.members.byID(ctx, t.MemberID)
	if errors.Is(err, ErrNotFound) || (err == nil && m.DeletedAt != nil) {
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
	if _, err := s.tokensC.UpdateMany(ctx,
		bson.D{{Key: "memberId", Value: m.ID}, {Key: "purpose", Value: PurposePasswordReset}, {Key: "usedAt", Value: nil}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "usedAt", Value: now}}}}); err != nil {
		return nil, err
	}
	m, err = s.members.update(ctx, m.ID, bson.D{{Key: "$set", Value: bson.D{{Key: "passwordHash", Value: hash}, {Key: "updatedAt", Value: now}}}})
	if err != nil {
		return nil, err
	}
	// A reset also proves the address: the link reached it.
	if m.EmailVerifiedAt == nil && m.Email == t.Email {
		if m, err = s.members.update(ctx, m.ID, bson.D{{Key: "$set", Value: bson.D{{Key: "emailVerifiedAt", Value: now}}}}); err != nil {
			return nil, err
		}
	}
	return m, s.RevokeSessions(ctx, m.ID, EndPasswordReset)
}

// VerifyEmail marks the address the token was sent to verified, if it is
// still the member's, and spends the token.
func (s *Service) VerifyEmail(ctx context.Context, token string) (*Member, error) {
	t, err := s.liveToken(ctx, token, PurposeVerifyEmail)
	if err != nil {
		return nil, err
	}
	m, err := s.members.byID(ctx, t.MemberID)
	if errors.Is(err, ErrNotFound) || (err == nil && (m.DeletedAt != nil || m.Email != t.Email)) {
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
	return s.members.update(ctx, m.ID, bson.D{{Key: "$set", Value: bson.D{{Key: "emailVerifiedAt", Value: s.now().UTC()}}}})
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
func (s *Service) SessionStarted(ctx context.Context, p Principal) (time.Time, error) {
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
func (s *Service) CheckPassword(ctx context.Context, m *Member, password string) error {
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

// FormerMemberName is what others see for an erased member (posts,
// leaderboards, attendee lists).
const FormerMemberName = "a former member"

// erasedEmail is the address an erased member keeps: the unique index
// needs one, and it is no one's, so the real address may sign up again.
func erasedEmail(id bson.ObjectID) string { return "erased-" + id.Hex() + "@erased.invalid" }

// Erased reports whether the member's personal data was erased.
func (m *Member) Erased() bool { return m.ErasedAt != nil }

// MarkDeleting records that the member's deletion began (before anything
// is erased), so a deletion cut short is finished by DeletionsPending's
// job. It returns the member; a member deleted before is returned as is.
func (s *Service) MarkDeleting(ctx context.Context, id bson.ObjectID) (*Member, error) {
	now := s.now().UTC()
	m, err := s.members.update(ctx, id, bson.D{{Key: "$min", Value: bson.D{{Key: "deletedAt", Value: now}}}})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// DeletionsPending lists members whose deletion began but whose data is not
// erased yet, at most limit.
func (s *Service) DeletionsPending(ctx context.Context, limit int) ([]bson.ObjectID, error) {
	cur, err := s.members.c.Find(ctx, bson.D{{Key: "deletedAt", Value: bson.D{{Key: "$ne", Value: nil}}}, {Key: "erasedAt", Value: nil}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, err
	}
	var rows []struct {
		ID bson.ObjectID `bson:"_id"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return nil, err
	}
	ids := make([]bson.ObjectID, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	return ids, nil
}

// EraseMember erases what accounts keep about a member: their address,
// password, name, avatar, birthday, timezone and locale go; their id stays
// as an anonymous id the ledger, activities and redemptions keep pointing
// at, shown to others as FormerMemberName. Their sessions, emailed tokens
// and log-in attempts are deleted. Safe to repeat.
func (s *Service) EraseMember(ctx context.Context, id bson.ObjectID) error {
	m, err := s.members.byID(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := s.RevokeSessions(ctx, id, EndAccountDeleted); err != nil {
		return err
	}
	if !strings.HasSuffix(m.Email, "@erased.invalid") {
		if _, err := s.attempts.c.DeleteOne(ctx, bson.D{{Key: "_id", Value: accountKey(m.Email)}}); err != nil {
			return err
		}
	}
	for _, c := range []*mongo.Collection{s.tokensC, s.refresh.tokens, s.refresh.spends} {
		if _, err := c.DeleteMany(ctx, bson.D{{Key: "memberId", Value: id}}); err != nil {
			return err
		}
	}
	now := s.now().UTC()
	_, err = s.members.update(ctx, id, bson.D{
		{Key: "$set", Value: bson.D{
			{Key: "email", Value: erasedEmail(id)}, {Key: "displayName", Value: FormerMemberName}, {Key: "nameKey", Value: ""},
			{Key: "timezone", Value: "UTC"}, {Key: "marketingConsent", Value: false}, {Key: "roles", Value: []Role{}},
			{Key: "erasedAt", Value: now}, {Key: "updatedAt", Value: now},
		}},
		{Key: "$unset", Value: bson.D{
			{Key: "passwordHash", Value: ""}, {Key: "avatarUrl", Value: ""}, {Key: "birthday", Value: ""},
			{Key: "locale", Value: ""}, {Key: "emailVerifiedAt", Value: ""},
		}},
		{Key: "$min", Value: bson.D{{Key: "deletedAt", Value: now}}},
	})
	return err
}
