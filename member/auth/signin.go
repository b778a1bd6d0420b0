package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/member"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// checkSignUp checks and normalises a sign-up, in the order its fields'
// errors are answered: the email, the password (passwordForm, then the
// policy), then the rest of the profile (member.SignUp.ValidateProfile).
func checkSignUp(in *member.SignUp, now time.Time) error {
	email, err := member.NormalizeEmail(in.Email)
	if err != nil {
		return err
	}
	if in.Password, err = passwordForm(in.Password); err != nil {
		return err
	}
	if err := checkPassword(in.Password, email); err != nil {
		return err
	}
	return in.ValidateProfile(now)
}

// ValidateSignUp checks a sign-up as SignUp would, writing nothing, so a
// caller can check its own inputs (a referral code) only after these.
func (s *Service) ValidateSignUp(in member.SignUp) error {
	return checkSignUp(&in, s.now().UTC())
}

// SignUp creates a CUSTOMER account (member.Service.Create) and logs it in.
func (s *Service) SignUp(ctx context.Context, in member.SignUp) (*Session, error) {
	now := s.now().UTC()
	if err := checkSignUp(&in, now); err != nil {
		return nil, err
	}
	hash, err := s.hasher.hash(in.Password)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	m, err := s.members.Create(ctx, in, hash)
	if err != nil {
		return nil, err
	}
	return s.startSession(ctx, m, now)
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
	canonical, err := member.NormalizeEmail(email)
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
func (s *Service) verify(ctx context.Context, email, password string) (*member.Member, error) {
	canonical, err := member.NormalizeEmail(email)
	pw, pwErr := passwordForm(password)
	if pwErr != nil {
		pw = "" // still hashed below, so a refusal takes as long as a check
	}
	var m *member.Member
	if err == nil && pwErr == nil {
		m, err = s.members.ByEmail(ctx, canonical)
	}
	if err != nil {
		var in *input.Error
		if !errors.Is(err, member.ErrNotFound) && !errors.As(err, &in) {
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
func (s *Service) upgradeHash(ctx context.Context, m *member.Member, password string) {
	hash, err := s.hasher.hash(password)
	if err == nil {
		err = s.members.UpgradePassword(ctx, m.ID, m.PasswordHash, hash)
	}
	if err != nil {
		slog.WarnContext(ctx, "password hash upgrade failed; the old hash stays", "member", m.ID.Hex(), "err", err)
		return
	}
	m.PasswordHash = hash
}

func (s *Service) startSession(ctx context.Context, m *member.Member, now time.Time) (*Session, error) {
	family, err := s.refresh.startFamily(ctx, m.ID, now)
	if err != nil {
		return nil, err
	}
	return s.issue(ctx, m, family, now)
}

func (s *Service) issue(ctx context.Context, m *member.Member, family bson.ObjectID, now time.Time) (*Session, error) {
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
	m, err := s.members.Get(ctx, rt.MemberID)
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
func (s *Service) Authenticate(token string) (member.Principal, error) {
	return s.tokens.verify(token, s.now())
}

// AccessToken mints an access token for a member without a password: for
// trusted server-side tools (load tests, support tooling), never exposed
// through the API.
func (s *Service) AccessToken(m *member.Member) (string, error) {
	tok, _, err := s.tokens.sign(m, bson.ObjectID{}, s.now())
	return tok, err
}

// GrantRole gives a member a role; granting one they hold changes nothing.
// The member's open sockets, which carry the old roles in their token,
// close on every instance.
func (s *Service) GrantRole(ctx context.Context, id bson.ObjectID, role member.Role) (*member.Member, error) {
	m, err := s.members.ChangeRole(ctx, id, role, true)
	return s.roleChanged(ctx, m, err)
}

// RevokeRole takes a role away. CUSTOMER is every member's base role and
// stays. The member's open sockets close on every instance.
func (s *Service) RevokeRole(ctx context.Context, id bson.ObjectID, role member.Role) (*member.Member, error) {
	m, err := s.members.ChangeRole(ctx, id, role, false)
	return s.roleChanged(ctx, m, err)
}

// roleChanged ends the sessions of a member whose roles changed.
func (s *Service) roleChanged(ctx context.Context, m *member.Member, err error) (*member.Member, error) {
	if err != nil {
		return nil, err
	}
	return m, s.sessionsEnded(ctx, m.ID, bson.ObjectID{}, EndRolesChanged)
}
