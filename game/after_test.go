package game

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/leaderboard"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/internal/testkit"
	"github.com/regulars/regulars/member"
)

// heldNotifier holds every send until release is closed, telling entered
// (buffered, 1) that one is waiting.
type heldNotifier struct {
	next    Notifier
	entered chan struct{}
	release chan struct{}
}

func newHeldNotifier(next Notifier) *heldNotifier {
	return &heldNotifier{next: next, entered: make(chan struct{}, 1), release: make(chan struct{})}
}

func (n *heldNotifier) Send(ctx context.Context, m inbox.Message) (*inbox.Notification, error) {
	select {
	case n.entered <- struct{}{}:
	default:
	}
	select {
	case <-n.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return n.next.Send(ctx, m)
}

// newHeldHarness is a harness whose notifications are held (heldNotifier)
// and a member of it.
func newHeldHarness(t *testing.T) (*harness, *heldNotifier, *member.Member) {
	h := newHarness(t, nil)
	held := newHeldNotifier(h.inbox)
	h.notify = held
	return h, held, h.members.add("ann@example.com")
}

func (h *harness) answerFirst(ctx context.Context, m *member.Member, id string, minor int64) (*ActivityResult, error) {
	return h.RecordActivity(ctx, ActivityInput{
		MemberID: m.ID, Kind: program.ActivityPurchase, ExternalID: id, AmountMinor: minor, Currency: "USD",
		OccurredAt: h.clock.Now(), AnswerFirst: true,
	})
}

// afterTheAnswer checks what a purchase of 150 points leaves once its
// effects are carried out: the activity done, one points notification,
// the member first on the all-time board with 150 and one engagement entry.
func (h *harness) afterTheAnswer(t *testing.T, m *member.Member) {
	t.Helper()
	ctx := context.Background()
	if pending := testkit.Count(t, h.activities(), bson.D{{Key: "memberId", Value: m.ID}, {Key: "effectsPending", Value: true}}); pending != 0 {
		t.Fatalf("%d activities still pending", pending)
	}
	if ns := h.inboxOf(t, m, inbox.KindRewardEarned); len(ns) != 1 {
		t.Fatalf("%d points notifications, want 1", len(ns))
	}
	board := testkit.Must(h.Leaderboards().Board(ctx, leaderboard.PeriodAllTime, time.Time{}))(t)
	if st, err := h.Rooms().Boards.RankOf(ctx, board, m.ID); err != nil || st.Rank != 1 || st.Score != 150 {
		t.Fatalf("all-time board: %+v %v", st, err)
	}
	if n := testkit.Count(t, h.db.Collection("engagement"), bson.D{{Key: "memberId", Value: m.ID}}); n != 1 {
		t.Fatalf("%d engagement entries, want 1", n)
	}
}

// A purchase answered first returns with its points while its other
// effects are still held back; Settle waits for them; then they are all
// there, once.
func TestAnswerFirstAnswersBeforeTheEffects(t *testing.T) {
	ctx := context.Background()
	h, held, m := newHeldHarness(t)

	res, err := h.answerFirst(ctx, m, "o-1", 1000)
	if err != nil {
		t.Fatal(err)
	}
	if res.Points() != 150 || res.Replayed || res.Streak != nil {
		t.Fatalf("the answer: points %d, replayed %v, streak %+v", res.Points(), res.Replayed, res.Streak)
	}
	<-held.entered // the notification is being sent after the answer
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	h.Settle(short, m.ID)
	cancel()
	if short.Err() == nil {
		t.Fatal("Settle returned while the effects were held")
	}
	if n := len(h.inboxOf(t, m, inbox.KindRewardEarned)); n != 0 {
		t.Fatalf("%d notifications before the release", n)
	}
	close(held.release)
	h.Settle(ctx, m.ID)
	h.afterTheAnswer(t, m)
}

// Purchases answered first, released together, some of them the same
// purchase reported twice, award each purchase once: the ledger, the
// board, the engagement entries and the notifications agree, read back
// from the database once everything settled.
func TestAnswerFirstRacingPurchasesAwardOnce(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	m := h.members.add("ann@example.com")
	const distinct, copies = 6, 2
	testkit.Race(t, distinct*copies, func(i int) error {
		_, err := h.answerFirst(ctx, m, fmt.Sprintf("o-%d", i%distinct), 1000)
		return err
	}).Expect(t)
	h.SettleAll(ctx)
	h.checkLedger(t, m)
	sum := testkit.Must(h.Rooms().Ledger.Sum(ctx, m.ID))(t)
	if sum <= 0 {
		t.Fatalf("balance %d", sum)
	}
	board := testkit.Must(h.Leaderboards().Board(ctx, leaderboard.PeriodAllTime, time.Time{}))(t)
	if st, err := h.Rooms().Boards.RankOf(ctx, board, m.ID); err != nil || st.Score != sum {
		t.Fatalf("all-time board %+v %v, ledger %d", st, err, sum)
	}
	if n := testkit.Count(t, h.db.Collection("engagement"), bson.D{{Key: "memberId", Value: m.ID}}); n != distinct {
		t.Fatalf("%d engagement entries, want %d", n, distinct)
	}
	if n := len(h.inboxOf(t, m, inbox.KindRewardEarned)); n != distinct {
		t.Fatalf("%d points notifications, want %d", n, distinct)
	}
	if pending := testkit.Count(t, h.activities(), bson.D{{Key: "effectsPending", Value: true}}); pending != 0 {
		t.Fatalf("%d activities still pending", pending)
	}
}

// Effects that fail after the answer are tried again at once, from their
// keys; past the retries they are not lost either: the activity stays
// pending and the resume job finishes them.
func TestAnswerFirstFailureIsRetriedThenResumed(t *testing.T) {
	retries := afterAnswerRetries
	afterAnswerRetries = []time.Duration{time.Millisecond, time.Millisecond}
	t.Cleanup(func() { afterAnswerRetries = retries })
	ctx := context.Background()
	for _, failures := range []int32{1, 3} {
		h := newHarness(t, nil)
		flaky := &failingFirst{next: h.inbox}
		flaky.failures.Store(failures)
		h.notify = flaky
		m := h.members.add("ann@example.com")
		if _, err := h.answerFirst(ctx, m, "o-1", 1000); err != nil {
			t.Fatalf("the answer: %v", err)
		}
		h.Settle(ctx, m.ID)
		if failures == 1 { // the first retry went through
			h.afterTheAnswer(t, m)
			continue
		}
		if pending := testkit.Count(t, h.activities(), bson.D{{Key: "effectsPending", Value: true}}); pending != 1 {
			t.Fatalf("%d activities pending after %d failures, want 1", pending, failures)
		}
		h.clock.Add(2 * time.Minute)
		if n, err := h.Jobs().ResumeEffects(ctx, time.Minute); err != nil || n != 1 {
			t.Fatalf("resumed %d, %v", n, err)
		}
		h.afterTheAnswer(t, m)
	}
}

// With no room left in the background, or once closing, a purchase
// carries out its effects before it answers.
func TestAnswerFirstWithoutRoomAnswersAfter(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	h.after = newAfterAnswer(0)
	m := h.members.add("ann@example.com")
	if _, err := h.answerFirst(ctx, m, "o-1", 1000); err != nil {
		t.Fatal(err)
	}
	h.afterTheAnswer(t, m) // without Settle

	h2 := newHarness(t, nil)
	h2.Close(ctx)
	m2 := h2.members.add("bob@example.com")
	if _, err := h2.answerFirst(ctx, m2, "o-1", 1000); err != nil {
		t.Fatal(err)
	}
	h2.afterTheAnswer(t, m2)
}

// Close waits for the effects under way before the database may close.
func TestCloseWaitsForEffectsUnderWay(t *testing.T) {
	ctx := context.Background()
	h, held, m := newHeldHarness(t)
	if _, err := h.answerFirst(ctx, m, "o-1", 1000); err != nil {
		t.Fatal(err)
	}
	<-held.entered
	closed := make(chan struct{})
	go func() { h.Close(ctx); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned with effects under way")
	case <-time.After(100 * time.Millisecond):
	}
	close(held.release)
	<-closed
	h.afterTheAnswer(t, m)
}

// A check-in answered first is answered while its effects are held; its
// streak is there once they land. Asked without, the answer carries it.
func TestCheckInAnswerFirst(t *testing.T) {
	ctx := context.Background()
	h, held, m := newHeldHarness(t)
	res, err := h.CheckIn(ctx, m.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	if res.Points() <= 0 || res.Streak != nil {
		t.Fatalf("the answer: points %d, streak %+v", res.Points(), res.Streak)
	}
	<-held.entered
	close(held.release)
	h.Settle(ctx, m.ID)
	if v := testkit.Must(h.Rooms().Engagement.Streak(ctx, m.ID))(t); v.Current != 1 {
		t.Fatalf("streak after the check-in's effects: %+v", v)
	}
	h.clock.Add(24 * time.Hour)
	if r := testkit.Must(h.CheckIn(ctx, m.ID, false))(t); r.Streak == nil || r.StreakCurrent != 2 {
		t.Fatalf("the next day's check-in, streak asked for: %+v %d", r.Streak, r.StreakCurrent)
	}
}
