package leaderboard

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/internal/testkit"
)

// SetScores writes a member's scores on several boards and moves every
// board's tree in one bulk write: with members racing, each sending its
// updates out of order and twice, every board ends with each member's
// newest score, a tree that agrees with the scores and exact ranks.
func TestSetScoresMovesEveryBoardsTree(t *testing.T) {
	ctx := context.Background()
	s := New(testkit.Database(t))
	if err := s.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	boards := []string{"WEEKLY:2026-W09", "MONTHLY:2026-03", "ALL_TIME"}
	const n = 12
	members := make([]bson.ObjectID, n)
	for i := range members {
		members[i] = bson.NewObjectID()
	}
	// score of member i on board b as of seq q
	score := func(i, b int, q int64) int64 { return int64((i%5+1)*(b+1)) * q }
	at := time.Now()
	res := testkit.Race(t, n, func(i int) error {
		for _, q := range []int64{2, 1, 3, 3, 2} { // stale and repeated updates change nothing
			scores := make([]Score, len(boards))
			for b, key := range boards {
				scores[b] = Score{Board: key, Score: score(i, b, q)}
			}
			if err := s.SetScores(ctx, members[i], scores, q, i == 0, at); err != nil { // member 0 hides
				return err
			}
		}
		return nil
	})
	res.Expect(t)
	for b, key := range boards {
		if ok, err := s.consistent(ctx, key); err != nil || !ok {
			t.Fatalf("board %s: tree disagrees with the scores (%v)", key, err)
		}
		for i, m := range members {
			got, err := s.RankOf(ctx, Board{Key: key}, m)
			if err != nil {
				t.Fatal(err)
			}
			want := score(i, b, 3)
			var above int64
			for j := 1; j < n; j++ { // member 0 is hidden: nobody counts them
				if score(j, b, 3) > want {
					above++
				}
			}
			if got.Score != want || got.Rank != above+1 {
				t.Fatalf("board %s, member %d: score %d rank %d, want %d and %d", key, i, got.Score, got.Rank, want, above+1)
			}
		}
	}
}
