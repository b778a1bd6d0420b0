package game

import (
	"context"

	"github.com/regulars/regulars/game/program"
)

// UpdateProgram changes the program (program.Store.Update), stamped by
// the game's clock. Errors: input errors naming the field,
// program.ErrChanged.
func (s *Service) UpdateProgram(ctx context.Context, expectedVersion *int64, change func(*program.Program)) (program.Program, error) {
	return s.program.Update(ctx, s.now(), expectedVersion, change)
}
