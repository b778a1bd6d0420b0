package game

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/mongotest"
	"github.com/regulars/regulars/member"
)

// fakeMembers serves members from a map; Get can be replaced per test.
type fakeMembers struct {
	mu sync.Mutex
	m  map[bson.ObjectID]*member.Member
}

var _ Members = (*fakeMembers)(nil)

func (f *fakeMembers) Get(_ context.Context, id bson.ObjectID) (*member.Member, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m, ok := f.m[id]; ok {
		return m, nil
	}
	return nil, member.ErrNotFound
}

func (f *fakeMembers) add(email string) *member.Member {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := &member.Member{ID: bson.NewObjectID(), Email: email, DisplayName: email, Timezone: "UTC"}
	f.m[m.ID] = m
	return m
}

// clock is a settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type harness struct {
	*Service
	members *fakeMembers
	clock   *clock
	inbox   *inbox.Inbox
}

func newHarness(t *testing.T, configure func(*Program)) *harness {
	t.Helper()
	db := mongotest.Database(t)
	fm := &fakeMembers{m: map[bson.ObjectID]*member.Member{}}
	in := inbox.New(db, inbox.NewMemoryBroker())
	s := New(db, fm, in)
	c := &clock{t: time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)}
	s.SetClock(c.now)
	in.SetClock(c.now)
	ctx := context.Background()
	if err := s.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	if err := in.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	p := DefaultProgram()
	p.ReturnWindowDays = 0
	p.BirthdayBonus = 0
	if configure != nil {
		configure(&p)
	}
	if _, err := s.UpdateProgram(ctx, p); err != nil {
		t.Fatal(err)
	}
	return &harness{Service: s, members: fm, clock: c, inbox: in}
}

func (h *harness) purchase(t *testing.T, m *member.Member, id string, minor int64) *ActivityResult {
	t.Helper()
	r, err := h.RecordActivity(context.Background(), ActivityInput{
		MemberID: m.ID, Kind: ActivityPurchase, ExternalID: id, AmountMinor: minor, Currency: "USD", OccurredAt: h.clock.now(),
	})
	if err != nil {
		t.Fatalf("purchase %s: %v", id, err)
	}
	return r
}

