// Package auth signs members in: sign-up and log-in with a password (the
// password policy and its hash), access tokens and rotating refresh
// tokens, sessions and the events that end them (read by every instance's
// sockets), the log-in back-off, and emailed single-use links (password
// reset, email verification). A member's profile is member's: this room
// reads and writes it only through member.Service.
package auth

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"golang.org/x/crypto/bcrypt"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/internal/mongoindex"
	"github.com/regulars/regulars/member"
)

var (
	ErrBadCredentials = fault.New(fault.Unauthenticated, "wrong email or password")
	ErrTokenInvalid   = fault.New(fault.Unauthenticated, "token invalid or expired")
	ErrTokenReused    = fault.New(fault.Unauthenticated, "refresh token reused: session revoked")
	// ErrRolesChanged answers a live connection (a socket) whose access
	// token carries roles the member no longer has (CheckSession).
	ErrRolesChanged = fault.New(fault.Unauthenticated, "roles changed: get a fresh access token (refreshToken)")
)

var errShortSecret = errors.New("JWT secret must be at least 32 bytes")

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

// Service signs members in: sign-up, log-in, token rotation, sessions,
// roles (which tokens carry), reset and verification links.
type Service struct {
	members  *member.Service
	refresh  refreshStore
	attempts attemptStore
	sessions sessionEvents
	links    *mongo.Collection // emailed single-use tokens (recovery.go)
	tokens   tokens
	hasher   hasher
	now      func() time.Time

	refreshGrace time.Duration
	// ended, when set, hears of every SessionEvent this process records,
	// at once: the instance that ended a session refuses its tokens from
	// the next request, other instances within their poll (SetSessionsEnded).
	ended func(SessionEvent)
}

// New returns a Service keeping its data in db, and members' profiles in
// members.
func New(db *mongo.Database, members *member.Service, cfg Config) (*Service, error) {
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
		members:  members,
		attempts: attemptStore{db.Collection("login_attempts")},
		refresh:  refreshStore{tokens: db.Collection("refresh_tokens"), spends: db.Collection("refresh_spends"), families: db.Collection("refresh_families")},
		sessions: sessionEvents{db.Collection("session_events")},
		links:    db.Collection("member_tokens"),
		tokens:   tokens{secret: cfg.JWTSecret, accessTTL: cfg.AccessTTL, refreshTTL: cfg.RefreshTTL},
		hasher:   hasher{cost: cfg.BcryptCost},
		now:      cfg.Now,

		refreshGrace: cfg.RefreshGrace,
	}, nil
}

// SetSessionsEnded makes f hear of every session this process ends (a
// log-out, a revocation, a role change, a reset, a deletion), right after
// it is recorded. Set before serving.
func (s *Service) SetSessionsEnded(f func(SessionEvent)) { s.ended = f }

// EnsureIndexes creates the indexes the queries below rely on; safe to repeat.
func (s *Service) EnsureIndexes(ctx context.Context) error {
	if err := mongoindex.Ensure(ctx, s.sessions.c, s.sessions.indexes()...); err != nil {
		return err
	}
	if err := mongoindex.Ensure(ctx, s.links, linkIndexes()...); err != nil {
		return err
	}
	if err := mongoindex.Ensure(ctx, s.refresh.families, s.refresh.familyIndexes()...); err != nil {
		return err
	}
	return mongoindex.Ensure(ctx, s.refresh.tokens, s.refresh.indexes()...)
}
