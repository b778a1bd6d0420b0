package program

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/regulars/regulars/input"
)

// Update changes the program: change edits a copy of the current one
// (a Patch's Apply leaves what it does not name as it was), which
// is then validated and saved as the next version. With expectedVersion
// the update is made only on that version (ErrChanged otherwise, a
// CONFLICT): 0 means no program saved yet (the default one), so of two
// first saves made at once one lands and the other is ErrChanged. With nil
// it is retried on the newest version, so two brand users' patches both
// land; now stamps the new version. Past ledger
// entries keep the numbers they were made with. Errors: input errors naming the field.
func (s Store) Update(ctx context.Context, now time.Time, expectedVersion *int64, change func(*Program)) (Program, error) {
	if expectedVersion != nil && (*expectedVersion < 0 || *expectedVersion > MaxVersion) {
		return Program{}, input.Errorf("expectedVersion", "must be a version number, 0 (no program saved yet) to %d", MaxVersion)
	}
	for {
		cur, err := s.read(ctx) // never the cached program: the version must be the newest
		if err != nil {
			return Program{}, err
		}
		if expectedVersion != nil && cur.Version != *expectedVersion {
			return Program{}, fmt.Errorf("at version %d, not %d: %w", cur.Version, *expectedVersion, ErrChanged)
		}
		p := cur
		// Lists are shared with cur until change replaces them; Validate
		// edits in place, so give it copies.
		p.Escalation, p.Promotions, p.Tiers = clone(p.Escalation), clone(p.Promotions), clone(p.Tiers)
		change(&p)
		if err := p.Validate(); err != nil {
			return Program{}, err
		}
		if cur.Version > 0 && reflect.DeepEqual(p, cur) {
			return cur, nil // nothing changes: no new version
		}
		p.Version = cur.Version + 1
		p.UpdatedAt = now.UTC()
		err = s.Save(ctx, p)
		if errors.Is(err, ErrChanged) && expectedVersion == nil && ctx.Err() == nil {
			continue
		}
		return p, err
	}
}

func clone[T any](s []T) []T { return append([]T(nil), s...) }
