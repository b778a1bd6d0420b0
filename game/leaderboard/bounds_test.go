package leaderboard

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/internal/testkit"
)

// Issue 13: a score past the tree's range (5,000,000,000 points, stored
// before scores were bounded) left its member out of the tree: two members
// ranked 1, every rank below was off by one, and the repair job rebuilt the
// board on every run. Now every score ranks, and a repaired board stays
// repaired.
func TestScoresPastTheTreeRankAndRepairOnce(t *testing.T) {
	ctx := context.Background()
	s := New(testkit.Database(t))
	testkit.EnsureIndexes(t, s.EnsureIndexes)
	const board = "ALL_TIME"
	huge, big, small, max := bson.NewObjectID(), bson.NewObjectID(), bson.NewObjectID(), bson.NewObjectID()
	for _, sc := range []struct {
		m     bson.ObjectID
		score int64
	}{{huge, 5_000_000_000}, {max, MaxScore}, {big, 1 << 30}, {small, 100}} {
		if err := s.SetScore(ctx, board, sc.m, sc.score, 1, false); err != nil {
			t.Fatal(err)
		}
	}
	for m, want := range map[bson.ObjectID]int64{huge: 1, max: 2, big: 3, small: 4} {
		st := testkit.Must(s.RankOf(ctx, Board{Key: board}, m))(t)
		if st.Rank != want {
			t.Errorf("score %d: rank %d, want %d", st.Score, st.Rank, want)
		}
	}
	if rebuilt := testkit.Must(s.Repair(ctx, board))(t); rebuilt {
		t.Fatal("a consistent board was rebuilt")
	}
	// A tree that lost its nodes is rebuilt once, then left alone.
	if _, err := s.tree.DeleteMany(ctx, bson.D{}); err != nil {
		t.Fatal(err)
	}
	if rebuilt := testkit.Must(s.Repair(ctx, board))(t); !rebuilt {
		t.Fatal("an emptied tree was not rebuilt")
	}
	if rebuilt := testkit.Must(s.Repair(ctx, board))(t); rebuilt {
		t.Fatal("the repair did not hold: rebuilt again")
	}
	if st := testkit.Must(s.RankOf(ctx, Board{Key: board}, small))(t); st.Rank != 4 {
		t.Fatalf("after the rebuild: rank %d, want 4", st.Rank)
	}
}