func (h *harness) points(t *testing.T, m *member.Member) *PointsSummary {
	t.Helper()
	p, err := h.Points(context.Background(), m.ID)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// checkLedger asserts the invariant: the cached balance is the sum of every
// entry and of the open lots, and never negative.
func (h *harness) checkLedger(t *testing.T, m *member.Member) {
	t.Helper()
	st, _, err := h.ledger.Head(context.Background(), m.ID)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := h.ledger.Sum(context.Background(), m.ID)
	if err != nil {
		t.Fatal(err)
	}
	var lots int64
	for _, l := range st.Lots {
		if l.Points <= 0 {
			t.Errorf("lot %s holds %d points", l.ID.Hex(), l.Points)
		}
		lots += l.Points
	}
	if st.Balance != sum || st.Balance != lots || st.Balance < 0 {
		t.Fatalf("balance %d, ledger sum %d, lots %d: they must agree and not be negative", st.Balance, sum, lots)
	}
}

func TestIndexesExist(t *testing.T) {
	h := newHarness(t, nil)
	mongotest.RequireIndexes(t, h.ledger.store.c, indexLedgerSeq, indexLedgerKey, indexLedgerExpiry, indexLedgerSource, indexLedgerReferee)
	mongotest.RequireIndexes(t, h.acts.c, indexActivityExternal, indexActivityMember)
	mongotest.RequireIndexes(t, h.rewards.redemptions, indexRedemptionKey, indexRedemptionCode, indexRedemptionMember, indexRedemptionStatus)
	mongotest.RequireIndexes(t, h.rewards.rewards, indexRewardActive)
	mongotest.RequireIndexes(t, h.rewards.slots, indexSlotRedemption)
	mongotest.RequireIndexes(t, h.accounts.accounts, indexAccountCode, indexAccountReferrer)
	mongotest.RequireIndexes(t, h.accounts.conversions, indexConversionReferer)
	mongotest.RequireIndexes(t, h.accounts.slots, indexSlotReferee)
}

func TestPurchasesEarnEscalatingPoints(t *testing.T) {
	h := newHarness(t, nil)
	m := h.members.add("ann@example.com")
	// 10 points per USD: 12.34 USD is 123 base points.
	r1 := h.purchase(t, m, "o1", 1234)
	r2 := h.purchase(t, m, "o2", 1234)
	r3 := h.purchase(t, m, "o3", 1234)
	r4 := h.purchase(t, m, "o4", 1234)
	for i, c := range []struct {
		r    *ActivityResult
		want int64
	}{{r1, 123 + 50}, {r2, 246}, {r3, 369}, {r4, 123}} {
		if got := c.r.Points(); got != c.want {
			t.Errorf("purchase %d earned %d, want %d (lines %+v)", i+1, got, c.want, c.r.Entries[0].Lines)
		}
	}
	if r2.Entries[0].Lines[1].Rule != "escalation" || r2.Entries[0].Lines[1].Reason != "2× points on your 2nd purchase" {
		t.Errorf("second purchase does not explain itself: %+v", r2.Entries[0].Lines)
	}
	if got := h.points(t, m).Balance; got != 173+246+369+123 {
		t.Errorf("balance %d", got)
	}
	h.checkLedger(t, m)
}

func TestBadActivityWritesNothing(t *testing.T) {
	h := newHarness(t, nil)
	m := h.members.add("ann@example.com")
	now := h.clock.now()
	cases := []struct {
		in    ActivityInput
		field string
	}{
		{ActivityInput{MemberID: m.ID, Kind: ActivityPurchase, ExternalID: "a", AmountMinor: -5, Currency: "USD", OccurredAt: now}, "amountMinor"},
		{ActivityInput{MemberID: m.ID, Kind: ActivityPurchase, ExternalID: "a", AmountMinor: 0, Currency: "USD", OccurredAt: now}, "amountMinor"},
		{ActivityInput{MemberID: m.ID, Kind: ActivityPurchase, ExternalID: "a", AmountMinor: 100, Currency: "ZZZ", OccurredAt: now}, "currency"},
		{ActivityInput{MemberID: m.ID, Kind: ActivityPurchase, ExternalID: "a", AmountMinor: 100, Currency: "USD", OccurredAt: now.Add(time.Hour)}, "occurredAt"},
		{ActivityInput{MemberID: bson.NewObjectID(), Kind: ActivityPurchase, ExternalID: "a", AmountMinor: 100, Currency: "USD", OccurredAt: now}, "memberId"},
		{ActivityInput{MemberID: m.ID, Kind: ActivityRefund, ExternalID: "r", AmountMinor: 100, Currency: "USD", RefundOf: "nope", OccurredAt: now}, "refundOf"},
		{ActivityInput{MemberID: m.ID, Kind: "DANCE", ExternalID: "a", OccurredAt: now}, "kind"},
	}
	for _, c := range cases {
		_, err := h.RecordActivity(context.Background(), c.in)
		if in, ok := input.As(err); !ok || in.Field != c.field {
			t.Errorf("%+v: want an error on %s, got %v", c.in, c.field, err)
		}
	}
	if n, _ := h.acts.c.CountDocuments(context.Background(), bson.D{}); n != 0 {
		t.Fatalf("refused activities wrote %d documents", n)
	}
	if n, _ := h.ledger.store.c.CountDocuments(context.Background(), bson.D{}); n != 0 {
		t.Fatalf("refused activities wrote %d ledger entries", n)
	}
}

// 200 concurrent reports of one purchase: exactly one ledger effect, and
// every caller gets the same result.
func TestConcurrentDuplicateActivityOneEffect(t *testing.T) {
	h := newHarness(t, nil)
	m := h.members.add("ann@example.com")
	var wg sync.WaitGroup
	points := make(chan int64, 200)
	for range 200 {
		wg.Go(func() {
			r, err := h.RecordActivity(context.Background(), ActivityInput{
				MemberID: m.ID, Kind: ActivityPurchase, ExternalID: "order-1", AmountMinor: 5000, Currency: "USD", OccurredAt: h.clock.now(),
			})
			if err != nil {
				t.Error(err)
				return
			}
			points <- r.Points()
		})
	}
	wg.Wait()
	close(points)
	for p := range points {
		if p != 550 {
			t.Fatalf("a caller saw %d points, want 550 (500 base + 50 first purchase)", p)
		}
	}
	n, _ := h.ledger.store.c.CountDocuments(context.Background(), bson.D{{Key: "memberId", Value: m.ID}})
	if n != 1 {
		t.Fatalf("%d ledger entries, want exactly 1", n)
	}
	if got := h.points(t, m).Balance; got != 550 {
		t.Fatalf("balance %d, want 550", got)
	}
	h.checkLedger(t, m)
}

// 100 members race for a reward with stock 10: exactly 10 win, the rest
// are told it is out of stock, and nobody's balance goes negative.
func TestConcurrentRedemptionsNeverOversell(t *testing.T) {
	h := newHarness(t, nil)
	stock := int64(10)
	reward, err := h.CreateReward(context.Background(), RewardInput{Name: "Tote bag", Cost: 100, Stock: &stock, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	var ms []*member.Member
	for i := range 100 {
		m := h.members.add(fmt.Sprintf("m%d@example.com", i))
		h.purchase(t, m, fmt.Sprint("seed-", i), 1000) // 100 + 50 points
		ms = append(ms, m)
	}
	var won, outOfStock atomic.Int32
	var wg sync.WaitGroup
	for _, m := range ms {
		wg.Go(func() {
			_, err := h.Redeem(context.Background(), m.ID, reward.ID, "k")
			switch {
			case err == nil:
				won.Add(1)
			case errors.Is(err, ErrOutOfStock):
				outOfStock.Add(1)
			default:
				t.Errorf("redeem: %v", err)
			}
		})
	}
	wg.Wait()
	if won.Load() != 10 || outOfStock.Load() != 90 {
		t.Fatalf("%d redemptions succeeded and %d were out of stock; want 10 and 90", won.Load(), outOfStock.Load())
	}
	for _, m := range ms {
		h.checkLedger(t, m)
	}
}

// One member racing redemptions against their own balance: never negative.
func TestConcurrentRedemptionsNeverOverdraw(t *testing.T) {
	h := newHarness(t, func(p *Program) { p.FirstPurchaseBonus = 0 })
	reward, err := h.CreateReward(context.Background(), RewardInput{Name: "Coffee", Cost: 100, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	m := h.members.add("ann@example.com")
	h.purchase(t, m, "seed", 3000) // 300 points: three coffees
	var won, poor atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			_, err := h.Redeem(context.Background(), m.ID, reward.ID, fmt.Sprint("k", i))
			switch {
			case err == nil:
				won.Add(1)
			case errors.Is(err, ErrInsufficientPoints):
				poor.Add(1)
			default:
				t.Errorf("redeem: %v", err)
			}
		})
	}
	wg.Wait()
	if won.Load() != 3 || poor.Load() != 17 {
		t.Fatalf("%d won, %d refused for points; want 3 and 17", won.Load(), poor.Load())
	}
	if got := h.points(t, m).Balance; got != 0 {
		t.Fatalf("balance %d, want 0", got)
	}
	h.checkLedger(t, m)
}

func TestRedeemIsIdempotentAndCancelRefunds(t *testing.T) {
	h := newHarness(t, func(p *Program) { p.FirstPurchaseBonus = 0 })
	stock := int64(1)
	reward, _ := h.CreateReward(context.Background(), RewardInput{Name: "Cap", Cost: 100, Stock: &stock, Active: true})
	m := h.members.add("ann@example.com")
	h.purchase(t, m, "seed", 2000)
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

func TestPendingPointsAndRefunds(t *testing.T) {
	h := newHarness(t, func(p *Program) { p.ReturnWindowDays = 14; p.FirstPurchaseBonus = 0; p.Escalation = nil })
	m := h.members.add("ann@example.com")
	h.purchase(t, m, "o1", 10000) // 1000 points, pending 14 days
	if p := h.points(t, m); p.Pending != 1000 || p.Available != 0 || p.Balance != 1000 {
		t.Fatalf("just after purchase: %+v", p)
	}
	// A half refund inside the window cancels half the pending points.
	if _, err := h.RecordActivity(context.Background(), ActivityInput{MemberID: m.ID, Kind: ActivityRefund, ExternalID: "r1",
		AmountMinor: 5000, Currency: "USD", RefundOf: "o1", OccurredAt: h.clock.now()}); err != nil {
		t.Fatal(err)
	}
	if p := h.points(t, m); p.Pending != 500 || p.Balance != 500 {
		t.Fatalf("after half refund in window: %+v", p)
	}
	h.clock.add(15 * 24 * time.Hour)
	if p := h.points(t, m); p.Available != 500 || p.Pending != 0 {
		t.Fatalf("after the window: %+v", p)
	}
	// Spend 400, then refund the rest: only 100 can be clawed back; 400 is shortfall.
	reward, _ := h.CreateReward(context.Background(), RewardInput{Name: "Mug", Cost: 400, Active: true})
	if _, err := h.Redeem(context.Background(), m.ID, reward.ID, "mug"); err != nil {
		t.Fatal(err)
	}
	r, err := h.RecordActivity(context.Background(), ActivityInput{MemberID: m.ID, Kind: ActivityRefund, ExternalID: "r2",
		AmountMinor: 5000, Currency: "USD", RefundOf: "o1", OccurredAt: h.clock.now()})
	if err != nil {
		t.Fatal(err)
	}
	if e := r.Entries[0]; e.Amount != -100 || e.Shortfall != 400 {
		t.Fatalf("clawback %d with shortfall %d, want -100 and 400", e.Amount, e.Shortfall)
	}
	// Refunding more than was bought is refused, and writes nothing.
	_, err = h.RecordActivity(context.Background(), ActivityInput{MemberID: m.ID, Kind: ActivityRefund, ExternalID: "r3",
		AmountMinor: 1, Currency: "USD", RefundOf: "o1", OccurredAt: h.clock.now()})
	if in, ok := input.As(err); !ok || in.Field != "amountMinor" {
		t.Fatalf("over-refund: %v", err)
	}
	if _, err := h.acts.byExternalID(context.Background(), ActivityRefund, "r3"); !errors.Is(err, ErrActivityNotFound) {
		t.Fatalf("refused refund was stored: %v", err)
	}
	h.checkLedger(t, m)
}

func TestExpirySpendsSoonestFirst(t *testing.T) {
	h := newHarness(t, func(p *Program) { p.FirstPurchaseBonus = 0; p.Escalation = nil; p.PointsExpireDays = 30 })
	m := h.members.add("ann@example.com")
	h.purchase(t, m, "early", 1000) // 100 points expiring day 30
	h.clock.add(10 * 24 * time.Hour)
	h.purchase(t, m, "late", 2000) // 200 points expiring day 40
	p := h.points(t, m)
	if len(p.Expiring) != 2 || p.Expiring[0].Amount != 100 || p.Expiring[1].Amount != 200 {
		t.Fatalf("expiring lots: %+v", p.Expiring)
	}
	reward, _ := h.CreateReward(context.Background(), RewardInput{Name: "Pin", Cost: 50, Active: true})
	if _, err := h.Redeem(context.Background(), m.ID, reward.ID, "pin"); err != nil {
		t.Fatal(err)
	}
	// Day 31: the early lot's remaining 50 expire, the late lot is whole.
	h.clock.add(21 * 24 * time.Hour)
	if p := h.points(t, m); p.Balance != 200 || len(p.Expiring) != 1 || p.Expiring[0].Amount != 200 {
		t.Fatalf("after the first expiry: %+v", p)
	}
	// Two instances running the job at once expire each lot once.
	h.clock.add(10 * 24 * time.Hour)
	jobs := h.ledger.store.c.Database().Collection("jobs")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := h.ExpirePoints(context.Background(), jobs); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	n, _ := h.ledger.store.c.CountDocuments(context.Background(), bson.D{{Key: "memberId", Value: m.ID}, {Key: "type", Value: EntryExpire}})
	if n != 2 {
		t.Fatalf("%d EXPIRE entries, want 2", n)
	}
	h.checkLedger(t, m)
}

func TestTierUpgradeAtOnceDowngradeAfterGrace(t *testing.T) {
	h := newHarness(t, func(p *Program) {
		p.FirstPurchaseBonus = 0
		p.Escalation = nil
		p.TierWindowMonths = 12
		p.TierGraceDays = 30
	})
	m := h.members.add("ann@example.com")
	r := h.purchase(t, m, "big", 10000) // 1000 points: Silver
	if tc := r.TierChange(); tc == nil || tc.To != "Silver" {
		t.Fatalf("tier change %+v, want to Silver", tc)
	}
	// Silver earns 125%: 100 base + 25.
	if got := h.purchase(t, m, "next", 1000).Points(); got != 125 {
		t.Fatalf("Silver purchase earned %d, want 125", got)
	}
	// Inside the grace period the tier holds…
	h.clock.add(380 * 24 * time.Hour)
	if ts, _ := h.Tier(context.Background(), m.ID); ts.Current.Name != "Silver" {
		t.Fatalf("inside the grace period: %s", ts.Current.Name)
	}
	// …and after it, with nothing earned in the window, the member drops.
	h.clock.add(20 * 24 * time.Hour)
	ts, _ := h.Tier(context.Background(), m.ID)
	if ts.Current.Name != "Member" {
		t.Fatalf("after period and grace with nothing earned: %s", ts.Current.Name)
	}
}

func TestReferralRewardedOncePerSide(t *testing.T) {
	h := newHarness(t, func(p *Program) { p.FirstPurchaseBonus = 0; p.Escalation = nil })
	ctx := context.Background()
	ann := h.members.add("ann@example.com")
	if _, err := h.Enroll(ctx, ann, nil); err != nil {
		t.Fatal(err)
	}
	annAcct, _ := h.account(ctx, ann.ID)
	if _, err := h.Referrer(ctx, annAcct.Code, "Ann+promo@Example.com"); err == nil {
		t.Fatal("self-referral through a +tag accepted")
	}
	referrer, err := h.Referrer(ctx, annAcct.Code, "bob@example.com")
	if err != nil || referrer != ann.ID {
		t.Fatalf("referrer: %v %v", referrer, err)
	}
	bob := h.members.add("bob@example.com")
	if _, err := h.Enroll(ctx, bob, &referrer); err != nil {
		t.Fatal(err)
	}
	// The qualifying purchase ingested twice, concurrently, and a second purchase.
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			_, err := h.RecordActivity(ctx, ActivityInput{MemberID: bob.ID, Kind: ActivityPurchase, ExternalID: "b1", AmountMinor: 1000, Currency: "USD", OccurredAt: h.clock.now()})
			if err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			_, err := h.RecordActivity(ctx, ActivityInput{MemberID: bob.ID, Kind: ActivityPurchase, ExternalID: "b2", AmountMinor: 1000, Currency: "USD", OccurredAt: h.clock.now()})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	annRef, _ := h.Referral(ctx, ann.ID)
	if annRef.PointsEarned != 500 || annRef.Converted != 1 || annRef.Invited != 1 {
		t.Fatalf("ann's referral: %+v", annRef)
	}
	bobRef, _ := h.Referral(ctx, bob.ID)
	if bobRef.PointsEarned != 500 {
		t.Fatalf("bob's referral points %d, want 500", bobRef.PointsEarned)
	}
	h.checkLedger(t, ann)
	h.checkLedger(t, bob)
}

// Random interleavings of earn, redeem, expire and refund: the balance is
// always the ledger sum and never negative.
func TestBalanceEqualsLedgerSumUnderRandomConcurrency(t *testing.T) {
	h := newHarness(t, func(p *Program) { p.PointsExpireDays = 3 })
	m := h.members.add("ann@example.com")
	reward, _ := h.CreateReward(context.Background(), RewardInput{Name: "Sticker", Cost: 70, Active: true})
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for i := range 10 {
				ctx := context.Background()
				id := fmt.Sprintf("g%d-%d", g, i)
				switch rng.IntN(4) {
				case 0, 1:
					_, _ = h.RecordActivity(ctx, ActivityInput{MemberID: m.ID, Kind: ActivityPurchase, ExternalID: id, AmountMinor: int64(100 + rng.IntN(5000)), Currency: "USD", OccurredAt: h.clock.now()})
				case 2:
					_, _ = h.Redeem(ctx, m.ID, reward.ID, id)
				case 3:
					if i > 0 {
						_, _ = h.RecordActivity(ctx, ActivityInput{MemberID: m.ID, Kind: ActivityRefund, ExternalID: "r" + id, AmountMinor: 50, Currency: "USD", RefundOf: fmt.Sprintf("g%d-%d", g, i-1), OccurredAt: h.clock.now()})
					}
					h.clock.add(time.Hour * time.Duration(rng.IntN(30)))
					_, _ = h.Points(ctx, m.ID)
				}
			}
		})
	}
	wg.Wait()
	h.checkLedger(t, m)
}

