package game

import (
	"context"

	"github.com/regulars/regulars/game/program"
)

// Program returns the current program.
func (s *Service) Program(ctx context.Context) (program.Program, error) { return s.program.Get(ctx) }

// UpdateProgram replaces the program. Past ledger entries keep the numbers
// they were made with.
func (s *Service) UpdateProgram(ctx context.Context, p program.Program) (program.Program, error) {
	if err := p.Validate(); err != nil {
		return program.Program{}, err
	}
	cur, err := s.program.Get(ctx)
	if err != nil {
		return program.Program{}, err
	}
	p.Version = cur.Version + 1
	p.UpdatedAt = s.now().UTC()
	return p, s.program.Put(ctx, p)
}
