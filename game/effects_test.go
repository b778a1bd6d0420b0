package game

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/leaderboard"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/internal/testkit"
)

// failingFirst fails its first sends (failures of them), then delivers.
type failingFirst struct {
	next     Notifier
	failures atomic.Int32
}

var errInboxDown = errors.New("inbox down")

func (f *failingFirst) Send(ctx context.Context, m inbox.Message) (*inbox.Notification, error) {
	if f.failures.Add(-1) >= 0 {
		return nil, errInboxDown
	}
	return f.next.Send(ctx, m)
}

// A failed effect is not only logged: the activity stays pending, and the
// ResumeEffects job carries the missing effects out from their keys,
// without repeating the ones already done.
func TestFailedEffectsAreResumed(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	flaky := &failingFirst{next: h.inbox}
	flaky.failures.Store(1)
	h.notify = flaky
	m := h.members.add("ann@example.com")

	_, err := h.RecordActivity(ctx, ActivityInput{MemberID: m.ID, Kind: program.ActivityPurchase, ExternalID: "o-1", AmountMinor: 1000, Currency: "USD", OccurredAt: h.clock.Now()})
	if !errors.Is(err, errInboxDown) {
		t.Fatalf("a failed notification was swallowed: %v", err)
	}
	if pending := testkit.Count(t, h.activities(), bson.D{{Key: "effectsPending", Value: true}}); pending != 1 {
		t.Fatalf("%d activities pending, want 1", pending)
	}
	// Not yet: the first attempt may still be running.
	if n, err := h.ResumeEffects(ctx, time.Minute); err != nil || n != 0 {
		t.Fatalf("resumed %d early, %v", n, err)
	}
	h.clock.Add(2 * time.Minute)
	if n, err := h.ResumeEffects(ctx, time.Minute); err != nil || n != 1 {
		t.Fatalf("resumed %d, %v", n, err)
	}
	ns, _, err := h.inbox.List(ctx, m.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ns) != 1 || ns[0].Kind != inbox.KindRewardEarned {
		t.Fatalf("notifications after resuming: %+v", ns)
	}
	board, err := h.BoardFor(ctx, leaderboard.PeriodAllTime, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := h.Rooms().Boards.RankOf(ctx, board, m.ID); err != nil || st.Rank != 1 || st.Score != 150 {
		t.Fatalf("leaderboard after resuming: %+v %v", st, err)
	}
	if n, err := h.ResumeEffects(ctx, time.Minute); err != nil || n != 0 {
		t.Fatalf("resumed %d again, %v", n, err)
	}
	if sum, err := h.Rooms().Ledger.Sum(ctx, m.ID); err != nil || sum != 150 {
		t.Fatalf("balance %d after resuming, want 150 (nothing applied twice): %v", sum, err)
	}
}
