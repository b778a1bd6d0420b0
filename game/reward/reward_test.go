package reward

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/internal/testkit"
	"github.com/regulars/regulars/member"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// recordedEffects stands in for the game's effects path: it keeps what it
// was asked to carry out.
type recordedEffects struct {
	mu      sync.Mutex
	entries []*ledger.Entry
	notes   []inbox.Message
}

func (r *recordedEffects) CarryOut(_ context.Context, _ *program.Program, entries []*ledger.Entry, notes ...inbox.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.entries = append(r.entries, entries...)
	r.notes = append(r.notes, notes...)
	return nil
}

type members struct{}

func (members) add(email string) *member.Member {
	return &member.Member{ID: bson.NewObjectID(), Email: email, DisplayName: email, Timezone: "UTC"}
}

type harness struct {
	*Service
	members members
	clock   *testkit.Clock
	program program.Program
	effects *recordedEffects
}

func newHarness(t *testing.T, configure func(*program.Program)) *harness {
	t.Helper()
	db := testkit.Database(t)
	c := testkit.NewClock(time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC))
	p := program.Default()
	p.ReturnWindowDays = 0
	p.BirthdayBonus = 0
	if configure != nil {
		configure(&p)
	}
	programs := program.NewStore(db)
	p.Version = 1
	if err := programs.Save(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	lg := ledger.New(db.Collection("ledger"), c.Now)
	fx := &recordedEffects{}
	s := New(db, programs, lg, fx, c.Now)
	testkit.EnsureIndexes(t, s.EnsureIndexes, lg.EnsureIndexes)
	return &harness{Service: s, clock: c, program: p, effects: fx}
}

// credit gives m points, spendable at once and qualifying for tiers, as an
// activity would.
func (h *harness) credit(t *testing.T, m *member.Member, points int64) {
	t.Helper()
	_, _, err := h.ledger.Append(context.Background(), &h.program, m.ID, "seed", ledger.EntryEarn, ledger.Source{Kind: ledger.SourceAdjustment, ID: "seed"},
		func(st *ledger.State, e *ledger.Entry, now time.Time) (bool, error) {
			e.Reason = "seed"
			e.Lines = []ledger.Line{{Rule: "seed", Points: points, Reason: "seed"}}
			st.Credit(e, points, now, nil)
			st.Earn(&h.program, e, points, now)
			return true, nil
		})
	if err != nil {
		t.Fatal(err)
	}
}

type balance struct{ Balance int64 }

func (h *harness) points(t *testing.T, m *member.Member) balance {
	t.Helper()
	st, _, err := h.ledger.Head(context.Background(), m.ID)
	if err != nil {
		t.Fatal(err)
	}
	return balance{st.Balance}
}

// checkLedger asserts the ledger's invariant (ledger.Verify).
func (h *harness) checkLedger(t *testing.T, m *member.Member) {
	t.Helper()
	if err := h.ledger.Verify(context.Background(), m.ID); err != nil {
		t.Fatal(err)
	}
}

func TestIndexesExist(t *testing.T) {
	h := newHarness(t, nil)
	testkit.RequireIndexes(t, h.rewards.redemptions, indexRedemptionKey, indexRedemptionCode, indexRedemptionMember, indexRedemptionStatus)
	testkit.RequireIndexes(t, h.rewards.rewards, indexRewardActive)
	testkit.RequireIndexes(t, h.rewards.slots, indexSlotRedemption)
}