// A process that died after claiming stock but before the debit must not
// hold the stock forever: the sweeper releases it.
func TestSweeperReleasesAbandonedRedemption(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	stock := int64(1)
	reward, _ := h.CreateReward(ctx, RewardInput{Name: "Last one", Cost: 10, Stock: &stock, Active: true})
	m := h.members.add("ann@example.com")
	h.purchase(t, m, "seed", 1000)
	// Simulate the crash: a PENDING redemption holding the only stock slot.
	r := &Redemption{ID: bson.NewObjectID(), MemberID: m.ID, RewardID: reward.ID, IdempotencyKey: "crashed",
		Code: redemptionCode(), Cost: 10, Status: RedemptionPending, CreatedAt: h.clock.now()}
	if _, err := h.rewards.redemptions.InsertOne(ctx, r); err != nil {
		t.Fatal(err)
	}
	if ok, err := h.rewards.claimSlot(ctx, "stock:"+reward.ID.Hex(), 1, r.ID); !ok || err != nil {
		t.Fatalf("claim: %v %v", ok, err)
	}
	if _, err := h.Redeem(ctx, m.ID, reward.ID, "other"); !errors.Is(err, ErrOutOfStock) {
		t.Fatalf("while held: %v", err)
	}
	h.clock.add(3 * time.Minute)
	if n, err := h.SweepRedemptions(ctx); err != nil || n != 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	if _, err := h.Redeem(ctx, m.ID, reward.ID, "after-sweep"); err != nil {
		t.Fatalf("after the sweep the stock is back: %v", err)
	}
	h.checkLedger(t, m)
}
