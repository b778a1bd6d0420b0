package game

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/effects"
	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/program"
)

// appendEntry appends to the ledger and records the entry, new or found
// again, in fx; the caller carries out its other effects (see effects).
func (s *Service) appendEntry(ctx context.Context, fx *effects.Cause, p *program.Program, memberID bson.ObjectID, key string, typ ledger.EntryType, src ledger.Source, ch ledger.Change) (*ledger.Entry, bool, error) {
	e, created, err := s.ledger.Append(ctx, p, memberID, key, typ, src, ch)
	if err == nil {
		fx.Entry(e)
	}
	return e, created, err
}

// appendOwn is appendEntry for an entry keyed by fx's activity: when the
// activity was just recorded its key is new, so the head is read and the
// entry inserted without reading the key first (ledger.AppendNew). ch
// must write nothing (it may run on a head another writer moved).
func (s *Service) appendOwn(ctx context.Context, fx *effects.Cause, p *program.Program, memberID bson.ObjectID, key string, typ ledger.EntryType, src ledger.Source, ch ledger.Change) (*ledger.Entry, bool, error) {
	if !fx.Fresh {
		return s.appendEntry(ctx, fx, p, memberID, key, typ, src, ch)
	}
	e, created, err := s.ledger.AppendNew(ctx, p, memberID, key, typ, src, ch)
	if err == nil {
		fx.Entry(e)
	}
	return e, created, err
}
