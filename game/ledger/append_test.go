package ledger

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/internal/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// credit is a change that credits points at once.
func credit(points int64) Change {
	return func(st *State, e *Entry, now time.Time) (bool, error) {
		st.Credit(e, points, now, nil)
		return true, nil
	}
}

// AppendAfter on a head another writer has moved since it was read still
// appends on the newest head; on a key already in the ledger it returns
// that entry and appends nothing; racing appends on one stale head each
// land once, numbered without a gap, and the balance is their sum.
func TestAppendAfterAStaleHead(t *testing.T) {
	ctx := context.Background()
	l := New(testkit.Database(t).Collection("ledger"), time.Now)
	if err := l.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	m := bson.NewObjectID()
	src := Source{Kind: SourceAdjustment, ID: "t"}
	stale, err := l.Newest(ctx, m)
	if err != nil || stale.Seq != 0 {
		t.Fatalf("empty ledger's head: seq %d, %v", stale.Seq, err)
	}
	if _, _, err := l.Append(ctx, nil, m, "first", EntryEarn, src, credit(10)); err != nil {
		t.Fatal(err)
	}
	e, created, err := l.AppendAfter(ctx, nil, m, stale, "second", EntryEarn, src, credit(5))
	if err != nil || !created || e.Seq != 2 || e.State.Balance != 15 {
		t.Fatalf("append on a stale head: %+v created %v, %v; want seq 2, balance 15", e, created, err)
	}
	again, created, err := l.AppendAfter(ctx, nil, m, stale, "first", EntryEarn, src, credit(99))
	if err != nil || created || again.Seq != 1 || again.State.Balance != 10 {
		t.Fatalf("a key already in the ledger: %+v created %v, %v; want the first entry back", again, created, err)
	}
	head, err := l.Newest(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	again, created, err = l.AppendAfter(ctx, nil, m, head, "second", EntryEarn, src, credit(99))
	if err != nil || created || again.ID != e.ID {
		t.Fatalf("the head's own key: %+v created %v, %v", again, created, err)
	}

	const n = 8
	res := testkit.Race(t, n, func(i int) error {
		_, _, err := l.AppendAfter(ctx, nil, m, head, fmt.Sprintf("race-%d", i), EntryEarn, src, credit(1))
		return err
	})
	res.Expect(t, nil)
	same := testkit.Race(t, n, func(int) error {
		_, _, err := l.AppendAfter(ctx, nil, m, head, "one-key", EntryEarn, src, credit(100))
		return err
	})
	same.Expect(t, nil)
	es, _, err := l.Entries(ctx, m, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2+n+1 {
		t.Fatalf("%d entries, want %d", len(es), 2+n+1)
	}
	for i, e := range es {
		if want := int64(len(es) - i); e.Seq != want {
			t.Fatalf("entry %d has seq %d, want %d: the chain has a gap", i, e.Seq, want)
		}
	}
	if b := es[0].State.Balance; b != 15+n+100 {
		t.Fatalf("balance %d, want %d", b, 15+n+100)
	}
	if err := l.Verify(ctx, m); err != nil {
		t.Fatal(err)
	}
}
