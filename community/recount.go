package community

import (
	"context"

	"github.com/regulars/regulars/community/feed"
)

// recountBatch is how many posts the reaction recount reads at a time.
const recountBatch = 500

// RecountReactions (a background job, run under the jobs' lease) repairs
// the reaction counts of posts whose reactions changed recently and
// whose counts drifted from their reaction documents, and their threads'
// scores (forum.ReactionStore.Recount); each repaired post's counts go
// out on its thread's live feed. Safe to repeat; it resumes where it
// stopped. It returns how many posts it repaired.
func (s *Service) RecountReactions(ctx context.Context) (int, error) {
	fixed, err := s.forum.Reactions.Recount(ctx, s.now().UTC(), recountBatch)
	for _, p := range fixed {
		if perr := s.feed.Publish(ctx, &feed.Event{ThreadID: p.ThreadID, Kind: feed.Reactions, PostID: p.ID, Reactions: p.Reactions}); perr != nil && err == nil {
			err = perr
		}
	}
	return len(fixed), err
}
