package game

import (
	"context"

	"github.com/regulars/regulars/game/ledger"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// What the till needs of the game.

// Standing returns the member's tier and the points they may spend now,
// expiring what is due first (till.Standing, ledger.Ledger.Standing).
func (g *Economy) Standing(ctx context.Context, memberID bson.ObjectID) (string, int64, error) {
	p, err := g.s.program.Get(ctx)
	if err != nil {
		return "", 0, err
	}
	return g.s.ledger.Standing(ctx, &p, memberID)
}

// ExpirePoints writes EXPIRE entries for every lot that came due since the
// last run (ledger.Ledger.ExpireAll) and announces the tier moves that
// expiries made (announceTierMoves); the background jobs run it.
func (j *Jobs) ExpirePoints(ctx context.Context, jobs *mongo.Collection) (int, error) {
	p, err := j.s.program.Get(ctx)
	if err != nil {
		return 0, err
	}
	return j.s.ledger.ExpireAll(ctx, &p, jobs, func(ctx context.Context, moved []*ledger.Entry) error {
		return j.s.announceTierMoves(ctx, &p, moved)
	})
}
