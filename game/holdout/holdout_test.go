package holdout

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/internal/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// Over 10,000 members the draw holds out the requested share within ±1
// point, draws the same again (as after a restart), and draws each
// campaign on its own.
func TestDrawIsCloseToTheShareAndStable(t *testing.T) {
	// Fixed ids (from a seeded generator), so a run is reproducible: with
	// fresh random ids the share strays past a tight bound now and then.
	rng := rand.New(rand.NewPCG(1, 2))
	ids := make([]bson.ObjectID, 10_000)
	for i := range ids {
		for j := range ids[i] {
			ids[i][j] = byte(rng.UintN(256))
		}
	}
	for _, percent := range []int{0, 5, 10, 25, 50} {
		held, both := 0, 0
		for _, id := range ids {
			h := Draw(id, "win-back", percent)
			if h != Draw(id, "win-back", percent) {
				t.Fatalf("member %s drawn differently on a second call", id.Hex())
			}
			if h {
				held++
				if Draw(id, "birthday", percent) {
					both++
				}
			}
		}
		share := float64(held) / float64(len(ids)) * 100
		// Within four standard deviations of a fair draw of len(ids).
		sd := 100 * math.Sqrt(float64(percent)/100*(1-float64(percent)/100)/float64(len(ids)))
		if math.Abs(share-float64(percent)) > 4*sd {
			t.Errorf("holdout %d%%: %.2f%% held out", percent, share)
		}
		// Independent campaigns: of those held out of one, about percent% of
		// the other (a shared draw would hold out the same members of every campaign).
		if percent == 50 && (both < held*40/100 || both > held*60/100) {
			t.Errorf("of %d held out of win-back, %d held out of birthday too", held, both)
		}
	}
}

// The first assignment of a send stands: a later draw at another share
// (the brand changed holdoutPercent) does not move the member.
func TestAssignKeepsTheFirstGroup(t *testing.T) {
	db := testkit.Database(t)
	s := New(db)
	testkit.EnsureIndexes(t, s.EnsureIndexes)
	ctx := context.Background()
	var heldID bson.ObjectID
	for heldID.IsZero() {
		if id := bson.NewObjectID(); Draw(id, "win-back", 50) {
			heldID = id
		}
	}
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	if g := testkit.Must(s.Assign(ctx, "win-back", "winback:2026-01-01", heldID, 50, now))(t); g != Held {
		t.Fatalf("group %s, want %s", g, Held)
	}
	if g := testkit.Must(s.Assign(ctx, "win-back", "winback:2026-01-01", heldID, 0, now.Add(time.Hour)))(t); g != Held {
		t.Fatalf("after a change of share: group %s, want the recorded %s", g, Held)
	}
	var n int
	if err := s.Each(ctx, "win-back", now.Add(-time.Hour), now.Add(2*time.Hour), func(a *Assignment) error {
		n++
		if !a.At.Equal(now) || a.MemberID != heldID {
			t.Errorf("assignment %+v", a)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d assignments of one send, want 1", n)
	}
	testkit.RequireIndexes(t, db.Collection(Collection), IndexCampaignAt)
}

// A batch assigns as one Assign per member would: a member assigned before
// keeps the recorded group though the share changed, the others are drawn.
func TestAssignAllKeepsRecordedGroups(t *testing.T) {
	db := testkit.Database(t)
	s := New(db)
	testkit.EnsureIndexes(t, s.EnsureIndexes)
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	var heldID bson.ObjectID
	for heldID.IsZero() {
		if id := bson.NewObjectID(); Draw(id, "flash", 50) {
			heldID = id
		}
	}
	if g := testkit.Must(s.Assign(ctx, "flash", "offer:1", heldID, 50, now))(t); g != Held {
		t.Fatalf("group %s, want %s", g, Held)
	}
	ids := []bson.ObjectID{heldID}
	for range 30 {
		ids = append(ids, bson.NewObjectID())
	}
	groups := testkit.Must(s.AssignAll(ctx, "flash", "offer:1", ids, 0, now.Add(time.Hour)))(t)
	for _, id := range ids {
		want := Treated
		if id == heldID {
			want = Held
		}
		if groups[id] != want {
			t.Errorf("member %s: group %q, want %q", id.Hex(), groups[id], want)
		}
	}
	n := 0
	if err := s.Each(ctx, "flash", now.Add(-time.Hour), now.Add(2*time.Hour), func(*Assignment) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != len(ids) {
		t.Fatalf("%d assignments recorded, want %d (one per member)", n, len(ids))
	}
}
