package leaderboard

import (
	"context"
	"testing"
	"time"

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
		if err := s.SetScore(ctx, board, sc.m, sc.score, 1, false, time.Now().Add(-2*Settle)); err != nil {
			t.Fatal(err)
		}
	}
	for m, want := range map[bson.ObjectID]int64{huge: 1, max: 2, big: 3, small: 4} {
		st := testkit.Must(s.RankOf(ctx, Board{Key: board}, m))(t)
		if st.Rank != want {
			t.Errorf("score %d: rank %d, want %d", st.Score, st.Rank, want)
		}
	}
	if rebuilt := testkit.Must(s.Repair(ctx, board, time.Now().Add(-Settle)))(t); rebuilt {
		t.Fatal("a consistent board was rebuilt")
	}
	// A tree that lost its nodes is rebuilt once, then left alone.
	if _, err := s.tree.DeleteMany(ctx, bson.D{}); err != nil {
		t.Fatal(err)
	}
	if rebuilt := testkit.Must(s.Repair(ctx, board, time.Now().Add(-Settle)))(t); !rebuilt {
		t.Fatal("an emptied tree was not rebuilt")
	}
	if rebuilt := testkit.Must(s.Repair(ctx, board, time.Now().Add(-Settle)))(t); rebuilt {
		t.Fatal("the repair did not hold: rebuilt again")
	}
	if st := testkit.Must(s.RankOf(ctx, Board{Key: board}, small))(t); st.Rank != 4 {
		t.Fatalf("after the rebuild: rank %d, want 4", st.Rank)
	}
}

// A board read between a score and its tree move looks broken. Repair
// leaves such a board alone until it has been quiet for Settle, and
// rebuilds it then.
func TestRepairWaitsForAQuietBoard(t *testing.T) {
	ctx := context.Background()
	s := New(testkit.Database(t))
	testkit.EnsureIndexes(t, s.EnsureIndexes)
	const board = "WEEKLY:2026-W49"
	now := time.Now()
	for i := range 3 {
		if err := s.SetScore(ctx, board, bson.NewObjectID(), int64(10*(i+1)), 1, false, now.Add(-2*Settle)); err != nil {
			t.Fatal(err)
		}
	}
	// A score whose tree move has not landed yet.
	late := bson.NewObjectID()
	if _, err := s.scores.InsertOne(ctx, boardScore{ID: scoreID(board, late), Board: board, MemberID: late, Score: 25, Seq: 1, At: now}); err != nil {
		t.Fatal(err)
	}
	if rebuilt := testkit.Must(s.Repair(ctx, board, now.Add(-Settle)))(t); rebuilt {
		t.Fatal("a board written a moment ago was rebuilt")
	}
	if ok := testkit.Must(s.consistent(ctx, board))(t); ok {
		t.Fatal("the in-flight score should still be missing from the tree")
	}
	// Settle later the move never landed (its process died): rebuild.
	if rebuilt := testkit.Must(s.Repair(ctx, board, now.Add(time.Second)))(t); !rebuilt {
		t.Fatal("a board quiet for Settle with a broken tree was not rebuilt")
	}
	if st := testkit.Must(s.RankOf(ctx, Board{Key: board}, late))(t); st.Rank != 2 {
		t.Fatalf("the late score after the rebuild: rank %d, want 2", st.Rank)
	}
}
