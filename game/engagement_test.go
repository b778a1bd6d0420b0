package game

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/engagement"
	"github.com/regulars/regulars/game/leaderboard"
	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/internal/testkit"
	"github.com/regulars/regulars/member"
	"github.com/rivo/uniseg"
)

func TestBadgeLevelsAwardedOnceUnderConcurrency(t *testing.T) {
	h := newHarness(t, func(p *program.Program) { p.FirstPurchaseBonus = 0; p.Escalation = nil })
	ctx := context.Background()
	_, err := h.Engagement().CreateBadge(ctx, engagement.BadgeInput{Name: "Regular", Counter: engagement.CounterPurchases, Levels: []engagement.BadgeLevel{
		{Name: "BRONZE", Threshold: 2, BonusPoints: 100}, {Name: "SILVER", Threshold: 5, BonusPoints: 300},
	}})
	if err != nil {
		t.Fatal(err)
	}
	m := h.members.add("ann@example.com")
	// Six purchases, each reported twice, all at once.
	res := testkit.Race(t, 12, func(i int) error {
		_, err := h.RecordActivity(ctx, ActivityInput{MemberID: m.ID, Kind: program.ActivityPurchase, ExternalID: fmt.Sprint("o", i/2), AmountMinor: 1000, Currency: "USD", OccurredAt: h.clock.Now()})
		return err
	})
	res.Expect(t)
	if res.OK() != 12 {
		t.Fatalf("%d of 12 reports succeeded", res.OK())
	}
	earned, progress, err := h.Engagement().MemberBadges(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(earned) != 2 || earned[0].Level != "BRONZE" || earned[1].Level != "SILVER" || len(progress) != 0 {
		t.Fatalf("earned %+v, in progress %+v", earned, progress)
	}
	// 6 purchases × 100 points + 100 + 300 bonus, each bonus once.
	if got := h.points(t, m).Balance; got != 600+400 {
		t.Fatalf("balance %d, want 1000", got)
	}
	if n := testkit.Count(t, h.ledger.Collection(), bson.D{{Key: "memberId", Value: m.ID}, {Key: "source.kind", Value: ledger.SourceBadge}}); n != 2 {
		t.Fatalf("%d badge bonus entries, want 2", n)
	}
	if n := testkit.Count(t, h.activities(), bson.D{{Key: "memberId", Value: m.ID}}); n != 6 {
		t.Fatalf("%d activities stored, want 6", n)
	}
	h.checkLedger(t, m)
}

func TestBadgeWindowSecretAndBackfill(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	ann, bob := h.members.add("ann@example.com"), h.members.add("bob@example.com")
	for _, m := range []*member.Member{ann, bob} {
		if _, err := h.Rooms().Referrals.Enroll(ctx, m, nil); err != nil {
			t.Fatal(err)
		}
	}
	// Ann buys three times in June (the harness clock), Bob once.
	for i := range 3 {
		h.purchase(t, ann, fmt.Sprint("a", i), 500)
	}
	h.purchase(t, bob, "b0", 500)
	// Defined afterwards: existing members are evaluated in the background.
	june, err := h.Engagement().CreateBadge(ctx, engagement.BadgeInput{Name: "June regular", Counter: engagement.CounterPurchases,
		Window: &engagement.BadgeWindow{From: "2026-06", To: "2026-06"}, Levels: []engagement.BadgeLevel{{Name: "GOLD", Threshold: 3}}, Secret: true})
	if err != nil {
		t.Fatal(err)
	}
	if june.Backfill.Done || june.Backfill.Total != 2 {
		t.Fatalf("new badge backfill: %+v", june.Backfill)
	}
	for range 3 {
		if _, err := h.Engagement().BackfillBadges(ctx, 1); err != nil {
			t.Fatal(err)
		}
	}
	all := testkit.Must(h.Engagement().Badges(ctx))(t)
	if !all[0].Backfill.Done || all[0].Backfill.Processed != 2 {
		t.Fatalf("backfill progress: %+v", all[0].Backfill)
	}
	annEarned, _, err := h.Engagement().MemberBadges(ctx, ann.ID)
	if err != nil {
		t.Fatal(err)
	}
	bobEarned, bobProgress, err := h.Engagement().MemberBadges(ctx, bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(annEarned) != 1 || len(bobEarned) != 0 {
		t.Fatalf("ann earned %+v, bob earned %+v", annEarned, bobEarned)
	}
	if len(bobProgress) != 0 {
		t.Fatalf("a secret badge shows in bob's progress: %+v", bobProgress)
	}
	// A July purchase does not count toward June.
	h.clock.Add(20 * 24 * time.Hour)
	h.purchase(t, bob, "b1", 500)
	h.purchase(t, bob, "b2", 500)
	if e, _, err := h.Engagement().MemberBadges(ctx, bob.ID); err != nil || len(e) != 0 {
		t.Fatalf("July purchases earned the June badge: %+v %v", e, err)
	}
}

func TestStreakThroughActivitiesAndFreezePurchase(t *testing.T) {
	h := newHarness(t, func(p *program.Program) { p.Streak.FreezePrice = 100; p.Streak.FreezeMax = 1; p.Streak.FreezeEvery = 0 })
	ctx := context.Background()
	m := h.members.add("ann@example.com")
	if _, err := h.Engagement().BuyStreakFreeze(ctx, m.ID, "f0"); err == nil {
		t.Fatal("a freeze bought without points")
	}
	h.purchase(t, m, "day1", 2000) // 200 + 50 points
	h.clock.Add(24 * time.Hour)
	if _, err := h.CheckIn(ctx, m.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := h.CheckIn(ctx, m.ID, false); err != nil { // same day: once
		t.Fatal(err)
	}
	v, err := h.Engagement().BuyStreakFreeze(ctx, m.ID, "f1")
	if err != nil || v.Freezes != 1 || v.Current != 2 {
		t.Fatalf("after buying a freeze: %+v %v", v, err)
	}
	if _, err := h.Engagement().BuyStreakFreeze(ctx, m.ID, "f2"); err == nil {
		t.Fatal("bought past the freeze limit")
	}
	h.clock.Add(48 * time.Hour) // one day missed
	if _, err := h.CheckIn(ctx, m.ID, false); err != nil {
		t.Fatal(err)
	}
	v = testkit.Must(h.Engagement().Streak(ctx, m.ID))(t)
	if v.Current != 3 || v.Freezes != 0 || len(v.FrozenDays) != 1 {
		t.Fatalf("the freeze should have bridged the missed day: %+v", v)
	}
	h.checkLedger(t, m)
}

// Ranks are standard competition ranks and agree with a naive count, for
// random scores with many ties.
func TestLeaderboardRanks(t *testing.T) {
	h := newHarness(t, func(p *program.Program) { p.FirstPurchaseBonus = 0; p.Escalation = nil })
	ctx := context.Background()
	board, err := h.Leaderboards().Board(ctx, leaderboard.PeriodWeekly, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var ms []*member.Member
	scores := map[bson.ObjectID]int64{}
	for i := range 40 {
		m := h.members.add(fmt.Sprintf("m%d@example.com", i))
		ms = append(ms, m)
		units := int64(1 + rng.IntN(4)) // many ties
		h.purchase(t, m, fmt.Sprint("p", i), units*100)
		scores[m.ID] = units * 10
	}
	for _, m := range ms {
		got, err := h.Rooms().Boards.RankOf(ctx, board, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		var above int64
		for _, s := range scores {
			if s > scores[m.ID] {
				above++
			}
		}
		if got.Score != scores[m.ID] || got.Rank != above+1 {
			t.Fatalf("member score %d rank %d, want score %d rank %d", got.Score, got.Rank, scores[m.ID], above+1)
		}
	}
	// Pages are ordered by score, then member id, with shared ranks.
	var all []leaderboard.Standing
	var after *leaderboard.Standing
	for {
		page, more, err := h.Rooms().Boards.Top(ctx, board, after, 7)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if !more {
			break
		}
		after = &page[len(page)-1]
	}
	if len(all) != 40 {
		t.Fatalf("paged %d members, want 40", len(all))
	}
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		if a.Score < b.Score || (a.Score == b.Score && (a.Rank != b.Rank || a.MemberID.Hex() > b.MemberID.Hex())) || (a.Score > b.Score && b.Rank != int64(i)+1) {
			t.Fatalf("rows %d and %d out of order: %+v %+v", i-1, i, a, b)
		}
	}
	// Around me: the member in the middle.
	mid := all[20]
	around, err := h.Rooms().Boards.AroundMe(ctx, board, mid.MemberID, 3)
	if err != nil || len(around) != 7 || around[3].MemberID != mid.MemberID || !slices.EqualFunc(around, all[17:24], func(a, b leaderboard.Standing) bool { return a.MemberID == b.MemberID }) {
		t.Fatalf("around %+v: %+v %v", mid, around, err)
	}
	// Opting out hides the member from others but not from themself.
	if err := h.Leaderboards().SetOptOut(ctx, all[0].MemberID, true); err != nil {
		t.Fatal(err)
	}
	top, _, err := h.Rooms().Boards.Top(ctx, board, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	if top[0].MemberID == all[0].MemberID {
		t.Fatal("an opted-out member still shows")
	}
	if me := testkit.Must(h.Rooms().Boards.RankOf(ctx, board, all[0].MemberID))(t); me.Rank != 1 {
		t.Fatalf("opted-out member's own rank: %+v", me)
	}
	// Last week's board stays, and becomes final after the grace.
	h.clock.Add(8 * 24 * time.Hour)
	old := board
	if r := testkit.Must(h.Rooms().Boards.RankOf(ctx, old, ms[0].ID))(t); r.Score != scores[ms[0].ID] {
		t.Fatalf("last week's score gone: %+v", r)
	}
	if b := testkit.Must(h.Leaderboards().Board(ctx, leaderboard.PeriodWeekly, h.clock.Now().Add(-8*24*time.Hour)))(t); !b.Final {
		t.Fatal("last week's board is not final after the grace")
	}
	if _, err := h.Leaderboards().Board(ctx, "DAILY", time.Time{}); err == nil {
		t.Fatal("unknown period accepted")
	}
}

// Concurrent purchases by many members: every rank still equals the naive
// count. Rests on atomic single-document updates (serialized on the embedded database).
func TestLeaderboardRanksUnderConcurrency(t *testing.T) {
	h := newHarness(t, func(p *program.Program) { p.FirstPurchaseBonus = 0; p.Escalation = nil })
	ctx := context.Background()
	var ms []*member.Member
	for i := range 30 {
		ms = append(ms, h.members.add(fmt.Sprintf("m%d@example.com", i)))
	}
	// Member i buys i%4+1 times: 75 purchases, all released at once.
	type purchase struct{ member, n int }
	var ps []purchase
	for i := range ms {
		for j := range i%4 + 1 {
			ps = append(ps, purchase{i, j})
		}
	}
	res := testkit.Race(t, len(ps), func(k int) error {
		p := ps[k]
		_, err := h.RecordActivity(ctx, ActivityInput{MemberID: ms[p.member].ID, Kind: program.ActivityPurchase, ExternalID: fmt.Sprintf("p%d-%d", p.member, p.n), AmountMinor: 1000, Currency: "USD", OccurredAt: h.clock.Now()})
		return err
	})
	res.Expect(t)
	if res.OK() != len(ps) {
		t.Fatalf("%d of %d purchases succeeded", res.OK(), len(ps))
	}
	if n := testkit.Count(t, h.activities(), nil); n != int64(len(ps)) {
		t.Fatalf("%d activities stored, want %d", n, len(ps))
	}
	board, err := h.Leaderboards().Board(ctx, leaderboard.PeriodAllTime, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range ms {
		got, err := h.Rooms().Boards.RankOf(ctx, board, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		mine := int64(i%4+1) * 100
		var above int64
		for k := range ms {
			if int64(k%4+1)*100 > mine {
				above++
			}
		}
		if got.Score != mine || got.Rank != above+1 {
			t.Fatalf("member %d: score %d rank %d, want %d and %d", i, got.Score, got.Rank, mine, above+1)
		}
	}
}

// A process that died between a score and its tree leaves the tree wrong;
// the repair job notices and rebuilds it.
func TestRepairBoardsRebuildsABrokenTree(t *testing.T) {
	h := newHarness(t, func(p *program.Program) { p.FirstPurchaseBonus = 0; p.Escalation = nil })
	ctx := context.Background()
	var ms []*member.Member
	for i := range 6 {
		m := h.members.add(fmt.Sprintf("m%d@example.com", i))
		ms = append(ms, m)
		h.purchase(t, m, fmt.Sprint("p", i), int64(100*(i+1)))
	}
	board := testkit.Must(h.Leaderboards().Board(ctx, leaderboard.PeriodAllTime, time.Time{}))(t)
	if n, err := h.Leaderboards().Repair(ctx); err != nil || n != 0 {
		t.Fatalf("a sound tree was repaired: %d %v", n, err)
	}
	if _, err := h.ledger.Collection().Database().Collection("leaderboard_tree").DeleteMany(ctx, bson.D{}); err != nil { // the crash
		t.Fatal(err)
	}
	if n, err := h.Leaderboards().Repair(ctx); err != nil || n != 0 {
		t.Fatalf("boards written a moment ago were rebuilt (%d, %v): a move may still be in flight", n, err)
	}
	h.clock.Add(leaderboard.Settle + time.Second)
	if n, err := h.Leaderboards().Repair(ctx); err != nil || n != 3 {
		t.Fatalf("repaired %d boards (%v), want 3", n, err)
	}
	for i, m := range ms {
		if r := testkit.Must(h.Rooms().Boards.RankOf(ctx, board, m.ID))(t); r.Rank != int64(6-i) {
			t.Fatalf("member %d: rank %d after repair, want %d", i, r.Rank, 6-i)
		}
	}
}

// A badge whose names fill their limits makes a BADGE_UNLOCKED title longer
// than a notification's: the title is cut, and the activity that unlocked
// it is recorded once with its entries, not refused after they were
// written (a retry then earned the points again).
func TestALongBadgeNameUnlocksOnceWithACutTitle(t *testing.T) {
	h := newHarness(t, func(p *program.Program) { p.FirstPurchaseBonus = 0; p.Escalation = nil })
	ctx := context.Background()
	name := strings.Repeat("Very regular reviewer ", 5)[:100]
	testkit.Must(h.Engagement().CreateBadge(ctx, engagement.BadgeInput{Name: name, Counter: engagement.CounterPurchases, Levels: []engagement.BadgeLevel{
		{Name: strings.Repeat("L", 40), Threshold: 1, BonusPoints: 5},
	}}))(t)
	m := h.members.add("long@example.com")
	h.purchase(t, m, "long-1", 1000)
	h.purchase(t, m, "long-1", 1000) // the client's retry: a replay
	if got := h.points(t, m).Balance; got != 100+5 {
		t.Fatalf("balance %d, want 105 (the purchase and the badge's bonus, once)", got)
	}
	earned, _ := testkit.Must2(h.Engagement().MemberBadges(ctx, m.ID))(t)
	if len(earned) != 1 {
		t.Fatalf("badges earned: %+v", earned)
	}
	ns, _ := testkit.Must2(h.inbox.List(ctx, m.ID, 0, 20))(t)
	var unlocked *inbox.Notification
	for _, n := range ns {
		if n.Kind == inbox.KindBadgeUnlocked {
			unlocked = n
		}
	}
	if unlocked == nil {
		t.Fatal("no BADGE_UNLOCKED notification")
	}
	if n := uniseg.GraphemeClusterCount(unlocked.Title); n > inbox.MaxTitle || !strings.HasSuffix(unlocked.Title, "…") {
		t.Fatalf("title of %d characters: %q", n, unlocked.Title)
	}
}
