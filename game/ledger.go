package game

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/ledger"
)

// appendEntry appends to the ledger and records the entry, new or found
// again, in fx; the caller carries out its other effects (see effects).
func (s *Service) appendEntry(ctx context.Context, fx *effects, p *Program, memberID bson.ObjectID, key string, typ EntryType, src Source, ch ledger.Change) (*Entry, bool, error) {
	e, created, err := s.ledger.Append(ctx, p, memberID, key, typ, src, ch)
	if err == nil {
		fx.entry(e)
	}
	return e, created, err
}

// The ledger lives in package ledger; these names keep the game's
// vocabulary for its callers.
type (
	Ledger     = ledger.Ledger
	Entry      = ledger.Entry
	EntryType  = ledger.EntryType
	Source     = ledger.Source
	SourceKind = ledger.SourceKind
	Line       = ledger.Line
	Draw       = ledger.Draw
	Lot        = ledger.Lot
	State      = ledger.State
	TierState  = ledger.TierState
	TierChange = ledger.TierChange
	TierStatus = ledger.TierStatus
)

const (
	EntryEarn        = ledger.EntryEarn
	EntryRedeem      = ledger.EntryRedeem
	EntryExpire      = ledger.EntryExpire
	EntryAdjust      = ledger.EntryAdjust
	EntryRefund      = ledger.EntryRefund
	EntryReferral    = ledger.EntryReferral
	SourceActivity   = ledger.SourceActivity
	SourceRedemption = ledger.SourceRedemption
	SourceReferral   = ledger.SourceReferral
	SourceAdjustment = ledger.SourceAdjustment
	SourceLot        = ledger.SourceLot
	SourceBirthday   = ledger.SourceBirthday
	SourceBadge      = ledger.SourceBadge

	indexLedgerSeq     = ledger.IndexSeq
	indexLedgerKey     = ledger.IndexKey
	indexLedgerExpiry  = ledger.IndexExpiry
	indexLedgerReferee = ledger.IndexReferee
	indexLedgerSource  = ledger.IndexSource
)
