package rules_test

import (
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/game/rules"
	"github.com/regulars/regulars/game/rules/dryrun"
)

// BenchmarkReplay50Rules is the dry run's work per activity without the
// database: both sets of 50 rules, limits counted, totals kept.
func BenchmarkReplay50Rules(b *testing.B) {
	set, a, snap := rules.Fifty(b)
	after := rules.NewSet(2, set.Basis, append(set.Rules(), rules.RuleOf(b, rules.Input{Name: "Extra", Trigger: program.ActivityPurchase, Effect: rules.Effect{MultiplierPercent: 200}})))
	r := dryrun.NewReplay(set, after)
	members := make([]bson.ObjectID, 1000)
	for i := range members {
		members[i] = bson.NewObjectID()
	}
	x := rules.Recorded{Activity: *a, Snapshotted: true}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		x.MemberID, x.Snapshot = members[i%len(members)], *snap
		r.Add(&x)
		i++
	}
}

// A replay counts a purchase's position as the live path does: one dated
// before the member joined, recorded with a snapshot (position 0) or
// without one (dated before JoinedFrom), has no position and moves no
// other's; the member's first after joining is their 1st.
func TestReplayCountsPositionsFromJoining(t *testing.T) {
	basis := rules.Basis{PointsPerUnit: 10, MinorPerUnit: 100, Location: time.UTC}
	first := rules.RuleOf(t, rules.Input{Name: "First", Trigger: program.ActivityPurchase, Effect: rules.Effect{FixedPoints: 100},
		Conditions: []rules.Condition{{NthPurchase: ptr(int64(1))}}})
	r := dryrun.NewReplay(rules.NewSet(1, basis, nil), rules.NewSet(2, basis, []*rules.Rule{first}))
	member := bson.NewObjectID()
	joined := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	purchase := func(at time.Time, snap *rules.Snapshot) *rules.Recorded {
		x := &rules.Recorded{Activity: rules.Activity{ID: bson.NewObjectID(), Kind: program.ActivityPurchase, AmountMinor: 1000, OccurredAt: at},
			MemberID: member, JoinedFrom: rules.JoinedFrom(joined)}
		if snap != nil {
			x.Snapshot, x.Snapshotted = *snap, true
		}
		return x
	}
	after := purchase(joined.Add(time.Hour), nil)
	for _, x := range []*rules.Recorded{
		purchase(joined.AddDate(0, 0, -9), &rules.Snapshot{Tier: "Member"}), // imported while a rule was live
		purchase(joined.AddDate(0, 0, -3), nil),                             // imported, no snapshot
		purchase(joined.Add(-rules.JoinSkew-time.Second), nil),              // just before the skew
		after,
	} {
		r.Add(x)
	}
	res := r.Result(1000, "USD")
	if res.After-res.Before != 100 || len(res.Sample) != 1 || res.Sample[0].ActivityID != after.Activity.ID.Hex() {
		t.Errorf("a 1st-purchase rule moved %d points on %+v; want 100 on the purchase after joining", res.After-res.Before, res.Sample)
	}
}

func ptr[T any](v T) *T { return &v }