// 100 members race for a reward with stock 10: exactly 10 win, the rest
// are told it is out of stock, and nobody's balance goes negative. The
// database agrees: 10 completed redemptions holding 10 stock slots, 10
// debits of the cost.
func TestConcurrentRedemptionsNeverOversell(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	stock := int64(10)
	reward, err := h.CreateReward(ctx, RewardInput{Name: "Tote bag", Cost: 100, Stock: &stock, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	var ms []*member.Member
	for i := range 100 {
		m := h.members.add(fmt.Sprintf("m%d@example.com", i))
		h.credit(t, m, 150)
		ms = append(ms, m)
	}
	res := testkit.Race(t, len(ms), func(i int) error {
		_, err := h.Redeem(ctx, ms[i].ID, reward.ID, "k")
		return err
	})
	res.Expect(t, ErrOutOfStock)
	if res.OK() != 10 || res.Is(ErrOutOfStock) != 90 {
		t.Fatalf("%d redemptions succeeded and %d were out of stock; want 10 and 90", res.OK(), res.Is(ErrOutOfStock))
	}
	if n := testkit.Count(t, h.rewards.redemptions, bson.D{{Key: "status", Value: RedemptionCompleted}}); n != 10 {
		t.Fatalf("%d completed redemptions in the database, want 10", n)
	}
	if n := testkit.Count(t, h.rewards.slots, nil); n != 10 {
		t.Fatalf("%d stock slots held, want 10", n)
	}
	if n := testkit.Count(t, h.ledger.Collection(), bson.D{{Key: "type", Value: ledger.EntryRedeem}, {Key: "amount", Value: -100}}); n != 10 {
		t.Fatalf("%d redemption debits in the ledger, want 10", n)
	}
	for _, m := range ms {
		h.checkLedger(t, m)
	}
}

// One member racing 50 redemptions against their own balance of three:
// three win, the balance ends at zero, never below.
func TestConcurrentRedemptionsNeverOverdraw(t *testing.T) {
	h := newHarness(t, func(p *program.Program) { p.FirstPurchaseBonus = 0 })
	ctx := context.Background()
	reward, err := h.CreateReward(ctx, RewardInput{Name: "Coffee", Cost: 100, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	m := h.members.add("ann@example.com")
	h.credit(t, m, 300) // three coffees
	const callers = 50
	res := testkit.Race(t, callers, func(i int) error {
		_, err := h.Redeem(ctx, m.ID, reward.ID, fmt.Sprint("k", i))
		return err
	})
	res.Expect(t, ledger.ErrInsufficientPoints)
	if res.OK() != 3 || res.Is(ledger.ErrInsufficientPoints) != callers-3 {
		t.Fatalf("%d won, %d refused for points; want 3 and %d", res.OK(), res.Is(ledger.ErrInsufficientPoints), callers-3)
	}
	if n := testkit.Count(t, h.rewards.redemptions, bson.D{{Key: "memberId", Value: m.ID}, {Key: "status", Value: RedemptionCompleted}}); n != 3 {
		t.Fatalf("%d completed redemptions in the database, want 3", n)
	}
	if got := h.points(t, m).Balance; got != 0 {
		t.Fatalf("balance %d, want 0", got)
	}
	h.checkLedger(t, m)
}

func TestRedeemIsIdempotentAndCancelRefunds(t *testing.T) {
	h := newHarness(t, func(p *program.Program) { p.FirstPurchaseBonus = 0 })
	stock := int64(1)
	reward := testkit.Must(h.CreateReward(context.Background(), RewardInput{Name: "Cap", Cost: 100, Stock: &stock, Active: true}))(t)
	m := h.members.add("ann@example.com")
	h.credit(t, m, 200)
	r1, err := h.Redeem(context.Background(), m.ID, reward.ID, "once")
	if err != nil {
		t.Fatal(err)
	}
	r2, err := h.Redeem(context.Background(), m.ID, reward.ID, "once")
	if err != nil || r2.ID != r1.ID || r2.Code != r1.Code {
		t.Fatalf("replay returned %+v, %v", r2, err)
	}
	if got := h.points(t, m).Balance; got != 100 {
		t.Fatalf("balance after one redemption %d, want 100", got)
	}
	if _, err := h.Redeem(context.Background(), m.ID, reward.ID, "twice"); !errors.Is(err, ErrOutOfStock) {
		t.Fatalf("second redemption of stock 1: %v", err)
	}
	for range 2 {
		if _, err := h.CancelRedemption(context.Background(), r1.ID, "damaged in store"); err != nil {
			t.Fatal(err)
		}
	}
	if got := h.points(t, m).Balance; got != 200 {
		t.Fatalf("balance after cancelling twice %d, want 200", got)
	}
	// The stock came back.
	if _, err := h.Redeem(context.Background(), m.ID, reward.ID, "again"); err != nil {
		t.Fatalf("redeem after cancel: %v", err)
	}
	h.checkLedger(t, m)
}

// A process that died after claiming stock but before the debit must not
// hold the stock forever: the sweeper releases it.
func TestSweeperReleasesAbandonedRedemption(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	stock := int64(1)
	reward := testkit.Must(h.CreateReward(ctx, RewardInput{Name: "Last one", Cost: 10, Stock: &stock, Active: true}))(t)
	m := h.members.add("ann@example.com")
	h.credit(t, m, 150)
	// Simulate the crash: a PENDING redemption holding the only stock slot.
	r := &Redemption{ID: bson.NewObjectID(), MemberID: m.ID, RewardID: reward.ID, IdempotencyKey: "crashed",
		Code: redemptionCode(), Cost: 10, Status: RedemptionPending, CreatedAt: h.clock.Now()}
	if _, err := h.rewards.redemptions.InsertOne(ctx, r); err != nil {
		t.Fatal(err)
	}
	if ok, err := h.rewards.claimSlot(ctx, "stock:"+reward.ID.Hex(), 1, r.ID); !ok || err != nil {
		t.Fatalf("claim: %v %v", ok, err)
	}
	if _, err := h.Redeem(ctx, m.ID, reward.ID, "other"); !errors.Is(err, ErrOutOfStock) {
		t.Fatalf("while held: %v", err)
	}
	h.clock.Add(3 * time.Minute)
	if n, err := h.SweepRedemptions(ctx); err != nil || n != 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	if _, err := h.Redeem(ctx, m.ID, reward.ID, "after-sweep"); err != nil {
		t.Fatalf("after the sweep the stock is back: %v", err)
	}
	h.checkLedger(t, m)
}

// The catalog lists newest first, a page at a time, active rewards only
// when asked; RewardsByID keeps the order asked for.
func TestRewardsCatalogPages(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	var ids []bson.ObjectID
	for i := range 5 {
		r, err := h.CreateReward(ctx, RewardInput{Name: fmt.Sprint("r", i), Cost: 10, Active: i%2 == 0})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	names := func(activeOnly bool, limit int) []string {
		var out []string
		var after bson.ObjectID
		for {
			rs, more, err := h.Rewards(ctx, activeOnly, after, limit)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rs {
				out = append(out, r.Name)
			}
			if !more {
				return out
			}
			after = rs[len(rs)-1].ID
		}
	}
	if got := fmt.Sprint(names(true, 2)); got != "[r4 r2 r0]" {
		t.Errorf("active rewards: %s", got)
	}
	if got := fmt.Sprint(names(false, 3)); got != "[r4 r3 r2 r1 r0]" {
		t.Errorf("all rewards: %s", got)
	}
	ghost := bson.NewObjectID()
	rs, err := h.RewardsByID(ctx, []bson.ObjectID{ids[3], ghost, ids[0]})
	if err != nil || len(rs) != 3 || rs[0].Name != "r3" || rs[1] != nil || rs[2].Name != "r0" {
		t.Fatalf("by id: %+v %v", rs, err)
	}
	// Updating keeps the id and validates like creating.
	up, err := h.UpdateReward(ctx, ids[1], RewardInput{Name: "r1 again", Cost: 20, Active: true})
	if err != nil || up.ID != ids[1] || up.Cost != 20 {
		t.Fatalf("update: %+v %v", up, err)
	}
	if _, err := h.UpdateReward(ctx, ids[1], RewardInput{Name: "r1", Cost: 20, MinTier: "Platinum"}); err == nil {
		t.Fatal("an unknown tier accepted")
	}
	if _, err := h.UpdateReward(ctx, ghost, RewardInput{Name: "x", Cost: 1}); !errors.Is(err, ErrRewardNotFound) {
		t.Fatalf("update of nothing: %v", err)
	}
}

// Per-member limits, minimum tiers and validity windows refuse a
// redemption and leave the points where they were; the member's history
// lists what went through.
func TestRedemptionRules(t *testing.T) {
	h := newHarness(t, func(p *program.Program) { p.FirstPurchaseBonus = 0; p.Escalation = nil })
	ctx := context.Background()
	m := h.members.add("ann@example.com")
	h.credit(t, m, 500) // tier Member
	limited := testkit.Must(h.CreateReward(ctx, RewardInput{Name: "Once", Cost: 10, PerMemberLimit: 1, Active: true}))(t)
	gold := testkit.Must(h.CreateReward(ctx, RewardInput{Name: "Gold lounge", Cost: 10, MinTier: "Gold", Active: true}))(t)
	later := h.clock.Now().Add(24 * time.Hour)
	notYet := testkit.Must(h.CreateReward(ctx, RewardInput{Name: "Tomorrow", Cost: 10, ValidFrom: &later, Active: true}))(t)
	first := testkit.Must(h.Redeem(ctx, m.ID, limited.ID, "a"))(t)
	for _, c := range []struct {
		reward bson.ObjectID
		want   error
	}{{limited.ID, ErrLimitReached}, {gold.ID, ErrTierTooLow}, {notYet.ID, ErrRewardUnavailable}} {
		if _, err := h.Redeem(ctx, m.ID, c.reward, "b-"+c.reward.Hex()); !errors.Is(err, c.want) {
			t.Errorf("want %v, got %v", c.want, err)
		}
	}
	if _, err := h.Redeem(ctx, m.ID, bson.NewObjectID(), "c"); !errors.Is(err, ErrRewardNotFound) {
		t.Errorf("unknown reward: %v", err)
	}
	if got := h.points(t, m).Balance; got != 490 {
		t.Fatalf("balance %d, want 490", got)
	}
	rs, more, err := h.Redemptions(ctx, m.ID, bson.ObjectID{}, 10)
	if err != nil || more || len(rs) != 1 || rs[0].ID != first.ID {
		t.Fatalf("history: %+v %v %v", rs, more, err)
	}
	h.checkLedger(t, m)
}

// The sweeper completes an abandoned redemption whose debit went through
// (the member paid) and fails one whose debit never happened.
func TestSweeperCompletesPaidRedemption(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	m := h.members.add("ann@example.com")
	h.credit(t, m, 150)
	reward := testkit.Must(h.CreateReward(ctx, RewardInput{Name: "Pin", Cost: 10, Active: true}))(t)
	paid := testkit.Must(h.Redeem(ctx, m.ID, reward.ID, "paid"))(t)
	// The crash: the debit is written, the status never moved on.
	if err := h.rewards.setRedemption(ctx, paid.ID, bson.D{{Key: "status", Value: RedemptionPending}}); err != nil {
		t.Fatal(err)
	}
	if n, err := h.SweepRedemptions(ctx); err != nil || n != 0 {
		t.Fatalf("a fresh pending redemption was swept: %d %v", n, err)
	}
	h.clock.Add(3 * time.Minute)
	if n, err := h.SweepRedemptions(ctx); err != nil || n != 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	got, err := h.rewards.redemption(ctx, bson.D{{Key: "_id", Value: paid.ID}})
	if err != nil || got.Status != RedemptionCompleted {
		t.Fatalf("after the sweep: %+v %v", got, err)
	}
	if n := testkit.Count(t, h.ledger.Collection(), bson.D{{Key: "type", Value: ledger.EntryRedeem}}); n != 1 {
		t.Fatalf("%d debits, want 1", n)
	}
	h.checkLedger(t, m)
}

func TestPolicies(t *testing.T) {
	brand := member.Principal{Roles: []member.Role{member.RoleCustomer, member.RoleBrand}}
	customer := member.Principal{Roles: []member.Role{member.RoleCustomer}}
	if !program.ManagesProgram(brand) || !program.ManagesProgram(member.Principal{Service: true}) || program.ManagesProgram(customer) {
		t.Fatal("ManagesProgram")
	}
	inactive := &Reward{Active: false}
	if _, err := For(customer, inactive); err != ErrRewardNotFound {
		t.Errorf("a customer sees an inactive reward: %v", err)
	}
	if rw, err := For(brand, inactive); err != nil || rw != inactive {
		t.Errorf("BRAND: %v", err)
	}
}
