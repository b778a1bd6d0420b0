package member

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"golang.org/x/crypto/bcrypt"

	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/byid"
	"github.com/regulars/regulars/internal/mongoindex"
)

// Config sets up a Service.
type Config struct {
	JWTSecret  []byte
	AccessTTL  time.Duration // default 15 minutes
	RefreshTTL time.Duration // default 30 days
	BcryptCost int           // default bcrypt.DefaultCost; tests lower it
	// RefreshGrace: a refresh token presented again this soon after it was
	// spent gets the same new token; 0 means any second use is a reuse.
	RefreshGrace time.Duration
	Now          func() time.Time
}

// Service runs accounts: sign-up, log-in, token rotation, profiles, roles.
type Service struct {
	members  memberStore
	refresh  refreshStore
	attempts attemptStore
	sessions sessionEvents
	tokensC  *mongo.Collection // emailed single-use tokens (recovery.go)
	tokens   tokens
	hasher   hasher
	now      func() time.Time

	refreshGrace time.Duration
	// ended, when set, hears of every SessionEvent this process records,
	// at once: the instance that ended a session refuses its tokens from
	// the next request, other instances within their poll (SetSessionsEnded).
	ended func(SessionEvent)
}

// SetSessionsEnded makes f hear of every session this process ends (a
// log-out, a revocation, a role change, a reset, a deletion), right after
// it is recorded. Set before serving.
func (s *Service) SetSessionsEnded(f func(SessionEvent)) { s.ended = f }

