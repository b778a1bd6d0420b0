package main

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/inbox"
)

// memberLocales gives the inbox each member's notification language:
// theirs, else the program's (program.Program.LocaleOf), in one read of
// the program and one of the members for a whole batch.
func (m *Main) memberLocales() inbox.Locales {
	return inbox.LocalesFunc(func(ctx context.Context, ids []bson.ObjectID) ([]string, error) {
		p, err := m.game.Rooms().Program.Get(ctx)
		if err != nil {
			return nil, err
		}
		found, err := m.members.GetMany(ctx, ids)
		if err != nil {
			return nil, err
		}
		out := make([]string, len(ids))
		for i, mb := range found {
			out[i] = p.LocaleOf(mb) // a member gone since: the program's
		}
		return out, nil
	})
}
