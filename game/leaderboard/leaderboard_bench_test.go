package leaderboard

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/internal/testkit"
)

// BenchmarkLeaderboard measures exact ranks on boards of growing size,
// against the naive count of members scoring higher. Sizes default to
// 10000,100000,1000000; BENCH_BOARD_SIZES overrides. Run with:
//
//	MONGODB_URI=mongodb://localhost:27017 go test ./game/leaderboard -run '^$' -bench Leaderboard -benchtime 200x -timeout 60m
func BenchmarkLeaderboard(b *testing.B) {
	sizes := []int{10_000, 100_000, 1_000_000}
	if env := os.Getenv("BENCH_BOARD_SIZES"); env != "" {
		sizes = nil
		for _, f := range splitComma(env) {
			n, err := strconv.Atoi(f)
			if err != nil {
				b.Fatal(err)
			}
			sizes = append(sizes, n)
		}
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			db := testkit.Database(b)
			s := New(db)
			ctx := context.Background()
			if err := s.EnsureIndexes(ctx); err != nil {
				b.Fatal(err)
			}
			const board = "WEEKLY:2026-W47"
			members, scores := seedBoard(b, s, board, n)
			bd := Board{Key: board, Period: PeriodWeekly}
			rng := rand.New(rand.NewPCG(3, 4))
			pick := func() bson.ObjectID { return members[rng.IntN(len(members))] }

			// docs/op counts what an operation reads: for a rank, the member's
			// score and the tree nodes; for the naive count, one index key
			// per member above.
			measure(b, "myRank", func() (int, error) {
				st, err := s.RankOf(ctx, bd, pick())
				return 2 + len(prefixPath(st.Score)), err
			})
			measure(b, "aroundMe", func() (int, error) { _, err := s.AroundMe(ctx, bd, pick(), 5); return 0, err })
			measure(b, "top100", func() (int, error) { _, _, err := s.Top(ctx, bd, nil, 100); return 0, err })
			measure(b, "naiveRank", func() (int, error) {
				i := rng.IntN(len(members))
				n, err := s.scores.CountDocuments(ctx, bson.D{{Key: "board", Value: board}, {Key: "hidden", Value: false}, {Key: "score", Value: bson.D{{Key: "$gt", Value: scores[i]}}}})
				return int(n), err
			})
			seq := int64(1)
			measure(b, "scoreUpdate", func() (int, error) {
				i := rng.IntN(len(members))
				seq++
				scores[i] += int64(1 + rng.IntN(50))
				return 0, s.SetScore(ctx, board, members[i], scores[i], seq, false, time.Now())
			})
		})
	}
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

// realisticScore draws a weekly score: most members earn a little, many tie
// at the same low scores, a few earn a lot.
func realisticScore(rng *rand.Rand) int64 {
	switch r := rng.Float64(); {
	case r < 0.5:
		return int64(10 * (1 + rng.IntN(5))) // 10..50 in steps: heavy ties
	case r < 0.9:
		return int64(10 * (1 + rng.IntN(100)))
	default:
		return int64(math.Exp(rng.Float64()*math.Log(200_000))) + 1
	}
}

// seedBoard writes n members' scores and the matching tree directly.
func seedBoard(b *testing.B, bs *Boards, board string, n int) ([]bson.ObjectID, []int64) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	members := make([]bson.ObjectID, n)
	scores := make([]int64, n)
	tree := map[int64]int64{}
	batch := make([]any, 0, 5000)
	flush := func(c *mongo.Collection) {
		if len(batch) == 0 {
			return
		}
		if _, err := c.InsertMany(ctx, batch, options.InsertMany().SetOrdered(false)); err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	start := time.Now()
	for i := range n {
		members[i] = bson.NewObjectID()
		scores[i] = realisticScore(rng)
		batch = append(batch, boardScore{ID: scoreID(board, members[i]), Board: board, MemberID: members[i], Score: scores[i], Seq: 1})
		for _, j := range updatePath(scores[i]) {
			tree[j]++
		}
		if len(batch) == cap(batch) {
			flush(bs.scores)
		}
	}
	flush(bs.scores)
	for node, c := range tree {
		batch = append(batch, bson.D{{Key: "_id", Value: nodeID(board, node)}, {Key: "c", Value: c}})
		if len(batch) == cap(batch) {
			flush(bs.tree)
		}
	}
	flush(bs.tree)
	b.Logf("seeded %d members (%d tree nodes) in %s", n, len(tree), time.Since(start).Round(time.Millisecond))
	return members, scores
}

// measure runs op b.N times and reports its p50 and p99 latency, rate and
// the documents it read on average. BENCH_BOARD_OPS (comma-separated
// names) picks which ops run.
func measure(b *testing.B, name string, op func() (docs int, err error)) {
	if only := os.Getenv("BENCH_BOARD_OPS"); only != "" && !slices.Contains(splitComma(only), name) {
		return
	}
	b.Run(name, func(b *testing.B) {
		var lat testkit.Latencies
		docs := 0
		for range b.N {
			t := time.Now()
			n, err := op()
			if err != nil {
				b.Fatal(err)
			}
			docs += n
			lat.Add(time.Since(t))
		}
		if docs > 0 {
			b.ReportMetric(float64(docs)/float64(b.N), "docs/op")
		}
		lat.Report(b, "", "ops/s")
	})
}
