package leaderboard

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// The tree answers "how many score more" exactly, reading a bounded number
// of nodes whatever the number of members.
func TestRankTreeMatchesNaiveCount(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	tree := map[int64]int64{}
	var scores []int64
	for range 5000 {
		s := realisticScore(rng)
		scores = append(scores, s)
		for _, n := range updatePath(s) {
			tree[n]++
		}
	}
	for _, s := range append(slices.Clone(scores[:200]), 1, 1<<40) {
		var naive int64
		for _, o := range scores {
			if o > s {
				naive++
			}
		}
		var atOrBelow int64
		path := prefixPath(s)
		for _, n := range path {
			atOrBelow += tree[n]
		}
		if got := tree[treeRoot] - atOrBelow; got != naive {
			t.Fatalf("score %d: tree says %d above, naive count %d", s, got, naive)
		}
		if len(path) > treeBits || len(updatePath(max(s, 1))) > treeBits+1 {
			t.Fatalf("score %d reads %d nodes", s, len(path))
		}
	}
}

func TestIndexes(t *testing.T) {
	s := New(testkit.Database(t))
	testkit.EnsureIndexes(t, s.EnsureIndexes)
	testkit.RequireIndexes(t, s.scores, IndexOrder, "board_written")
}

// Board keys follow the brand's timezone, and a board is final only after
// its period and the grace after it.
func TestKeysAndFinality(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	// Sunday 23:30 UTC is already Monday in Paris: the next ISO week there.
	at := time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC)
	if k := Key(time.UTC, PeriodWeekly, at); k != "WEEKLY:2026-W09" {
		t.Errorf("UTC week: %s", k)
	}
	if k := Key(paris, PeriodWeekly, at); k != "WEEKLY:2026-W10" {
		t.Errorf("Paris week: %s", k)
	}
	if k := Key(paris, PeriodMonthly, at); k != "MONTHLY:2026-03" {
		t.Errorf("Paris month: %s", k)
	}
	end, ok := End(time.UTC, "MONTHLY:2026-02")
	if !ok || !end.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("end of February: %v %v", end, ok)
	}
	if Final(time.UTC, 26*time.Hour, "MONTHLY:2026-02", end.Add(25*time.Hour)) || !Final(time.UTC, 26*time.Hour, "MONTHLY:2026-02", end.Add(27*time.Hour)) {
		t.Error("finality ignores the grace")
	}
	if Final(time.UTC, 0, "ALL_TIME", end.AddDate(10, 0, 0)) {
		t.Error("ALL_TIME became final")
	}
}
