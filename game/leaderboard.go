package game

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/leaderboard"
	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/input"
)

// SetOptOut hides (or shows again) a member on every public
// board. They still see their own rank.
func (l *Leaderboards) SetOptOut(ctx context.Context, memberID bson.ObjectID, out bool) error {
	if err := l.s.referrals.SetLeaderboardOptOut(ctx, memberID, out); err != nil {
		return err
	}
	return l.s.boards.Hide(ctx, memberID, out, l.s.now())
}

// Board returns the board of period at the instant at (now if zero).
func (l *Leaderboards) Board(ctx context.Context, period leaderboard.Period, at time.Time) (leaderboard.Board, error) {
	if !period.Valid() {
		return leaderboard.Board{}, input.Errorf("period", "unknown period %q", period)
	}
	p, err := l.s.program.Get(ctx)
	if err != nil {
		return leaderboard.Board{}, err
	}
	if at.IsZero() {
		at = l.s.now()
	}
	key := ledger.BoardKey(&p, period, at)
	return leaderboard.Board{Key: key, Period: period, Final: ledger.BoardFinal(&p, key, l.s.now())}, nil
}

// Repair checks the open boards' trees against their scores and
// rebuilds a tree that disagrees (see leaderboard.Boards.Repair), once the
// board has been quiet for leaderboard.Settle. It runs under the jobs lease.
func (l *Leaderboards) Repair(ctx context.Context) (int, error) {
	p, err := l.s.program.Get(ctx)
	if err != nil {
		return 0, err
	}
	now := l.s.now()
	repaired := 0
	var failed []error
	for _, period := range leaderboard.Periods {
		rebuilt, err := l.s.boards.Repair(ctx, ledger.BoardKey(&p, period, now), now.Add(-leaderboard.Settle))
		if leaderboard.Unrepairable(err) {
			failed = append(failed, err) // reported; the other boards still get their turn
			continue
		}
		if err != nil {
			return repaired, err
		}
		if rebuilt {
			repaired++
		}
	}
	return repaired, errors.Join(failed...)
}
