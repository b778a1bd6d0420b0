package rules_test

import (
	"testing"

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
