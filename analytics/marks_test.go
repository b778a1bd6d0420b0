package analytics

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/regulars/regulars/analytics/rollup"
	"github.com/regulars/regulars/game/holdout"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/internal/testkit"
)

// TestABurstIsNotRecomputedForever: after a burst of sign-ups with a
// purchase each (the members, their accounts, referrals, ledger,
// engagement entries, scores, campaign assignments and posts, all within
// two minutes), a run long enough after it recomputes the burst, and the
// runs after it, with nothing new, recompute nobody: they send the same
// commands as runs over an empty database. It used to read the burst's
// last two minutes again (the overlap before the newest document) every
// run for good: in the soak, 729 members recomputed every minute. A write
// dated before a run's start that committed after it read is still seen
// by the next run.
func TestABurstIsNotRecomputedForever(t *testing.T) {
	const n = 40
	burst := time.Date(2026, 3, 1, 23, 40, 0, 0, time.UTC)
	runs := []time.Time{burst.Add(30 * time.Minute), burst.Add(31 * time.Minute), burst.Add(32 * time.Minute)}
	p := program.Default()
	p.Timezone = "UTC"
	ctx := context.Background()

	// commands sent by each run of runs (then of more), on db.
	type job struct {
		s        *Service
		clock    *testkit.Clock
		commands func() int64
	}
	newJob := func(t *testing.T) (*mongo.Database, job) {
		db, commands := testkit.CountingDatabase(t)
		clock := testkit.NewClock(runs[0])
		s := New(db, &fixedProgram{p}, clock.Now)
		testkit.EnsureIndexes(t, s.EnsureIndexes)
		return db, job{s: s, clock: clock, commands: commands}
	}
	run := func(t *testing.T, j job, at time.Time) (recomputed int, commands int64) {
		t.Helper()
		j.clock.Set(at)
		j.commands()
		recomputed = testkit.Must(j.s.Refresh(ctx))(t)
		return recomputed, j.commands()
	}

	_, empty := newJob(t)
	var baseline []int64
	for _, at := range runs {
		_, c := run(t, empty, at)
		baseline = append(baseline, c)
	}

	db, full := newJob(t)
	insert := func(coll string, docs ...any) {
		t.Helper()
		if _, err := db.Collection(coll).InsertMany(ctx, docs); err != nil {
			t.Fatalf("insert %s: %v", coll, err)
		}
	}
	purchase := func(m bson.ObjectID, at time.Time) rollup.Activity {
		return rollup.Activity{ID: bson.NewObjectID(), Kind: kindPurchase, MemberID: m, AmountMinor: 450, Currency: "USD", OccurredAt: at, CreatedAt: at}
	}
	var members []bson.ObjectID
	for i := range n {
		m, at := bson.NewObjectID(), burst.Add(time.Duration(i)*2*time.Second)
		members = append(members, m)
		acct := bson.M{"_id": m, "createdAt": at}
		if i > 0 {
			acct["referrerId"] = members[0]
			insert("referral_conversions", bson.M{"_id": m, "status": "REWARDED", "at": at})
		}
		insert("members", bson.M{"_id": m, "timezone": "UTC", "createdAt": at, "updatedAt": at})
		insert("accounts", acct)
		insert("activities", purchase(m, at))
		insert("ledger", genEntry{ID: bson.NewObjectID(), MemberID: m, Seq: 1, Type: "EARN", Amount: 45, Source: map[string]string{"kind": "ACTIVITY"},
			State: bson.M{"balance": 45, "tier": bson.M{"name": "Member"}}, CreatedAt: at})
		insert("engagement", genEngagement{ID: bson.NewObjectID(), MemberID: m, Seq: 1, Kind: "ACTIVITY", At: at,
			State: bson.M{"streak": bson.M{"current": 1, "longest": 1, "last": 1, "lastAt": at, "timezone": "UTC", "days": bson.A{1}}}})
		insert("leaderboard_scores", bson.M{"_id": "ALL_TIME|" + m.Hex(), "board": "ALL_TIME", "memberId": m, "score": 45, "at": at})
		insert(holdout.Collection, bson.M{"_id": "welcome|" + m.Hex(), "campaign": "welcome", "memberId": m, "group": string(holdout.Treated), "at": at})
		insert("community_posts", bson.M{"_id": bson.NewObjectID(), "authorId": m, "status": "PUBLISHED", "createdAt": at})
	}

	for i, at := range runs {
		got, commands := run(t, full, at)
		switch {
		case i == 0 && got != n:
			t.Errorf("the first run after the burst recomputed %d members, want %d", got, n)
		case i > 0 && got != 0:
			t.Errorf("run %d, %s after the burst with nothing new, recomputed %d members, want none", i+1, at.Sub(burst), got)
		case i > 0 && commands != baseline[i]:
			t.Errorf("run %d, %s after the burst with nothing new, sent %d commands, %d over an empty database: it read the burst again", i+1, at.Sub(burst), commands, baseline[i])
		}
	}

	// A purchase dated a minute before the last run began, written late:
	// the next run still counts it.
	last := runs[len(runs)-1]
	insert("activities", purchase(members[3], last.Add(-time.Minute)))
	if got, _ := run(t, full, last.Add(time.Minute)); got != 1 {
		t.Errorf("a purchase dated before the last run began and written after: %d members recomputed, want 1", got)
	}
}
