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
