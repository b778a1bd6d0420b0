package game

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/program"
)

// What the till needs of the game.

// Purchase returns the purchase the brand's backend reported for memberID
// with externalID, or nil if none was reported (yet) or it is another
// member's: the purchase an offer's coupon used on that order links to.
func (s *Service) Purchase(ctx context.Context, memberID bson.ObjectID, externalID string) (*Activity, error) {
	a, err := s.acts.byExternalID(ctx, program.ActivityPurchase, externalID)
	if errors.Is(err, ErrActivityNotFound) || (err == nil && a.MemberID != memberID) {
		return nil, nil // not reported yet, or another member's order: no link
	}
	return a, err
}

// Standing returns the member's tier and the points they may spend now,
// expiring what is due first (till.Standing).
// One read of the program and of the ledger's head serve both.
func (s *Service) Standing(ctx context.Context, memberID bson.ObjectID) (string, int64, error) {
	p, err := s.program.Get(ctx)
	if err != nil {
		return "", 0, err
	}
	if err := s.expireDue(ctx, &p, memberID); err != nil {
		return "", 0, err
	}
	st, _, err := s.ledger.Head(ctx, memberID)
	if err != nil {
		return "", 0, err
	}
	now := s.now()
	return ledger.StatusOf(st, &p, now).Current.Name, st.Available(now), nil
}
