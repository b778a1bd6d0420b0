package auth

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/regulars/regulars/member"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Why a SessionEvent ended sessions, as the socket's close reason says it.
const (
	EndSignedOut    = "Signed out"
	EndRevoked      = "Session revoked"
	EndRolesChanged = "Roles changed: reconnect with a fresh token"
	// EndPasswordReset: the password was reset, every session ends.
	EndPasswordReset = "Password reset: sign in again"
	// EndAccountDeleted: the account was deleted.
	EndAccountDeleted = "Account deleted"
)

// SessionEndReasons lists every reason a SessionEvent is recorded with, for
// the test that ends a socket by each. A password change or an account
// deletion, when they exist, add theirs here.
var SessionEndReasons = []string{EndSignedOut, EndRevoked, EndRolesChanged, EndPasswordReset, EndAccountDeleted}

// SessionEvent says that a member's access tokens issued before At no
// longer speak for them: those of one session (Session) or, when Session
// is zero, all of them. Connections that outlive a request (sockets) read
// these, on every instance, and close.
type SessionEvent struct {
	ID       bson.ObjectID `bson:"_id"`
	MemberID bson.ObjectID `bson:"memberId"`
	Session  bson.ObjectID `bson:"session,omitempty"`
	Reason   string        `bson:"reason"`
	At       time.Time     `bson:"at"`
}

// sessionEvents keeps SessionEvents in "session_events", read by time.
type sessionEvents struct{ c *mongo.Collection }

const indexSessionEventsAt = "at"

func (s sessionEvents) indexes() []mongo.IndexModel {
	return []mongo.IndexModel{{Keys: bson.D{{Key: "at", Value: 1}}, Options: options.Index().SetName(indexSessionEventsAt)}}
}

// sessionsEnded records that the member's sessions (one, or all when
// session is zero) ended, after the change that ended them is written, so
// a reader that sees the event sees the change.
func (s *Service) sessionsEnded(ctx context.Context, memberID, session bson.ObjectID, reason string) error {
	ev := SessionEvent{ID: bson.NewObjectID(), MemberID: memberID, Session: session, Reason: reason, At: s.now().UTC()}
	if _, err := s.sessions.c.InsertOne(ctx, ev); err != nil {
		return err
	}
	if s.ended != nil {
		s.ended(ev)
	}
	return nil
}

// SessionEventsSince returns the events recorded at or after since, oldest
// first. Readers poll it with some overlap and remember what they applied.
func (s *Service) SessionEventsSince(ctx context.Context, since time.Time) ([]SessionEvent, error) {
	cur, err := s.sessions.c.Find(ctx, bson.D{{Key: "at", Value: bson.D{{Key: "$gte", Value: since}}}},
		options.Find().SetSort(bson.D{{Key: "at", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var evs []SessionEvent
	return evs, cur.All(ctx, &evs)
}

// PruneSessionEvents deletes events recorded before cutoff, which no reader
// looks at any more; it returns how many.
func (s *Service) PruneSessionEvents(ctx context.Context, cutoff time.Time) (int64, error) {
	r, err := s.sessions.c.DeleteMany(ctx, bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: cutoff}}}})
	if err != nil {
		return 0, err
	}
	return r.DeletedCount, nil
}

// CheckSession says whether p, from an access token, still speaks for its
// member: the member exists with the roles the token carries and the
// session is not revoked. The brand's backend always does. Requests check
// only the token (short-lived); a socket, which lives on, checks this when
// it opens and then follows SessionEvents.
func (s *Service) CheckSession(ctx context.Context, p member.Principal) error {
	if p.Service || p.MemberID.IsZero() {
		return nil
	}
	m, err := s.members.Get(ctx, p.MemberID)
	if errors.Is(err, member.ErrNotFound) {
		return member.ErrSessionEnded
	}
	if err != nil {
		return err
	}
	if m.DeletedAt != nil {
		return member.ErrSessionEnded
	}
	if !sameRoles(m.Roles, p.Roles) {
		return ErrRolesChanged
	}
	if p.Session.IsZero() {
		return nil
	}
	revoked, err := s.refresh.revoked(ctx, p.Session)
	if err != nil {
		return err
	}
	if revoked {
		return member.ErrSessionEnded
	}
	return nil
}

func sameRoles(a, b []member.Role) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
