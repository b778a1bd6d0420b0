package account

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/internal/mongoindex"
	"github.com/regulars/regulars/internal/testkit"
)

// Uses racing for one key's quota: exactly the limit pass, the rest are
// refused with the wait until the window ends; another key is untouched;
// ended windows are pruned.
func TestQuotaUnderRace(t *testing.T) {
	db := testkit.Database(t)
	s := quotaStore{c: db.Collection("account_quotas")}
	testkit.EnsureIndexes(t, func(ctx context.Context) error { return ensure(ctx, s) })
	q := quota{"test", 5, time.Hour}
	now := time.Date(2026, 11, 30, 10, 15, 0, 0, time.UTC)
	res := testkit.Race(t, 20, func(int) error { return s.take(context.Background(), q, "ann@example.com", now) })
	if ok := res.OK(); ok != q.limit {
		t.Fatalf("%d of 20 racing uses passed a quota of %d", ok, q.limit)
	}
	for _, err := range res {
		var th *fault.Throttled
		if err != nil && (!errors.As(err, &th) || th.RetryAfter != 45*time.Minute) {
			t.Fatalf("refusal: %v", err)
		}
	}
	if err := s.take(context.Background(), q, "bob@example.com", now); err != nil {
		t.Fatalf("another key: %v", err)
	}
	if err := s.take(context.Background(), q, "ann@example.com", now.Add(time.Hour)); err != nil {
		t.Fatalf("the next window: %v", err)
	}
	if n := testkit.Must(s.prune(context.Background(), now.Add(time.Hour)))(t); n != 2 {
		t.Fatalf("pruned %d windows, want the 2 that ended", n)
	}
	testkit.RequireIndexes(t, s.c, indexQuotaExpiry)
}

func ensure(ctx context.Context, s quotaStore) error {
	return mongoindex.Ensure(ctx, s.c, s.indexes()...)
}
