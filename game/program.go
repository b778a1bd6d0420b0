package game

import (
	"context"

	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/game/streak"
)

// The program lives in package program; these names keep the game's
// vocabulary in one place for its callers.
type (
	Program       = program.Program
	Campaigns     = program.Campaigns
	Promotion     = program.Promotion
	Tier          = program.Tier
	TierBasis     = program.TierBasis
	ReferralRules = program.ReferralRules
	StreakRules   = program.StreakRules
	StreakPeriod  = program.StreakPeriod
	ActivityKind  = program.ActivityKind
	StreakState   = streak.State
	StreakEvent   = streak.Event
	StreakView    = streak.View
)

const (
	TierBasisPointsEarned = program.TierBasisPointsEarned
	TierBasisSpend        = program.TierBasisSpend
	StreakDaily           = program.StreakDaily
	StreakWeekly          = program.StreakWeekly
	ActivityPurchase      = program.ActivityPurchase
	ActivityRefund        = program.ActivityRefund
	ActivityCheckIn       = program.ActivityCheckIn
	ActivityReview        = program.ActivityReview
	maxPoints             = program.MaxPoints
)

// DefaultProgram is the program before the brand sets one (program.Default).
func DefaultProgram() Program { return program.Default() }

// Program returns the current program.
func (s *Service) Program(ctx context.Context) (Program, error) { return s.program.Get(ctx) }

// UpdateProgram replaces the program. Past ledger entries keep the numbers
// they were made with.
func (s *Service) UpdateProgram(ctx context.Context, p Program) (Program, error) {
	if err := p.Validate(); err != nil {
		return Program{}, err
	}
	cur, err := s.program.Get(ctx)
	if err != nil {
		return Program{}, err
	}
	p.Version = cur.Version + 1
	p.UpdatedAt = s.now().UTC()
	return p, s.program.Put(ctx, p)
}
