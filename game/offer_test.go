package game

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/campaign"
	"github.com/regulars/regulars/game/engagement"
	"github.com/regulars/regulars/game/holdout"
	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/offer"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/game/referral"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/testkit"
	"github.com/regulars/regulars/member"
)

func (h *harness) inboxOf(t *testing.T, m *member.Member, kind inbox.Kind) []*inbox.Notification {
	t.Helper()
	ns, _, err := h.inbox.List(context.Background(), m.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []*inbox.Notification
	for _, n := range ns {
		if n.Kind == kind {
			out = append(out, n)
		}
	}
	return out
}

func TestOfferIndexesExist(t *testing.T) {
	h := newHarness(t, nil)
	testkit.RequireIndexes(t, h.db.Collection("accounts"), referral.IndexAccountLastPurchase)
	testkit.RequireIndexes(t, h.db.Collection("engagement"), engagement.IndexAt)
}

// Publishing notifies exactly the eligible members, once each, even when
// two instances publish at once; muted members are skipped.
func TestPublishOfferTargetsOnceAndRespectsMutes(t *testing.T) {
	h := newHarness(t, func(p *program.Program) {
		p.FirstPurchaseBonus = 0
		p.Escalation = nil
		p.Campaigns.Holdout = new(0) // the coupon reminder goes to every member (holdouts: TestHeldOutMembersReceiveNothing)
	})
	ctx := context.Background()
	var gold, silver, muted *member.Member
	for i := range 12 {
		m := h.members.add(fmt.Sprintf("m%d@example.com", i))
		if _, err := h.Rooms().Referrals.Enroll(ctx, m, nil); err != nil {
			t.Fatal(err)
		}
		switch i {
		case 0:
			gold = m
			h.purchase(t, m, "g", 60000) // 6000 points: Gold
		case 1:
			silver = m
			h.purchase(t, m, "s", 15000) // Silver
		case 2:
			muted = m
			h.purchase(t, m, "m", 70000)
			if _, err := h.inbox.SetMuted(ctx, m.ID, []inbox.Category{inbox.CategoryOffers}); err != nil {
				t.Fatal(err)
			}
		}
	}
	now := h.clock.Now()
	o, err := h.Offers().CreateOffer(ctx, offer.OfferInput{Title: "Gold night", Body: "20% off", Benefit: offer.Benefit{Kind: offer.BenefitPercentOff, Value: 20},
		StartsAt: now.Add(-time.Hour), EndsAt: now.Add(72 * time.Hour), CouponValidDays: 2, Target: offer.Targeting{Tiers: []string{"Gold"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Offers().PublishOffer(ctx, o.ID); err != nil {
		t.Fatal(err)
	}
	res := testkit.Race(t, 2, func(int) error { // two instances
		_, err := h.Offers().PublishOffers(ctx, 5)
		return err
	})
	res.Expect(t)
	if got := h.inboxOf(t, gold, inbox.KindOfferAvailable); len(got) != 1 {
		t.Fatalf("gold member got %d offer notifications, want 1", len(got))
	}
	if len(h.inboxOf(t, silver, inbox.KindOfferAvailable)) != 0 || len(h.inboxOf(t, muted, inbox.KindOfferAvailable)) != 0 {
		t.Fatal("an offer reached a member it does not target, or one who muted offers")
	}
	done := testkit.Must(h.Offers().Offer(ctx, o.ID))(t)
	if done.Status != offer.OfferPublished || done.Progress.Processed < 12 {
		t.Fatalf("after publishing: %+v", done)
	}
	// Eligible offers and claims.
	if offers := testkit.Must(h.Offers().OffersFor(ctx, silver.ID))(t); len(offers) != 0 {
		t.Fatalf("silver sees %d offers", len(offers))
	}
	if _, err := h.Offers().ClaimOffer(ctx, silver.ID, o.ID); !errors.Is(err, offer.ErrOfferNotFound) {
		t.Fatalf("silver claiming a gold offer: %v", err)
	}
	c1, err := h.Offers().ClaimOffer(ctx, gold.ID, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	c2 := testkit.Must(h.Offers().ClaimOffer(ctx, gold.ID, o.ID))(t)
	if c1.Code != c2.Code {
		t.Fatal("claiming twice gave two coupons")
	}
	// The coupon reminder goes out once, a day before it expires.
	h.clock.Add(25 * time.Hour)
	for range 2 {
		if _, err := h.Rooms().Campaigns.Run(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	var reminders int
	for _, n := range h.inboxOf(t, gold, inbox.KindOfferAvailable) {
		if n.Key == "coupon-expiring:"+c1.ID {
			reminders++
		}
	}
	if reminders != 1 {
		t.Fatalf("%d coupon reminders, want 1", reminders)
	}
	// A coupon used at the till gets no reminder.
	o2 := testkit.Must(h.Offers().CreateOffer(ctx, offer.OfferInput{Title: "Second", Body: "5% off", Benefit: offer.Benefit{Kind: offer.BenefitPercentOff, Value: 5},
		StartsAt: h.clock.Now().Add(-time.Hour), EndsAt: h.clock.Now().Add(72 * time.Hour), CouponValidDays: 1}))(t)
	if _, err := h.Offers().PublishOffer(ctx, o2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Offers().PublishOffers(ctx, 100); err != nil {
		t.Fatal(err)
	}
	used := testkit.Must(h.Offers().ClaimOffer(ctx, gold.ID, o2.ID))(t)
	if _, err := h.Offers().RedeemCoupon(ctx, used.Code, "order-1", bson.ObjectID{}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Rooms().Campaigns.Run(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for _, n := range h.inboxOf(t, gold, inbox.KindOfferAvailable) {
		if n.Key == "coupon-expiring:"+used.ID {
			t.Fatalf("a reminder of a coupon used at the till: %+v", n)
		}
	}
}

func TestBadOffersRefused(t *testing.T) {
	h := newHarness(t, nil)
	now := h.clock.Now()
	base := func() offer.OfferInput {
		return offer.OfferInput{Title: "T", Body: "B", Benefit: offer.Benefit{Kind: offer.BenefitBonusPoints, Value: 10}, StartsAt: now, EndsAt: now.Add(time.Hour), CouponValidDays: 1}
	}
	ghost := bson.NewObjectID()
	for field, spoil := range map[string]func(*offer.OfferInput){
		"endsAt":          func(o *offer.OfferInput) { o.EndsAt = o.StartsAt.Add(-time.Minute) },
		"target.tiers[0]": func(o *offer.OfferInput) { o.Target.Tiers = []string{"Platinum"} },
		"target.badgeId":  func(o *offer.OfferInput) { o.Target.BadgeID = &ghost },
		"benefit.value":   func(o *offer.OfferInput) { o.Benefit = offer.Benefit{Kind: offer.BenefitPercentOff, Value: 150} },
	} {
		in := base()
		spoil(&in)
		_, err := h.Offers().CreateOffer(context.Background(), in)
		if e, ok := input.As(err); !ok || e.Field != field {
			t.Errorf("%s: %v", field, err)
		}
	}
	if n := testkit.Count(t, h.db.Collection("offers"), nil); n != 0 {
		t.Fatalf("refused offers stored: %d", n)
	}
}

type birthdayMembers struct{ f *fakeMembers }

func (b birthdayMembers) WithBirthday(_ context.Context, month time.Month, day int, after bson.ObjectID, limit int) ([]*member.Member, error) {
	b.f.mu.Lock()
	defer b.f.mu.Unlock()
	var out []*member.Member
	for _, m := range b.f.m {
		if m.Birthday != nil && m.Birthday.Month == month && m.Birthday.Day == day && m.ID.Hex() > after.Hex() {
			out = append(out, m)
		}
	}
	return out, nil
}

func TestCampaignsSendOncePerPeriod(t *testing.T) {
	h := newHarness(t, func(p *program.Program) {
		p.BirthdayBonus = 300
		p.Campaigns.WinBackDays = 30
		p.Campaigns.Holdout = new(0) // every member messaged (holdouts: TestHeldOutMembersReceiveNothing)
	})
	ctx := context.Background()
	ann := h.members.add("ann@example.com")
	ann.Timezone = "Pacific/Kiritimati" // UTC+14: her birthday starts before UTC's
	ann.Birthday = &member.Date{Year: 1990, Month: 6, Day: 16}
	bob := h.members.add("bob@example.com")
	for _, m := range []*member.Member{ann, bob} {
		if _, err := h.Rooms().Referrals.Enroll(ctx, m, nil); err != nil {
			t.Fatal(err)
		}
	}
	h.purchase(t, bob, "last", 1000)
	// 2026-06-15 12:00 UTC is 16 June 02:00 in Kiritimati: before the 09:00 send.
	bd := birthdayMembers{h.members}
	if _, err := h.Rooms().Campaigns.Run(ctx, bd); err != nil {
		t.Fatal(err)
	}
	if len(h.inboxOf(t, ann, inbox.KindBirthday)) != 0 {
		t.Fatal("birthday greeting before the local hour")
	}
	h.clock.Add(8 * time.Hour) // 10:00 on her birthday
	for range 3 {
		if _, err := h.Rooms().Campaigns.Run(ctx, bd); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(h.inboxOf(t, ann, inbox.KindBirthday)); n != 1 {
		t.Fatalf("%d birthday greetings, want 1", n)
	}
	if p := h.points(t, ann); p.Balance != 300 {
		t.Fatalf("birthday reward: balance %d", p.Balance)
	}
	// Win-back: once per spell of inactivity.
	h.clock.Add(31 * 24 * time.Hour)
	for range 2 {
		if _, err := h.Rooms().Campaigns.Run(ctx, bd); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(h.inboxOf(t, bob, inbox.KindWinBack)); n != 1 {
		t.Fatalf("%d win-back messages in one spell, want 1", n)
	}
	h.purchase(t, bob, "back", 1000)
	h.clock.Add(31 * 24 * time.Hour)
	if _, err := h.Rooms().Campaigns.Run(ctx, bd); err != nil {
		t.Fatal(err)
	}
	if n := len(h.inboxOf(t, bob, inbox.KindWinBack)); n != 2 {
		t.Fatalf("%d win-back messages after a second spell, want 2", n)
	}
}

// flakyNotifier fails the first send to one member.
type flakyNotifier struct {
	Notifier
	fail   bson.ObjectID
	failed atomic.Bool
}

func (f *flakyNotifier) Send(ctx context.Context, m inbox.Message) (*inbox.Notification, error) {
	if m.MemberID == f.fail && f.failed.CompareAndSwap(false, true) {
		return nil, errors.New("database timed out")
	}
	return f.Notifier.Send(ctx, m)
}

// A send failing half-way through a batch keeps the progress made before
// it, and the retry finishes the job with every member notified once.
func TestPublishOfferKeepsProgressPastAFailure(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	var ids []bson.ObjectID
	for i := range 10 {
		m := h.members.add(fmt.Sprintf("m%d@example.com", i))
		if _, err := h.Rooms().Referrals.Enroll(ctx, m, nil); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	slices.SortFunc(ids, func(a, b bson.ObjectID) int { return bytes.Compare(a[:], b[:]) })
	flaky := &flakyNotifier{Notifier: h.notify, fail: ids[6]}
	h.notify = flaky
	now := h.clock.Now()
	o, err := h.Offers().CreateOffer(ctx, offer.OfferInput{Title: "Flash", Body: "10% off", Benefit: offer.Benefit{Kind: offer.BenefitPercentOff, Value: 10},
		StartsAt: now.Add(-time.Hour), EndsAt: now.Add(time.Hour), CouponValidDays: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Offers().PublishOffer(ctx, o.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Offers().PublishOffers(ctx, 100); err == nil {
		t.Fatal("the failed send was not reported")
	}
	if got := testkit.Must(h.Offers().Offer(ctx, o.ID))(t); got.Status != offer.OfferPublishing || got.Progress.Processed != 6 || got.Progress.Notified != 6 {
		t.Fatalf("after the failure: %+v %+v, want the 6 members before it processed", got.Status, got.Progress)
	}
	if _, err := h.Offers().PublishOffers(ctx, 100); err != nil {
		t.Fatal(err)
	}
	got := testkit.Must(h.Offers().Offer(ctx, o.ID))(t)
	if got.Status != offer.OfferPublished || got.Progress.Processed != 10 || got.Progress.Notified != 10 {
		t.Fatalf("after the retry: %+v %+v", got.Status, got.Progress)
	}
	for _, id := range ids {
		if n := h.inboxOf(t, &member.Member{ID: id}, inbox.KindOfferAvailable); len(n) != 1 {
			t.Fatalf("member %s has %d offer notifications, want 1", id.Hex(), len(n))
		}
	}
}

// Targeting: each condition of an offer must hold for a member to see it
// and claim it; the others are told it does not exist.
func TestOfferTargeting(t *testing.T) {
	h := newHarness(t, func(p *program.Program) { p.FirstPurchaseBonus = 0; p.Escalation = nil })
	ctx := context.Background()
	add := func(email string) *member.Member {
		m := h.members.add(email)
		if _, err := h.Rooms().Referrals.Enroll(ctx, m, nil); err != nil {
			t.Fatal(err)
		}
		return m
	}
	ann, bob, carl, dave := add("ann@example.com"), add("bob@example.com"), add("carl@example.com"), add("dave@example.com")
	bob.Birthday = &member.Date{Year: 1990, Month: 6, Day: 30} // June, like the harness clock
	carl.Birthday = &member.Date{Year: 1990, Month: 1, Day: 2}
	badge := testkit.Must(h.Engagement().CreateBadge(ctx, engagement.BadgeInput{Name: "First", Counter: engagement.CounterPurchases, Levels: []engagement.BadgeLevel{{Name: "ONE", Threshold: 1}}}))(t)
	h.purchase(t, ann, "a1", 1000) // ann earns the badge, and buys: the only one active lately
	now := h.clock.Now()
	published := func(title string, target offer.Targeting) *offer.Offer {
		o, err := h.Offers().CreateOffer(ctx, offer.OfferInput{Title: title, Body: "b", Benefit: offer.Benefit{Kind: offer.BenefitPercentOff, Value: 10},
			StartsAt: now.Add(-time.Hour), EndsAt: now.Add(90 * 24 * time.Hour), CouponValidDays: 1, Target: target})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.Offers().PublishOffer(ctx, o.ID); err != nil {
			t.Fatal(err)
		}
		return o
	}
	listed := published("listed", offer.Targeting{Members: []bson.ObjectID{ann.ID, carl.ID}})
	badged := published("badged", offer.Targeting{BadgeID: &badge.ID})
	birthday := published("birthday", offer.Targeting{BirthdayThisMonth: true})
	inactive := published("inactive", offer.Targeting{InactiveDays: 30})
	want := map[*member.Member][]*offer.Offer{
		ann:  {listed, badged},
		bob:  {birthday, inactive},
		carl: {listed, inactive},
		dave: {inactive},
	}
	for m, offers := range want {
		got := testkit.Must(h.Offers().OffersFor(ctx, m.ID))(t)
		var titles, wantTitles []string
		for _, o := range got {
			titles = append(titles, o.Title)
		}
		for _, o := range offers {
			wantTitles = append(wantTitles, o.Title)
		}
		slices.Sort(titles)
		slices.Sort(wantTitles)
		if !slices.Equal(titles, wantTitles) {
			t.Errorf("%s sees %v, want %v", m.Email, titles, wantTitles)
		}
	}
	if _, err := h.Offers().ClaimOffer(ctx, dave.ID, listed.ID); !errors.Is(err, offer.ErrOfferNotFound) {
		t.Errorf("dave claiming an offer not for him: %v", err)
	}
	claims := func(want int64, ok map[*member.Member]bool) {
		t.Helper()
		for m, ok := range ok {
			_, err := h.Offers().ClaimOffer(ctx, m.ID, inactive.ID)
			if ok != (err == nil) || (!ok && !errors.Is(err, offer.ErrOfferNotFound)) {
				t.Errorf("%s claiming the inactive offer: %v", m.Email, err)
			}
		}
		if n := testkit.Count(t, h.db.Collection("offer_claims"), nil); n != want {
			t.Fatalf("%d claims stored, want %d", n, want)
		}
	}
	claims(3, map[*member.Member]bool{ann: false, bob: true, carl: true, dave: true})
	// Forty days on, ann is inactive too.
	h.clock.Add(40 * 24 * time.Hour)
	claims(4, map[*member.Member]bool{ann: true})
}

// Claiming: a draft, future or ended offer is unavailable; a points-price
// coupon needs the points and takes them once; a bonus-points offer
// credits once however often it is claimed.
func TestClaimOfferBenefits(t *testing.T) {
	h := newHarness(t, func(p *program.Program) { p.FirstPurchaseBonus = 0; p.Escalation = nil })
	ctx := context.Background()
	m := h.members.add("ann@example.com")
	h.purchase(t, m, "seed", 1000) // 100 points
	now := h.clock.Now()
	create := func(b offer.Benefit, starts, ends time.Time, publish bool) *offer.Offer {
		o, err := h.Offers().CreateOffer(ctx, offer.OfferInput{Title: string(b.Kind), Body: "b", Benefit: b, StartsAt: starts, EndsAt: ends, CouponValidDays: 3})
		if err != nil {
			t.Fatal(err)
		}
		if publish {
			if _, err := h.Offers().PublishOffer(ctx, o.ID); err != nil {
				t.Fatal(err)
			}
		}
		return o
	}
	running := func(b offer.Benefit) *offer.Offer {
		return create(b, h.clock.Now().Add(-time.Hour), h.clock.Now().Add(time.Hour), true)
	}
	draft := create(offer.Benefit{Kind: offer.BenefitPercentOff, Value: 5}, now.Add(-time.Hour), now.Add(time.Hour), false)
	future := create(offer.Benefit{Kind: offer.BenefitPercentOff, Value: 5}, now.Add(time.Hour), now.Add(2*time.Hour), true)
	for _, o := range []*offer.Offer{draft, future} {
		if _, err := h.Offers().ClaimOffer(ctx, m.ID, o.ID); !errors.Is(err, offer.ErrOfferUnavailable) {
			t.Errorf("claiming a %s offer: %v", o.Status, err)
		}
	}
	if _, err := h.Offers().ClaimOffer(ctx, m.ID, bson.NewObjectID()); !errors.Is(err, offer.ErrOfferNotFound) {
		t.Errorf("claiming no offer: %v", err)
	}
	dear := running(offer.Benefit{Kind: offer.BenefitPointsPrice, Value: 150})
	if _, err := h.Offers().ClaimOffer(ctx, m.ID, dear.ID); !errors.Is(err, ledger.ErrInsufficientPoints) {
		t.Fatalf("a coupon dearer than the balance: %v", err)
	}
	cheap := running(offer.Benefit{Kind: offer.BenefitPointsPrice, Value: 60})
	bonus := running(offer.Benefit{Kind: offer.BenefitBonusPoints, Value: 25})
	for range 2 {
		for _, o := range []*offer.Offer{cheap, bonus} {
			c, err := h.Offers().ClaimOffer(ctx, m.ID, o.ID)
			if err != nil || c.Code == "" || !c.ExpiresAt.Equal(c.ClaimedAt.AddDate(0, 0, 3)) {
				t.Fatalf("claim %s: %+v %v", o.Title, c, err)
			}
		}
	}
	if got := h.points(t, m).Balance; got != 100-60+25 {
		t.Fatalf("balance %d, want 65", got)
	}
	h.clock.Add(2 * time.Hour)
	if _, err := h.Offers().ClaimOffer(ctx, m.ID, running(offer.Benefit{Kind: offer.BenefitPercentOff, Value: 5}).ID); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Offers().ClaimOffer(ctx, m.ID, dear.ID); !errors.Is(err, offer.ErrOfferUnavailable) {
		t.Errorf("claiming an ended offer: %v", err)
	}
	h.checkLedger(t, m)
}

// Members a campaign or offer holds out get nothing from it, and are
// recorded as held out; the others are messaged and recorded as treated.
func TestHeldOutMembersReceiveNothing(t *testing.T) {
	h := newHarness(t, func(p *program.Program) { p.Campaigns.WinBackDays = 30; p.Campaigns.Holdout = new(50) })
	ctx := context.Background()
	var ms []*member.Member
	for i := range 30 {
		m := h.members.add(fmt.Sprintf("m%d@example.com", i))
		if _, err := h.Rooms().Referrals.Enroll(ctx, m, nil); err != nil {
			t.Fatal(err)
		}
		h.purchase(t, m, fmt.Sprint("p", i), 1000)
		ms = append(ms, m)
	}
	now := h.clock.Now()
	o, err := h.Offers().CreateOffer(ctx, offer.OfferInput{Title: "Flash", Body: "10% off", Benefit: offer.Benefit{Kind: offer.BenefitPercentOff, Value: 10},
		StartsAt: now.Add(-time.Hour), EndsAt: now.Add(90 * 24 * time.Hour), CouponValidDays: 1, HoldoutPercent: 50})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Offers().PublishOffer(ctx, o.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Offers().PublishOffers(ctx, 100); err != nil {
		t.Fatal(err)
	}
	h.clock.Add(31 * 24 * time.Hour)
	for range 2 {
		if _, err := h.Rooms().Campaigns.Run(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	groups := func(campaign string) map[bson.ObjectID]holdout.Group {
		out := map[bson.ObjectID]holdout.Group{}
		if err := holdout.New(h.db).Each(ctx, campaign, now.Add(-time.Hour), h.clock.Now().Add(time.Hour), func(a *holdout.Assignment) error {
			out[a.MemberID] = a.Group
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	winBack, offers := groups(campaign.WinBack), groups(offer.Campaign(o.ID))
	heldCount := map[holdout.Group]int{}
	for _, m := range ms {
		wb, og := winBack[m.ID], offers[m.ID]
		heldCount[wb]++
		heldCount[og]++
		if wb == "" || og == "" {
			t.Fatalf("member %s not recorded: win-back %q, offer %q", m.ID.Hex(), wb, og)
		}
		if n := len(h.inboxOf(t, m, inbox.KindWinBack)); (wb == holdout.Held) != (n == 0) || n > 1 {
			t.Errorf("member in %s of win-back got %d messages", wb, n)
		}
		var offerNotes int
		for _, n := range h.inboxOf(t, m, inbox.KindOfferAvailable) {
			if n.Related != nil && n.Related.ID == o.ID.Hex() {
				offerNotes++
			}
		}
		listed, err := h.Offers().OffersFor(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		_, claimErr := h.Offers().ClaimOffer(ctx, m.ID, o.ID)
		if og == holdout.Held {
			if offerNotes != 0 || len(listed) != 0 || !errors.Is(claimErr, offer.ErrOfferNotFound) {
				t.Errorf("held out of the offer: %d notifications, %d offers listed, claim: %v", offerNotes, len(listed), claimErr)
			}
		} else if offerNotes != 1 || len(listed) != 1 || claimErr != nil {
			t.Errorf("offered: %d notifications, %d offers listed, claim: %v", offerNotes, len(listed), claimErr)
		}
	}
	if heldCount[holdout.Held] == 0 || heldCount[holdout.Treated] == 0 {
		t.Fatalf("groups %v: want members on both sides", heldCount)
	}
}
