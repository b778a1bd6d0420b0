package game

import (
	"context"

	"github.com/regulars/regulars/game/effects"
	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/program"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// appendOne appends one entry and carries out its effects at once, for a
// cause with a single entry and no notification.
func (s *Service) appendOne(ctx context.Context, p *program.Program, memberID bson.ObjectID, key string, typ ledger.EntryType, src ledger.Source, ch ledger.Change) (*ledger.Entry, bool, error) {
	fx := &effects.Cause{}
	e, created, err := s.appendEntry(ctx, fx, p, memberID, key, typ, src, ch)
	if err != nil {
		return nil, false, err
	}
	return e, created, s.path.Run(ctx, p, fx)
}

// announceTierMoves carries out the tier moves among entries made outside
// an activity (the expiry job's, and those reads and redemptions made when
// they expired what was due): each one's TIER_CHANGED notification and
// tier.changed webhook event, keyed by the entry, so announcing again
// repeats nothing.
func (s *Service) announceTierMoves(ctx context.Context, p *program.Program, entries []*ledger.Entry) error {
	fx := &effects.Cause{}
	moved := false
	for _, e := range entries {
		if e.TierChange != nil {
			fx.Entry(e)
			s.announce(fx, "", e)
			moved = true
		}
	}
	if !moved {
		return nil
	}
	return s.path.Run(ctx, p, fx)
}
