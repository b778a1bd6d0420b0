package member

import (
	"context"
	"errors"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// FormerMemberName is what others see for an erased member (posts,
// leaderboards, attendee lists).
const FormerMemberName = "a former member"

// erasedEmail is the address an erased member keeps: the unique index
// needs one, and it is no one's, so the real address may sign up again.
func erasedEmail(id bson.ObjectID) string { return "erased-" + id.Hex() + erasedSuffix }

const erasedSuffix = "@erased.invalid"

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

// EraseMember erases the member's profile: their address, password,
// name, avatar, birthday, timezone, locale and roles go; their id stays as
// an anonymous id the ledger, activities and redemptions keep pointing at,
// shown to others as FormerMemberName. What signing in keeps (sessions,
// emailed tokens, log-in attempts) member/auth erases first
// (auth.Service.EraseMember). Safe to repeat; an unknown id is no error.
func (s *Service) EraseMember(ctx context.Context, id bson.ObjectID) error {
	now := s.now().UTC()
	_, err := s.members.update(ctx, id, bson.D{
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
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// IsErasedEmail reports whether email is the placeholder an erased member
// keeps (no one's address).
func IsErasedEmail(email string) bool { return strings.HasSuffix(email, erasedSuffix) }
