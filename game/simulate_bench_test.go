package game

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/activity"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/game/rules"
	"github.com/regulars/regulars/game/rules/dryrun"
)

// BenchmarkDryRun times a dry run over DRYRUN_ACTIVITIES recorded
// purchases (default 20,000) of 1,000 members, with 50 active rules and a
// change adding one, besides the default program's built-in rules, on the
// database the tests use (BENCHMARKS.md). The history is inserted
// directly, with snapshots and tiers, as RecordActivity leaves it; with
// DRYRUN_SNAPSHOTS=0, without (as recorded while no brand rule was
// active), its members known with join dates, half of them in the middle
// of the range (the dry run reads them and counts positions from them).
func BenchmarkDryRun(b *testing.B) {
	n := 20_000
	if v, err := strconv.Atoi(os.Getenv("DRYRUN_ACTIVITIES")); err == nil && v > 0 {
		n = v
	}
	snapshots := os.Getenv("DRYRUN_SNAPSHOTS") != "0"
	h := newHarness(b, nil)
	ctx := context.Background()
	for i := range 50 {
		in := rules.Input{Name: fmt.Sprintf("rule %02d", i), Trigger: program.ActivityPurchase, Effect: rules.Effect{FixedPoints: int64(i + 1)}, Priority: i}
		switch i % 4 {
		case 0:
			in.Conditions = []rules.Condition{{Items: &rules.ItemCondition{Categories: []string{fmt.Sprint("cat-", i%8)}}}}
		case 1:
			in.Conditions = []rules.Condition{{Tiers: []string{"Silver", "Gold"}}}
		case 2:
			in.Conditions = []rules.Condition{{BasketTotalAtLeast: ptr(int64(i * 200))}}
			in.Limits = rules.Limits{PerMemberPerDay: 1, BudgetPoints: 100_000}
		case 3:
			in.Conditions = []rules.Condition{{DaysOfWeek: []rules.Weekday{"SATURDAY", "SUNDAY"}}}
		}
		if _, err := h.Rules().Create(ctx, "bench", in); err != nil {
			b.Fatal(err)
		}
	}
	start := h.clock.Now().AddDate(0, 0, -90)
	members := make([]bson.ObjectID, 1000)
	for i := range members {
		members[i] = bson.NewObjectID()
		if !snapshots {
			members[i] = h.joined(fmt.Sprint("m", i, "@example.com"), start.AddDate(0, 0, 45*(i%2))).ID
		}
	}
	tiers := []string{"Member", "Silver", "Gold"}
	batch := make([]any, 0, 10_000) // one insertMany per 10,000: the fill of a million takes minutes
	for i := range n {
		at := start.Add(time.Duration(i) * (90 * 24 * time.Hour / time.Duration(n)))
		a := &activity.Activity{ID: bson.NewObjectID(), Kind: program.ActivityPurchase, ExternalID: fmt.Sprint("b-", i),
			MemberID: members[i%len(members)], AmountMinor: int64(500 + i%9000), Currency: "USD", OccurredAt: at, CreatedAt: at,
			Items:        []activity.LineItem{{SKU: "S", Category: fmt.Sprint("cat-", i%8), Quantity: 1, PriceMinor: int64(500 + i%9000)}},
			RuleSnapshot: &rules.Snapshot{Tier: tiers[i%3], Purchase: int64(i/len(members) + 1)}, Tier: tiers[i%3]}
		if !snapshots {
			a.RuleSnapshot = nil
		}
		batch = append(batch, a)
		if len(batch) == cap(batch) || i == n-1 {
			if _, err := h.activities().InsertMany(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	extra := rules.Input{Name: "Double weekends", Trigger: program.ActivityPurchase, Effect: rules.Effect{MultiplierPercent: 200},
		Conditions: []rules.Condition{{DaysOfWeek: []rules.Weekday{"SATURDAY", "SUNDAY"}}}}
	sim := &dryrun.Simulation{Changes: []dryrun.Change{{Rule: &extra}}, From: start, To: h.clock.Now()}
	// The peak resident memory is counted from here (the fill's is left
	// out): the process's, the embedded database's included.
	debug.FreeOSMemory()
	peakFrom := resetPeakRSS()
	cpu0 := cpuTime(b)
	b.ResetTimer()
	for b.Loop() {
		res, err := h.Rules().DryRuns().RunNow(ctx, sim)
		if err != nil {
			b.Fatal(err)
		}
		if res.Activities != int64(n) {
			b.Fatalf("replayed %d of %d", res.Activities, n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/activity")
	// The process's CPU time (the embedded database runs in it): on a
	// machine shared with other work the wall time above waits for the
	// CPU, this does not.
	b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(b.N)/float64(n), "cpu-ns/activity")
	if peakFrom {
		b.ReportMetric(float64(peakRSS())/(1<<20), "peak-RSS-MB")
	}
}

// resetPeakRSS makes the process's peak resident memory (VmHWM) start
// again from what it holds now; false where Linux does not allow it.
func resetPeakRSS() bool { return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil }

// peakRSS is the process's peak resident memory (VmHWM) in bytes; 0 when
// it cannot be read.
func peakRSS() int64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