// New returns a Service keeping its data in db.
func New(db *mongo.Database, cfg Config) (*Service, error) {
	if len(cfg.JWTSecret) < 32 {
		return nil, errShortSecret
	}
	if cfg.AccessTTL == 0 {
		cfg.AccessTTL = 15 * time.Minute
	}
	if cfg.RefreshTTL == 0 {
		cfg.RefreshTTL = 30 * 24 * time.Hour
	}
	if cfg.BcryptCost == 0 {
		cfg.BcryptCost = bcrypt.DefaultCost
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{
		members:  memberStore{db.Collection("members")},
		attempts: attemptStore{db.Collection("login_attempts")},
		refresh:  refreshStore{tokens: db.Collection("refresh_tokens"), spends: db.Collection("refresh_spends"), families: db.Collection("refresh_families")},
		sessions: sessionEvents{db.Collection("session_events")},
		tokensC:  db.Collection("member_tokens"),
		tokens:   tokens{secret: cfg.JWTSecret, accessTTL: cfg.AccessTTL, refreshTTL: cfg.RefreshTTL},
		hasher:   hasher{cost: cfg.BcryptCost},
		now:      cfg.Now,

		refreshGrace: cfg.RefreshGrace,
	}, nil
}

// EnsureIndexes creates the indexes the queries below rely on; safe to repeat.
func (s *Service) EnsureIndexes(ctx context.Context) error {
	if err := mongoindex.Ensure(ctx, s.members.c, s.members.indexes()...); err != nil {
		return err
	}
	if err := s.backfillNameKeys(ctx); err != nil {
		return err
	}
	if err := mongoindex.Ensure(ctx, s.sessions.c, s.sessions.indexes()...); err != nil {
		return err
	}
	if err := mongoindex.Ensure(ctx, s.tokensC, tokenIndexes()...); err != nil {
		return err
	}
	// A member's sessions are revoked together (RevokeSessions).
	if err := mongoindex.Ensure(ctx, s.refresh.families, mongo.IndexModel{Keys: bson.D{{Key: "memberId", Value: 1}}, Options: options.Index().SetName(indexFamiliesMember)}); err != nil {
		return err
	}
	// Deletions cut short are found and finished (DeletionsPending).
	if err := mongoindex.Ensure(ctx, s.members.c, mongo.IndexModel{Keys: bson.D{{Key: "deletedAt", Value: 1}}, Options: options.Index().SetName(indexDeleting).SetSparse(true)}); err != nil {
		return err
	}
	return mongoindex.Ensure(ctx, s.refresh.tokens, s.refresh.indexes()...)
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

func (in *SignUp) validate(now time.Time) error {
	email, err := NormalizeEmail(in.Email)
	if err != nil {
		return err
	}
	in.Email = email
	if in.Password, err = passwordForm(in.Password); err != nil {
		return err
	}
	if err := checkPassword(in.Password, email); err != nil {
		return err
	}
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

// ValidateSignUp checks a sign-up as SignUp would, writing nothing, so a
// caller can check its own inputs (a referral code) only after these.
func (s *Service) ValidateSignUp(in SignUp) error {
	return in.validate(s.now().UTC())
}

// SignUp creates a CUSTOMER account and logs it in.
func (s *Service) SignUp(ctx context.Context, in SignUp) (*Session, error) {
	now := s.now().UTC()
	if err := in.validate(now); err != nil {
		return nil, err
	}
	hash, err := s.hasher.hash(in.Password)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	m := &Member{
		ID:               bson.NewObjectID(),
		Email:            in.Email,
		PasswordHash:     hash,
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
	return s.startSession(ctx, m, now)
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

// LogIn checks an email and password and starts a session. The email is
// read in its canonical form and the password in passwordForm, as at
// sign-up; a password over MaxPassword characters in that form never
// matches. A member whose hash predates the pre-hash gets a new one now.
//
// from is the client's address ("" when unknown). Every attempt counts
// against the account and the address before the password is checked;
// an attempt during a back-off (AccountBackoff, AddressBackoff) is refused
// with a *fault.Throttled (RATE_LIMITED, with the wait) whether or not the
// account exists. A success resets the account's count, takes its own
// attempt back from the address, and trusts the address for the account.
func (s *Service) LogIn(ctx context.Context, email, password, from string) (*Session, error) {
	now := s.now().UTC()
	canonical, err := NormalizeEmail(email)
	account := accountKey(canonical)
	if err != nil {
		account = accountKey(email) // no member has it; counted all the same
	}
	address := addressKey(from)
	var fromAddress int
	if address != "" {
		never := func(attempts) bool { return false }
		if fromAddress, err = s.attempts.take(ctx, address, AddressBackoff, now, never); err != nil {
			return nil, err
		}
	}
	trusted := func(a attempts) bool { return address != "" && slices.Contains(a.Trusted, digest(address)) }
	if _, err := s.attempts.take(ctx, account, AccountBackoff, now, trusted); err != nil {
		return nil, err
	}

	m, err := s.verify(ctx, email, password)
	if err != nil {
		return nil, err
	}
	if err := s.attempts.succeeded(ctx, account, address, now); err != nil {
		return nil, err
	}
	if address != "" {
		if err := s.attempts.forgive(ctx, address, AddressBackoff, fromAddress, now); err != nil {
			return nil, err
		}
	}
	return s.startSession(ctx, m, now)
}

// verify returns the member the email and password are of, or
// ErrBadCredentials, taking as long whether or not the member exists.
func (s *Service) verify(ctx context.Context, email, password string) (*Member, error) {
	canonical, err := NormalizeEmail(email)
	pw, pwErr := passwordForm(password)
	if pwErr != nil {
		pw = "" // still hashed below, so a refusal takes as long as a check
	}
	var m *Member
	if err == nil && pwErr == nil {
		m, err = s.members.byEmail(ctx, canonical)
	}
	if err != nil {
		var in *input.Error
		if !errors.Is(err, ErrNotFound) && !errors.As(err, &in) {
			return nil, err
		}
		m = nil
	}
	if m == nil || m.DeletedAt != nil { // a deletion under way signs nobody in
		s.hasher.check(nil, pw) // as slow as a real check
		return nil, ErrBadCredentials
	}
	// The password as typed: a hash from before the pre-hash may be of it
	// un-normalised; the pre-hash normalises it.
	ok, rehash := s.hasher.check(m.PasswordHash, password)
	if !ok {
		return nil, ErrBadCredentials
	}
	if rehash {
		s.upgradeHash(ctx, m, password)
	}
	return m, nil
}

// upgradeHash replaces an old-style hash, only if it is still the one just
// checked. A failure leaves the old hash, which still works: it is logged
// and the log-in goes on.
func (s *Service) upgradeHash(ctx context.Context, m *Member, password string) {
	hash, err := s.hasher.hash(password)
	if err == nil {
		_, err = s.members.c.UpdateOne(ctx,
			bson.D{{Key: "_id", Value: m.ID}, {Key: "passwordHash", Value: m.PasswordHash}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "passwordHash", Value: hash}}}})
	}
	if err != nil {
		slog.WarnContext(ctx, "password hash upgrade failed; the old hash stays", "member", m.ID.Hex(), "err", err)
		return
	}
	m.PasswordHash = hash
}

func (s *Service) startSession(ctx context.Context, m *Member, now time.Time) (*Session, error) {
	family, err := s.refresh.startFamily(ctx, m.ID, now)
	if err != nil {
		return nil, err
	}
	return s.issue(ctx, m, family, now)
}

func (s *Service) issue(ctx context.Context, m *Member, family bson.ObjectID, now time.Time) (*Session, error) {
	access, accessExp, err := s.tokens.sign(m, family, now)
	if err != nil {
		return nil, err
	}
	refresh, hash := newRefreshSecret()
	rt := refreshToken{Hash: hash, Family: family, MemberID: m.ID, CreatedAt: now, ExpiresAt: now.Add(s.tokens.refreshTTL)}
	if err := s.refresh.insert(ctx, rt); err != nil {
		return nil, err
	}
	return &Session{Member: m, AccessToken: access, AccessTokenExpiresAt: accessExp, RefreshToken: refresh, RefreshTokenExpiresAt: rt.ExpiresAt}, nil
}

// Refresh rotates a refresh token: it is spent, and a new pair is issued in
// the same family. The same token presented again within the grace window
// (Config.RefreshGrace: a retry on a flaky network, two requests racing)
// gets the same new refresh token and a fresh access token; presented later,
// it means the token leaked, so the whole family is revoked and every device
// on it must log in again (ErrTokenReused).
func (s *Service) Refresh(ctx context.Context, token string) (*Session, error) {
	now := s.now().UTC()
	hash := hashRefresh(token)
	rt, err := s.refresh.byHash(ctx, hash)
	if err != nil {
		return nil, err
	}
	if !now.Before(rt.ExpiresAt) {
		return nil, ErrTokenInvalid
	}
	child, childHash := newRefreshSecret()
	sealed, err := sealChild(token, child)
	if err != nil {
		return nil, err
	}
	sp, err := s.refresh.spend(ctx, refreshSpend{
		Hash: hash, At: now, Family: rt.Family, MemberID: rt.MemberID,
		Child: sealed, ChildHash: childHash, ChildExpiresAt: now.Add(s.tokens.refreshTTL),
	})
	if errors.Is(err, errSpent) {
		child, err = s.retried(token, sp, now)
		if err != nil {
			if err := s.refresh.revoke(ctx, rt.Family, now); err != nil {
				return nil, err
			}
			if err := s.sessionsEnded(ctx, rt.MemberID, rt.Family, EndRevoked); err != nil {
				return nil, err
			}
			return nil, ErrTokenReused
		}
	} else if err != nil {
		return nil, err
	}
	if revoked, err := s.refresh.revoked(ctx, rt.Family); err != nil {
		return nil, err
	} else if revoked {
		return nil, ErrTokenInvalid
	}
	// Roles are read afresh so a grant or revoke reaches the next access token.
	m, err := s.members.byID(ctx, rt.MemberID)
	if err != nil {
		return nil, ErrTokenInvalid
	}
	if err := s.refresh.insertChild(ctx, sp); err != nil {
		return nil, err
	}
	access, accessExp, err := s.tokens.sign(m, rt.Family, now)
	if err != nil {
		return nil, err
	}
	return &Session{Member: m, AccessToken: access, AccessTokenExpiresAt: accessExp, RefreshToken: child, RefreshTokenExpiresAt: sp.ChildExpiresAt}, nil
}

// retried returns the token that replaced a spent one, if it was spent
// within the grace window; otherwise an error: a reuse.
func (s *Service) retried(token string, sp *refreshSpend, now time.Time) (string, error) {
	if s.refreshGrace <= 0 || now.Sub(sp.At) > s.refreshGrace || sp.Child == nil {
		return "", ErrTokenReused
	}
	return openChild(token, sp.Child)
}

// LogOut revokes the session a refresh token belongs to. Unknown tokens are
// ignored: logging out twice is not an error.
func (s *Service) LogOut(ctx context.Context, token string) error {
	rt, err := s.refresh.byHash(ctx, hashRefresh(token))
	if errors.Is(err, ErrTokenInvalid) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := s.refresh.revoke(ctx, rt.Family, s.now().UTC()); err != nil {
		return err
	}
	// Its sockets close, on every instance.
	return s.sessionsEnded(ctx, rt.MemberID, rt.Family, EndSignedOut)
}

// Authenticate checks an access token.
func (s *Service) Authenticate(token string) (Principal, error) {
	return s.tokens.verify(token, s.now())
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

// GrantRole gives a member a role; granting one they hold changes nothing.
func (s *Service) GrantRole(ctx context.Context, id bson.ObjectID, role Role) (*Member, error) {
	if !role.Valid() {
		return nil, input.Errorf("role", "unknown role %q", role)
	}
	return s.rolesChanged(ctx, id, bson.D{
		{Key: "$addToSet", Value: bson.D{{Key: "roles", Value: role}}},
		{Key: "$set", Value: bson.D{{Key: "updatedAt", Value: s.now().UTC()}}},
	})
}

// RevokeRole takes a role away. CUSTOMER is every member's base role and stays.
func (s *Service) RevokeRole(ctx context.Context, id bson.ObjectID, role Role) (*Member, error) {
	if !role.Valid() {
		return nil, input.Errorf("role", "unknown role %q", role)
	}
	if role == RoleCustomer {
		return nil, input.Errorf("role", "CUSTOMER is every member's base role and cannot be revoked")
	}
	return s.rolesChanged(ctx, id, bson.D{
		{Key: "$pull", Value: bson.D{{Key: "roles", Value: role}}},
		{Key: "$set", Value: bson.D{{Key: "updatedAt", Value: s.now().UTC()}}},
	})
}

// rolesChanged applies a change of roles; the member's open sockets, which
// carry the old roles in their token, close on every instance.
func (s *Service) rolesChanged(ctx context.Context, id bson.ObjectID, update bson.D) (*Member, error) {
	m, err := s.members.update(ctx, id, update)
	if err != nil {
		return nil, err
	}
	return m, s.sessionsEnded(ctx, id, bson.ObjectID{}, EndRolesChanged)
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

// AccessToken mints an access token for a member without a password: for
// trusted server-side tools (load tests, support tooling), never exposed
// through the API.
func (s *Service) AccessToken(m *Member) (string, error) {
	tok, _, err := s.tokens.sign(m, bson.ObjectID{}, s.now())
	return tok, err
}
