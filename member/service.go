package member

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/byid"
	"github.com/regulars/regulars/internal/mongoindex"
)

// Service keeps members' profiles: who they are, their roles, and the
// look-ups other rooms make of them. Signing in (passwords, tokens,
// sessions) is member/auth's, which reads and writes the profile through
// the methods here.
type Service struct {
	members memberStore
	now     func() time.Time
}

// New returns the profiles kept in db ("members"); clock may be nil
// (time.Now).
func New(db *mongo.Database, clock func() time.Time) *Service {
	if clock == nil {
		clock = time.Now
	}
	return &Service{members: memberStore{db.Collection("members")}, now: clock}
}

// EnsureIndexes creates the indexes the queries below rely on; safe to repeat.
func (s *Service) EnsureIndexes(ctx context.Context) error {
	if err := mongoindex.Ensure(ctx, s.members.c, s.members.indexes()...); err != nil {
		return err
	}
	return s.backfillNameKeys(ctx)
}

// SignUp is what a new member gives.
type SignUp struct {
	Email            string
	Password         string
	DisplayName      string
	Timezone         string
	Birthday         *Date
	AvatarURL        string
	MarketingConsent bool
	Locale           string // empty: the program's
}

// ValidateProfile checks and normalises all of a sign-up but its password
// (member/auth's): the email (NormalizeEmail), display name, timezone,
// birthday, locale and avatar, in that order. Errors are input errors on
// the field.
func (in *SignUp) ValidateProfile(now time.Time) error {
	email, err := NormalizeEmail(in.Email)
	if err != nil {
		return err
	}
	in.Email = email
	if in.DisplayName, err = validDisplayName(in.DisplayName); err != nil {
		return err
	}
	if err := ValidTimezone(in.Timezone); err != nil {
		return err
	}
	if err := validBirthday(in.Birthday, now); err != nil {
		return err
	}
	if err := ValidLocale(in.Locale); err != nil {
		return err
	}
	return validAvatarURL(in.AvatarURL)
}

// Create stores a new CUSTOMER with the profile of in (checked again,
// ValidateProfile) and passwordHash, which member/auth checked and hashed
// (auth.Service.SignUp is the way in). ErrEmailTaken if the address is
// another member's.
func (s *Service) Create(ctx context.Context, in SignUp, passwordHash []byte) (*Member, error) {
	now := s.now().UTC()
	if err := in.ValidateProfile(now); err != nil {
		return nil, err
	}
	m := &Member{
		ID:               bson.NewObjectID(),
		Email:            in.Email,
		PasswordHash:     passwordHash,
		DisplayName:      in.DisplayName,
		NameKey:          nameKey(in.DisplayName),
		AvatarURL:        in.AvatarURL,
		Birthday:         in.Birthday,
		Timezone:         in.Timezone,
		MarketingConsent: in.MarketingConsent,
		Locale:           in.Locale,
		Roles:            []Role{RoleCustomer},
		CreatedAt:        now,
		UpdatedAt:        now,
		Unannounced:      true,
	}
	if err := s.members.insert(ctx, m); err != nil {
		return nil, err
	}
	return m, nil
}

