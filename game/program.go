package game

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/input"
)

// UpdateProgram changes the program: change edits a copy of the current one
// (a program.Patch's Apply leaves what it does not name as it was), which
// is then validated and saved as the next version. With expectedVersion
// the update is made only on that version (program.ErrChanged otherwise, a
// CONFLICT); with nil it is retried on the newest version, so two brand
// users' patches both land. Past ledger entries keep the numbers they were
// made with. Errors: input errors naming the field.
func (s *Service) UpdateProgram(ctx context.Context, expectedVersion *int64, change func(*program.Program)) (program.Program, error) {
	if expectedVersion != nil && (*expectedVersion < 1 || *expectedVersion > program.MaxVersion) {
		return program.Program{}, input.Errorf("expectedVersion", "must be a version number, 1 to %d", program.MaxVersion)
	}
	for {
		cur, err := s.program.Get(ctx)
		if err != nil {
			return program.Program{}, err
		}
		if expectedVersion != nil && cur.Version != *expectedVersion {
			return program.Program{}, fmt.Errorf("at version %d, not %d: %w", cur.Version, *expectedVersion, program.ErrChanged)
		}
		p := cur
		// Lists are shared with cur until change replaces them; Validate
		// edits in place, so give it copies.
		p.Escalation, p.Promotions, p.Tiers = clone(p.Escalation), clone(p.Promotions), clone(p.Tiers)
		change(&p)
		if err := p.Validate(); err != nil {
			return program.Program{}, err
		}
		if cur.Version > 0 && reflect.DeepEqual(p, cur) {
			return cur, nil // nothing changes: no new version
		}
		p.Version = cur.Version + 1
		p.UpdatedAt = s.now().UTC()
		err = s.program.Save(ctx, p)
		if errors.Is(err, program.ErrChanged) && expectedVersion == nil && ctx.Err() == nil {
			continue
		}
		return p, err
	}
}

func clone[T any](s []T) []T { return append([]T(nil), s...) }
