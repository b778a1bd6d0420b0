package game

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/leaderboard"
	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/testkit"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/texts"
	"github.com/regulars/regulars/webhook"
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
	if n, err := h.Jobs().ResumeEffects(ctx, time.Minute); err != nil || n != 0 {
		t.Fatalf("resumed %d early, %v", n, err)
	}
	h.clock.Add(2 * time.Minute)
	if n, err := h.Jobs().ResumeEffects(ctx, time.Minute); err != nil || n != 1 {
		t.Fatalf("resumed %d, %v", n, err)
	}
	ns, _, err := h.inbox.List(ctx, m.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ns) != 1 || ns[0].Kind != inbox.KindRewardEarned {
		t.Fatalf("notifications after resuming: %+v", ns)
	}
	board, err := h.Leaderboards().Board(ctx, leaderboard.PeriodAllTime, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := h.Rooms().Boards.RankOf(ctx, board, m.ID); err != nil || st.Rank != 1 || st.Score != 150 {
		t.Fatalf("leaderboard after resuming: %+v %v", st, err)
	}
	if n, err := h.Jobs().ResumeEffects(ctx, time.Minute); err != nil || n != 0 {
		t.Fatalf("resumed %d again, %v", n, err)
	}
	if sum, err := h.Rooms().Ledger.Sum(ctx, m.ID); err != nil || sum != 150 {
		t.Fatalf("balance %d after resuming, want 150 (nothing applied twice): %v", sum, err)
	}
}

// recordedHooks keeps the webhook events emitted to it.
type recordedHooks struct {
	mu     sync.Mutex
	events []webhook.Event
}

func (r *recordedHooks) Emit(_ context.Context, e webhook.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return nil
}

// An expiry that drops a member's tier is announced like a purchase that
// raises it: a TIER_CHANGED notification and a tier.changed webhook event,
// keyed by the EXPIRE entry. The expiry job announces every such expiry
// since its last run, its own and those a read made; when announcing
// fails, the next run announces again, and announcing twice sends one.
func TestExpiryThatDropsTierIsAnnounced(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, func(p *program.Program) {
		p.FirstPurchaseBonus = 0
		p.Escalation = nil
		p.TierWindowMonths = 12
		p.TierGraceDays = 30
		p.PointsExpireDays = 400
	})
	hooks := &recordedHooks{}
	h.SetWebhooks(hooks)
	flaky := &failingFirst{next: h.inbox}
	h.notify = flaky
	ann, bob := h.members.add("ann@example.com"), h.members.add("bob@example.com")
	h.purchase(t, ann, "a", 10000) // 1000 points: Silver
	h.purchase(t, bob, "b", 10000)
	// Day 401: past the 12-month period and its 30 days of grace, and the
	// lots (400 days) expire as the members' points are next read.
	h.clock.Add(401 * 24 * time.Hour)
	if p := h.points(t, ann); p.Balance != 0 {
		t.Fatalf("ann's balance %d after expiry, want 0", p.Balance)
	}
	jobs := h.db.Collection("jobs")
	flaky.failures.Store(1)
	if _, err := h.Jobs().ExpirePoints(ctx, jobs); !errors.Is(err, errInboxDown) {
		t.Fatalf("the expiry job with the inbox down: %v", err)
	}
	for range 2 {
		if _, err := h.Jobs().ExpirePoints(ctx, jobs); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []*member.Member{ann, bob} {
		entries, _, err := h.ledger.Entries(ctx, m.ID, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(entries, func(e *ledger.Entry) bool { return e.Type == ledger.EntryExpire })
		if i < 0 || entries[i].TierChange == nil || entries[i].TierChange.From != "Silver" || entries[i].TierChange.To != "Member" {
			t.Fatalf("%s's entries: no expiry that moved Silver to Member: %+v", m.Email, entries)
		}
		expiry := entries[i]
		var causes []string
		for _, e := range hooks.events {
			if e.Type == webhook.TierChanged && e.Data["member"] == (webhook.Ref{Type: "Member", ID: m.ID.Hex()}) && e.Data["to"] == "Member" {
				causes = append(causes, e.Cause)
			}
		}
		if len(causes) == 0 || slices.ContainsFunc(causes, func(c string) bool { return c != expiry.ID.Hex() }) {
			t.Errorf("%s: tier.changed causes %v, want the expiry entry %s", m.Email, causes, expiry.ID.Hex())
		}
		ns, _, err := h.inbox.List(ctx, m.ID, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		drops := 0
		for _, n := range ns {
			if n.Kind == inbox.KindTierChanged && n.Key == "tier:"+expiry.Key {
				drops++
			}
		}
		if drops != 1 {
			t.Errorf("%s has %d notifications of the drop, want 1: %+v", m.Email, drops, ns)
		}
	}
}

// refusingTexts renders nothing: every notification fails as bad input.
type refusingTexts struct{}

func (refusingTexts) Render(context.Context, string, texts.Name, map[string]any) (string, string, error) {
	return "", "", input.Errorf("title", "refused for the test")
}

// An effect that fails after the purchase's entries were written, even as
// bad input, leaves the activity in place (marked effectsPending): the
// client's retry replays it and finishes the effects, and the points are
// earned once. Taking the activity back out would let the retry record it
// again beside the entries already written.
func TestAnEffectRefusedAfterTheEntriesKeepsTheActivity(t *testing.T) {
	h := newHarness(t, func(p *program.Program) { p.FirstPurchaseBonus = 0; p.Escalation = nil })
	ctx := context.Background()
	m := h.members.add("kept@example.com")
	in := ActivityInput{MemberID: m.ID, Kind: program.ActivityPurchase, ExternalID: "kept-1", AmountMinor: 1000, Currency: "USD", OccurredAt: h.clock.Now()}
	h.inbox.SetTexts(refusingTexts{})
	if _, err := h.RecordActivity(ctx, in); err == nil {
		t.Fatal("the purchase succeeded though its notification was refused")
	}
	h.inbox.SetTexts(texts.Builtin())
	r := testkit.Must(h.RecordActivity(ctx, in))(t)
	if !r.Replayed {
		t.Fatal("the retry recorded the purchase anew")
	}
	if got := h.points(t, m).Balance; got != 100 {
		t.Fatalf("balance %d after a refused effect and a retry, want 100", got)
	}
	if n := testkit.Must(h.activities().CountDocuments(ctx, bson.D{{Key: "externalId", Value: "kept-1"}}))(t); n != 1 {
		t.Fatalf("%d activities recorded", n)
	}
	h.checkLedger(t, m)
}