// Unannounced lists up to limit members whose sign-up the webhooks have
// not been told of yet (Member.Unannounced), oldest first.
func (s *Service) Unannounced(ctx context.Context, limit int) ([]*Member, error) {
	cur, err := s.members.c.Find(ctx, bson.D{{Key: "unannounced", Value: true}},
		options.Find().SetSort(bson.D{{Key: "unannounced", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, err
	}
	var out []*Member
	return out, cur.All(ctx, &out)
}

// Announced clears the member's Unannounced mark, once their member.created
// event is written.
func (s *Service) Announced(ctx context.Context, id bson.ObjectID) error {
	_, err := s.members.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$unset", Value: bson.D{{Key: "unannounced", Value: ""}}}})
	return err
}

// Get returns one member.
func (s *Service) Get(ctx context.Context, id bson.ObjectID) (*Member, error) {
	return s.members.byID(ctx, id)
}

// ByEmail returns the member with this email (normalized as at sign-up),
// or ErrNotFound.
func (s *Service) ByEmail(ctx context.Context, email string) (*Member, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	return s.members.byEmail(ctx, email)
}

// Count is how many accounts exist (an estimate from collection metadata,
// exact when no write is in flight).
func (s *Service) Count(ctx context.Context) (int64, error) {
	return s.members.c.EstimatedDocumentCount(ctx)
}

// GetMany returns members in the order of ids; missing ones are nil.
func (s *Service) GetMany(ctx context.Context, ids []bson.ObjectID) ([]*Member, error) {
	found, err := s.members.byIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	return byid.Order(ids, found, func(m *Member) bson.ObjectID { return m.ID }), nil
}

// ProfileChange lists the fields to change; nil leaves a field as it is.
// An empty AvatarURL removes the avatar.
type ProfileChange struct {
	DisplayName      *string
	AvatarURL        *string
	Birthday         *Date
	Timezone         *string
	MarketingConsent *bool
	Locale           *string // "" goes back to the program's
}

// UpdateProfile changes a member's own profile.
func (s *Service) UpdateProfile(ctx context.Context, id bson.ObjectID, c ProfileChange) (*Member, error) {
	now := s.now().UTC()
	set := bson.D{{Key: "updatedAt", Value: now}}
	var unset bson.D
	if c.DisplayName != nil {
		name, err := validDisplayName(*c.DisplayName)
		if err != nil {
			return nil, err
		}
		set = append(set, bson.E{Key: "displayName", Value: name}, bson.E{Key: "nameKey", Value: nameKey(name)})
	}
	if c.AvatarURL != nil {
		if err := validAvatarURL(*c.AvatarURL); err != nil {
			return nil, err
		}
		if *c.AvatarURL == "" {
			unset = append(unset, bson.E{Key: "avatarUrl", Value: ""})
		} else {
			set = append(set, bson.E{Key: "avatarUrl", Value: *c.AvatarURL})
		}
	}
	if c.Birthday != nil {
		if err := validBirthday(c.Birthday, now); err != nil {
			return nil, err
		}
		set = append(set, bson.E{Key: "birthday", Value: c.Birthday})
	}
	if c.Timezone != nil {
		if err := ValidTimezone(*c.Timezone); err != nil {
			return nil, err
		}
		set = append(set, bson.E{Key: "timezone", Value: *c.Timezone})
	}
	if c.MarketingConsent != nil {
		set = append(set, bson.E{Key: "marketingConsent", Value: *c.MarketingConsent})
	}
	if c.Locale != nil {
		if err := ValidLocale(*c.Locale); err != nil {
			return nil, err
		}
		if *c.Locale == "" {
			unset = append(unset, bson.E{Key: "locale", Value: ""})
		} else {
			set = append(set, bson.E{Key: "locale", Value: *c.Locale})
		}
	}
	update := bson.D{{Key: "$set", Value: set}}
	if len(unset) > 0 {
		update = append(update, bson.E{Key: "$unset", Value: unset})
	}
	m, err := s.members.updateLive(ctx, id, update)
	if errors.Is(err, ErrNotFound) {
		if _, gerr := s.members.byID(ctx, id); gerr == nil {
			return nil, ErrSessionEnded // deleted, or being deleted
		}
	}
	return m, err
}

// ChangeRole grants (held) or revokes a role: granting one the member
// holds, or revoking one they do not, changes nothing. CUSTOMER is every
// member's base role and stays. Tokens carry roles: callers end the
// member's sessions after (auth.Service's GrantRole and RevokeRole do).
func (s *Service) ChangeRole(ctx context.Context, id bson.ObjectID, role Role, held bool) (*Member, error) {
	if !role.Valid() {
		return nil, input.Errorf("role", "unknown role %q", role)
	}
	op := "$addToSet"
	if !held {
		if role == RoleCustomer {
			return nil, input.Errorf("role", "CUSTOMER is every member's base role and cannot be revoked")
		}
		op = "$pull"
	}
	return s.members.update(ctx, id, bson.D{
		{Key: op, Value: bson.D{{Key: "roles", Value: role}}},
		{Key: "$set", Value: bson.D{{Key: "updatedAt", Value: s.now().UTC()}}},
	})
}

// SetPassword stores a new password hash (member/auth's ResetPassword).
func (s *Service) SetPassword(ctx context.Context, id bson.ObjectID, hash []byte) (*Member, error) {
	return s.members.update(ctx, id, bson.D{{Key: "$set", Value: bson.D{{Key: "passwordHash", Value: hash}, {Key: "updatedAt", Value: s.now().UTC()}}}})
}

// UpgradePassword replaces the member's password hash only if it is still
// old (member/auth's upgrade of an old-style hash at log-in).
func (s *Service) UpgradePassword(ctx context.Context, id bson.ObjectID, old, hash []byte) error {
	_, err := s.members.c.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "passwordHash", Value: old}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "passwordHash", Value: hash}}}})
	return err
}

// EmailVerified records that the member proved they read their address
// (member/auth's VerifyEmail, or a password reset).
func (s *Service) EmailVerified(ctx context.Context, id bson.ObjectID) (*Member, error) {
	return s.members.update(ctx, id, bson.D{{Key: "$set", Value: bson.D{{Key: "emailVerifiedAt", Value: s.now().UTC()}}}})
}

// WithBirthday pages members born on a month and day, by id.
func (s *Service) WithBirthday(ctx context.Context, month time.Month, day int, after bson.ObjectID, limit int) ([]*Member, error) {
	cur, err := s.members.c.Find(ctx, bson.D{
		{Key: "birthday.month", Value: month}, {Key: "birthday.day", Value: day},
		{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}},
	}, options.Find().SetSort(bson.D{{Key: "birthday.month", Value: 1}, {Key: "birthday.day", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, err
	}
	var ms []*Member
	return ms, cur.All(ctx, &ms)
}
