package activity_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/activity"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/game/rules"
	"github.com/regulars/regulars/internal/testkit"
)

// A dry run's scan gives the range's activities by date, those of one
// instant by id, whatever order they were recorded in; refunds and
// activities outside the range are left out; and each comes with what
// was recorded of it (items, snapshot or none).
func TestScanOrdersTheRangeByDateThenID(t *testing.T) {
	ctx := context.Background()
	s := activity.New(testkit.Database(t))
	testkit.EnsureIndexes(t, s.EnsureIndexes)
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 0, 10)
	member := bson.NewObjectID()
	// ids in creation order: id[0] < id[1] < …
	ids := make([]bson.ObjectID, 8)
	for i := range ids {
		ids[i] = bson.NewObjectID()
	}
	last := from.Add(-48 * time.Hour)
	noon := from.Add(36 * time.Hour)
	act := func(id bson.ObjectID, kind program.ActivityKind, at time.Time, snap *rules.Snapshot) *activity.Activity {
		a := &activity.Activity{ID: id, Kind: kind, ExternalID: "x-" + id.Hex(), MemberID: member, OccurredAt: at, CreatedAt: at, RuleSnapshot: snap}
		if kind == program.ActivityPurchase {
			a.AmountMinor, a.Currency = 1234, "USD"
			a.Items = []activity.LineItem{{SKU: "A", Category: "food", Quantity: 2, PriceMinor: 500}, {SKU: "B", Quantity: 1, PriceMinor: 234}}
		}
		return a
	}
	gold := &rules.Snapshot{Tier: "Gold", Badges: []string{"b1", "b2"}, Purchase: 3, LastPurchaseAt: &last, First: false, BirthdayYear: 2026}
	first := &rules.Snapshot{Tier: "Member", Purchase: 1, First: true}
	// Recorded newest first, the three at noon with their ids reversed.
	recorded := []*activity.Activity{
		act(ids[7], program.ActivityPurchase, to, gold),                     // outside: to is excluded
		act(ids[6], program.ActivityReview, to.Add(-time.Millisecond), nil), // the last one in
		act(ids[5], program.ActivityPurchase, noon, gold),
		act(ids[4], program.ActivityRefund, noon, nil), // refunds are not replayed
		act(ids[3], program.ActivityPurchase, noon, nil),
		act(ids[2], program.ActivityCheckIn, noon, first),
		act(ids[1], program.ActivityPurchase, from, first),
		act(ids[0], program.ActivityPurchase, from.Add(-time.Millisecond), nil), // outside: before from
	}
	for _, a := range recorded {
		if err := s.Insert(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	var got []rules.Recorded
	err := s.Scan(ctx, from, to, nil, func(x *rules.Recorded) error {
		c := *x
		c.Activity.Items = append([]rules.Item(nil), x.Activity.Items...)
		if x.Snapshot.LastPurchaseAt != nil {
			at := *x.Snapshot.LastPurchaseAt
			c.Snapshot.LastPurchaseAt = &at
		}
		got = append(got, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[bson.ObjectID]*activity.Activity{}
	for _, a := range recorded {
		byID[a.ID] = a
	}
	var want []rules.Recorded
	for _, id := range []bson.ObjectID{ids[1], ids[2], ids[3], ids[5], ids[6]} {
		a := byID[id]
		w := rules.Recorded{Activity: a.ForRules(), MemberID: member, Snapshotted: a.RuleSnapshot != nil}
		if len(w.Activity.Items) == 0 {
			w.Activity.Items = []rules.Item{}
		}
		if a.RuleSnapshot != nil {
			w.Snapshot = *a.RuleSnapshot
		}
		want = append(want, w)
	}
	if len(got) != len(want) {
		t.Fatalf("scanned %d activities, want %d", len(got), len(want))
	}
	for i := range want {
		if len(got[i].Activity.Items) == 0 {
			got[i].Activity.Items = []rules.Item{}
		}
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("activity %d:\n got %s\nwant %s", i, show(got[i]), show(want[i]))
		}
	}
}

func show(x rules.Recorded) string {
	last := "none"
	if x.Snapshot.LastPurchaseAt != nil {
		last = x.Snapshot.LastPurchaseAt.String()
	}
	return fmt.Sprintf("%+v %+v last %s", x.Activity, x.Snapshot, last)
}

// A range holding more activities than a scan may hold fails before any
// is replayed.
func TestScanRefusesARangeOverTheCap(t *testing.T) {
	ctx := context.Background()
	s := activity.New(testkit.Database(t))
	testkit.EnsureIndexes(t, s.EnsureIndexes)
	s.SetMaxScan(2)
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		at := from.Add(time.Duration(i) * time.Hour)
		if err := s.Insert(ctx, &activity.Activity{ID: bson.NewObjectID(), Kind: program.ActivityReview, ExternalID: fmt.Sprint("r", i), MemberID: bson.NewObjectID(), OccurredAt: at, CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	replayed := 0
	err := s.Scan(ctx, from, from.AddDate(0, 0, 1), nil, func(*rules.Recorded) error { replayed++; return nil })
	if !errors.Is(err, activity.ErrScanTooLarge) || replayed != 0 {
		t.Fatalf("3 activities over a cap of 2: err %v, %d replayed; want ErrScanTooLarge and none", err, replayed)
	}
	s.SetMaxScan(3)
	if err := s.Scan(ctx, from, from.AddDate(0, 0, 1), nil, func(*rules.Recorded) error { replayed++; return nil }); err != nil || replayed != 3 {
		t.Fatalf("3 activities at a cap of 3: err %v, %d replayed; want all 3", err, replayed)
	}
}

// A dry run shows how far it has read its range: the scan tells as it
// reads, before it replays the first activity.
func TestScanTellsHowManyItHasRead(t *testing.T) {
	s := activity.New(testkit.Database(t))
	testkit.EnsureIndexes(t, s.EnsureIndexes)
	ctx := context.Background()
	s.SetReadEvery(2)
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range 5 {
		at := from.Add(time.Duration(i) * time.Hour)
		if err := s.Insert(ctx, &activity.Activity{ID: bson.NewObjectID(), Kind: program.ActivityReview, ExternalID: fmt.Sprint("r", i), MemberID: bson.NewObjectID(), OccurredAt: at, CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	var told []int64
	replayed := 0
	err := s.Scan(ctx, from, from.AddDate(0, 0, 1), func(n int64) error {
		if replayed > 0 {
			t.Errorf("told %d read after %d replayed", n, replayed)
		}
		told = append(told, n)
		return nil
	}, func(*rules.Recorded) error { replayed++; return nil })
	if err != nil || replayed != 5 || !slices.Equal(told, []int64{2, 4}) {
		t.Fatalf("err %v, %d replayed, told %v; want 5 replayed, told [2 4]", err, replayed, told)
	}
	stop := errors.New("stop")
	if err := s.Scan(ctx, from, from.AddDate(0, 0, 1), func(int64) error { return stop }, func(*rules.Recorded) error { return nil }); !errors.Is(err, stop) {
		t.Fatalf("a read callback's error: %v, want it back", err)
	}
}

// A range read for a dry run names the members whose purchases in it
// carry no snapshot (the replay reads their join dates), each once, and
// no one else.
func TestReadRangeNamesMembersOfPurchasesWithoutSnapshot(t *testing.T) {
	ctx := context.Background()
	s := activity.New(testkit.Database(t))
	testkit.EnsureIndexes(t, s.EnsureIndexes)
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 0, 10)
	ann, bob, cat, dan := bson.NewObjectID(), bson.NewObjectID(), bson.NewObjectID(), bson.NewObjectID()
	n := 0
	add := func(m bson.ObjectID, kind program.ActivityKind, at time.Time, snap *rules.Snapshot) {
		n++
		a := &activity.Activity{ID: bson.NewObjectID(), Kind: kind, ExternalID: fmt.Sprint("x-", n), MemberID: m, OccurredAt: at, CreatedAt: at, RuleSnapshot: snap}
		if kind == program.ActivityPurchase {
			a.AmountMinor, a.Currency = 1000, "USD"
		}
		if err := s.Insert(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	add(ann, program.ActivityPurchase, from.Add(time.Hour), nil)
	add(ann, program.ActivityPurchase, from.Add(2*time.Hour), nil)
	add(bob, program.ActivityPurchase, from.Add(time.Hour), &rules.Snapshot{Tier: "Member", Purchase: 1, First: true})
	add(cat, program.ActivityReview, from.Add(time.Hour), nil)
	add(dan, program.ActivityPurchase, to, nil) // outside the range
	rg, err := s.ReadRange(ctx, from, to, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := rg.Unsnapshotted(); !reflect.DeepEqual(got, []bson.ObjectID{ann}) {
		t.Errorf("members of purchases without a snapshot: %v, want only %v", got, ann)
	}
	replayed := 0
	if err := rg.Each(func(*rules.Recorded) error { replayed++; return nil }); err != nil || replayed != 4 {
		t.Errorf("replayed %d of 4: %v", replayed, err)
	}
}
