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

// SetLeaderboardOptOut hides (or shows again) a member on every public
// board. They still see their own rank.
func (s *Service) SetLeaderboardOptOut(ctx context.Context, memberID bson.ObjectID, out bool) error {
	if err := s.referrals.SetLeaderboardOptOut(ctx, memberID, out); err != nil {
		return err
	}
	return s.boards.Hide(ctx, memberID, out, s.now())
}

// BoardFor returns the board of period at the instant at (now if zero).
func (s *Service) BoardFor(ctx context.Context, period leaderboard.Period, at time.Time) (leaderboard.Board, error) {
	if !period.Valid() {
		return leaderboard.Board{}, input.Errorf("period", "unknown period %q", period)
	}
	p, err := s.program.Get(ctx)
	if err != nil {
		return leaderboard.Board{}, err
	}
	if at.IsZero() {
		at = s.now()
	}
	key := ledger.BoardKey(&p, period, at)
	return leaderboard.Board{Key: key, Period: period, Final: ledger.BoardFinal(&p, key, s.now())}, nil
}

// RepairBoards checks the open boards' trees against their scores and
// rebuilds a tree that disagrees (see leaderboard.Boards.Repair), once the
// board has been quiet for leaderboard.Settle. It runs under the jobs lease.
func (s *Service) RepairBoards(ctx context.Context) (int, error) {
	p, err := s.program.Get(ctx)
	if err != nil {
		return 0, err
	}
	now := s.now()
	repaired := 0
	var failed []error
	for _, period := range leaderboard.Periods {
		rebuilt, err := s.boards.Repair(ctx, ledger.BoardKey(&p, period, now), now.Add(-leaderboard.Settle))
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
