package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/member/auth"
)

// RecentLogIn is how fresh a log-in must be to delete the account without
// the password.
const RecentLogIn = 5 * time.Minute

// MaxReason bounds the reason the brand gives for a deletion.
const MaxReason = 500

// ErrWrongPassword refuses a deletion confirmed with another password.
// It is returned on the field "password".
var ErrWrongPassword = fault.New(fault.Invalid, "is not your password")

// deletion is one line of the deletion log: who deleted which (now
// anonymous) member, when and why. It holds nothing personal.
type deletion struct {
	ID       bson.ObjectID `bson:"_id"`
	MemberID bson.ObjectID `bson:"memberId"`
	// By is "member" (the member themselves), "service" (the brand's
	// backend) or the BRAND user's id.
	By     string    `bson:"by"`
	Reason string    `bson:"reason,omitempty"`
	At     time.Time `bson:"at"`
}

// DeleteMyAccount deletes the signed-in member's account: confirmed with
// their password (ErrWrongPassword otherwise), or, with none, from a
// session signed into within RecentLogIn (ErrRecentLogInRequired
// otherwise). Attempts are counted per member. Deleting again is a no-op.
func (s *Service) DeleteMyAccount(ctx context.Context, p member.Principal, password *string) error {
	id, err := p.Self()
	if err != nil {
		return err
	}
	if password != nil && len(*password) > 4*4*auth.MaxPassword {
		return input.Errorf("password", "must be at most %d characters", auth.MaxPassword)
	}
	if err := s.quotas.take(ctx, deletePerUser, id.Hex(), s.now()); err != nil {
		return err
	}
	m, err := s.members.Get(ctx, id)
	if err != nil {
		return err
	}
	if m.DeletedAt != nil {
		return s.erase(ctx, m.ID, deletion{}) // finish it, if it was cut short
	}
	if password != nil {
		if err := s.auth.CheckPassword(ctx, m, *password); err != nil {
			return input.Wrap("password", ErrWrongPassword)
		}
	} else {
		started, err := s.auth.SessionStarted(ctx, p)
		if err != nil {
			return err
		}
		if started.IsZero() || s.now().Sub(started) > RecentLogIn {
			return ErrRecentLogInRequired
		}
	}
	return s.erase(ctx, m.ID, deletion{By: "member"})
}

// DeleteMember deletes a member on the brand's behalf (a request by mail, a
// support ticket), logged with the reason. Deleting again is a no-op.
func (s *Service) DeleteMember(ctx context.Context, p member.Principal, memberID bson.ObjectID, reason string) error {
	reason, err := input.Paragraph("reason", reason, MaxReason)
	if err != nil {
		return err
	}
	if reason == "" {
		return input.Errorf("reason", "is required: say why (a request by email, a support ticket)")
	}
	by := "service"
	if !p.Service {
		by = p.MemberID.Hex()
	}
	if err := s.quotas.take(ctx, deletePerBrand, by, s.now()); err != nil {
		return err
	}
	m, err := s.members.Get(ctx, memberID)
	if errors.Is(err, member.ErrNotFound) {
		return input.Wrap("memberId", err)
	}
	if err != nil {
		return err
	}
	if m.DeletedAt != nil {
		return s.erase(ctx, m.ID, deletion{})
	}
	return s.erase(ctx, m.ID, deletion{By: by, Reason: reason})
}

// erase deletes a member: marked first, their sessions revoked at once,
// the deletion logged (log.By set), then every eraser and last the
// member's own record. Cut short, it is finished by ResumeDeletions.
func (s *Service) erase(ctx context.Context, id bson.ObjectID, log deletion) error {
	if _, err := s.members.MarkDeleting(ctx, id); err != nil {
		return err
	}
	if err := s.auth.RevokeSessions(ctx, id, auth.EndAccountDeleted); err != nil {
		return err
	}
	if log.By != "" {
		log.ID, log.MemberID, log.At = bson.NewObjectID(), id, s.now()
		if _, err := s.deletions.InsertOne(ctx, log); err != nil {
			return err
		}
		slog.InfoContext(ctx, "account deleted", "member", id.Hex(), "by", log.By, "reason", log.Reason)
	}
	for _, e := range s.erasers {
		if err := e.EraseMember(ctx, id); err != nil {
			return fmt.Errorf("erase member %s (%T): %w", id.Hex(), e, err)
		}
	}
	if err := s.EraseMember(ctx, id); err != nil {
		return err
	}
	if err := s.auth.EraseMember(ctx, id); err != nil {
		return err
	}
	return s.members.EraseMember(ctx, id)
}

// ResumeDeletions finishes deletions a failure cut short; it returns how
// many it finished.
func (s *Service) ResumeDeletions(ctx context.Context) (int, error) {
	ids, err := s.members.DeletionsPending(ctx, 100)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		if err := s.erase(ctx, id, deletion{}); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
