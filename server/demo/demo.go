// Package demo fills an empty database with a demo brand, Demo Coffee,
// through the same services as the API (SEED_DEMO=1, or the -demo flag),
// and says how to use it.
package demo

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mathrand "math/rand/v2"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/regulars/regulars/community"
	"github.com/regulars/regulars/community/forum"
	"github.com/regulars/regulars/community/moderation"
	"github.com/regulars/regulars/game"
	"github.com/regulars/regulars/game/activity"
	"github.com/regulars/regulars/game/engagement"
	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/offer"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/game/reward"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/member/auth"
)

// Demo data: a small brand a newcomer can explore at once (-demo or
// SEED_DEMO=1). Every step goes through the domain services and is keyed
// (emails, activity external ids, redemption keys, names), so a run that
// stopped half-way finishes on the next; the BRAND account, created last,
// marks a complete demo, and a later run adds nothing.

const (
	demoDomain = "demo.regulars.example"
	// BrandEmail logs in the demo's BRAND user (its password is printed once).
	BrandEmail   = "brand@" + demoDomain
	demoModEmail = "moderator@" + demoDomain
	// MemberPassword is shared by the 50 demo customers and printed;
	// it is fixed so that a resumed run can log them in again.
	MemberPassword = "regulars demo member"
	// MemberCount is how many demo customers there are.
	MemberCount = 50
	demoWeeks   = 12
)

var demoNames = []string{
	"Ava", "Ben", "Chloe", "Dev", "Elena", "Finn", "Grace", "Hugo", "Iris", "Jonas",
	"Kira", "Leo", "Maya", "Nico", "Olivia", "Paul", "Quinn", "Rosa", "Sam", "Tara",
	"Umar", "Vera", "Will", "Xenia", "Yusuf", "Zoe", "Amir", "Bea", "Carlos", "Dana",
	"Emil", "Fatima", "Gus", "Hana", "Ivan", "Jade", "Kofi", "Lena", "Marco", "Nora",
	"Oscar", "Priya", "Rafael", "Sofia", "Theo", "Uma", "Victor", "Wen", "Yara", "Zane",
}

var demoTimezones = []string{"Europe/Paris", "America/New_York", "Europe/London", "America/Los_Angeles", "Asia/Tokyo", "Europe/Berlin"}

// demoProfile is how a demo member shops.
type demoProfile int

const (
	demoRegular  demoProfile = iota // buys most weeks, up to today
	demoLapsed                      // stopped 6 or more weeks ago
	demoExpiring                    // bought 11–12 weeks ago only: points expire within days
	demoNearTier                    // a little short of the next tier
)

func demoProfileOf(i int) demoProfile {
	switch i % 10 {
	case 5, 6:
		return demoLapsed
	case 7:
		return demoExpiring
	case 8, 9:
		return demoNearTier
	}
	return demoRegular
}

// demoProgram is the brand's program: 10 points per dollar, 2× and 3× on
// the second and third purchase, points living 90 days, so the oldest demo
// purchases are about to expire.
func demoProgram() program.Program {
	p := program.Default()
	p.PointsExpireDays = 90
	p.ReturnWindowDays = 14
	p.Tiers = []program.Tier{
		{Name: "Member", Threshold: 0, EarnMultiplierPercent: 100, Benefits: []string{}},
		{Name: "Silver", Threshold: 1000, EarnMultiplierPercent: 125, Benefits: []string{"early-access"}},
		{Name: "Gold", Threshold: 3000, EarnMultiplierPercent: 150, Benefits: []string{"early-access", "members-events"}},
	}
	p.Campaigns.WinBackDays = 30
	p.Campaigns.PointsExpiringDays = 14
	return p
}

// demoResult is what a seeding run reports.
type demoResult struct {
	created  bool // false: the demo was there already, nothing added
	notEmpty bool // the database holds other members: nothing added

	brandPassword, moderatorPassword string
}

// Services are what the demo is made through: the database and the
// services the API runs on it.
type Services struct {
	DB      *mongo.Database
	Members *member.Service
	Auth    *auth.Service
	Game    *game.Service
	Inbox   *inbox.Inbox
	// Community makes the demo's space, its threads and the flagged post
	// the demo MODERATOR finds in the review queue.
	Community *community.Service
}

// seeder makes the demo through Services.
type seeder struct{ Services }

// Seed fills an empty database with the demo brand and prints how to use
// it to out: generatedKey is the development service key (kept with the data) ("" if
// SERVICE_API_KEYS has one), addr where the server listens. Call it once
// the database is ready. It says whether it added the demo (false: it was
// there already, or the database holds other members).
func Seed(ctx context.Context, svc Services, out io.Writer, generatedKey, addr string) (bool, error) {
	m := seeder{svc}
	var res demoResult
	var err error
	// A busy embedded database may time a step out; every step is keyed,
	// so trying the whole run again finishes it without repeating anything.
	for attempt := 1; ; attempt++ {
		res, err = m.seedDemoData(ctx)
		if err == nil || attempt == seedAttempts || ctx.Err() != nil || !(mongo.IsTimeout(err) || mongo.IsNetworkError(err) || errors.Is(err, context.DeadlineExceeded)) {
			break
		}
		slog.Warn("demo seeding: the database was too busy; trying again", "attempt", attempt, "err", err)
	}
	if err != nil {
		return false, fmt.Errorf("demo data: %w", err)
	}
	printDemo(out, res, generatedKey, addr)
	return res.created && !res.notEmpty, nil
}

// seedAttempts bounds the runs Seed makes when the database times out.
const seedAttempts = 5

func (m seeder) seedDemoData(ctx context.Context) (demoResult, error) {
	var res demoResult
	if b, err := m.Members.ByEmail(ctx, BrandEmail); err == nil && slices.Contains(b.Roles, member.RoleBrand) {
		return res, nil // the demo is complete already
	} else if err != nil && !errors.Is(err, member.ErrNotFound) {
		return res, err
	}
	// Only an empty database, or one a stopped demo run left half-done,
	// gets demo data.
	n, err := m.Members.Count(ctx)
	if err != nil {
		return res, err
	}
	if n > 0 {
		if _, err := m.Members.ByEmail(ctx, MemberEmail(0)); errors.Is(err, member.ErrNotFound) {
			res.notEmpty = true
			return res, nil
		} else if err != nil {
			return res, err
		}
	}
	if err := m.seedDemoBrand(ctx); err != nil {
		return res, err
	}
	ids, err := m.seedDemoMembers(ctx)
	if err != nil {
		return res, err
	}
	if err := m.seedDemoActivity(ctx, ids); err != nil {
		return res, err
	}
	if err := m.seedDemoRedemptionsAndOffer(ctx, ids); err != nil {
		return res, err
	}
	if err := m.seedDemoCommunity(ctx, ids); err != nil {
		return res, err
	}
	// Staff last; the BRAND account marks a complete demo.
	if res.moderatorPassword, err = m.demoStaff(ctx, demoModEmail, "Mo (moderator)", member.RoleModerator); err != nil {
		return res, err
	}
	if res.brandPassword, err = m.demoStaff(ctx, BrandEmail, "Demo Coffee (brand)", member.RoleBrand); err != nil {
		return res, err
	}
	res.created = true
	return res, nil
}

// MemberEmail is the address of demo customer i (0 ≤ i < MemberCount),
// one per first name.
func MemberEmail(i int) string {
	return strings.ToLower(demoNames[i]) + "@" + demoDomain
}

// seedDemoBrand sets the program and creates the catalog and badges that do
// not exist yet (by name).
func (m seeder) seedDemoBrand(ctx context.Context) error {
	if _, err := m.Game.UpdateProgram(ctx, nil, program.Replace(demoProgram())); err != nil {
		return err
	}
	stock := func(n int64) *int64 { return &n }
	existing, _, err := m.Game.Rewards().Rewards(ctx, false, bson.ObjectID{}, 100)
	if err != nil {
		return err
	}
	for _, r := range []reward.RewardInput{
		{Name: "Free coffee", Description: "Any size, any blend.", Cost: 300, Stock: stock(200), PerMemberLimit: 5, Active: true},
		{Name: "Canvas tote bag", Description: "Demo Coffee's tote, while stocks last.", Cost: 1200, Stock: stock(25), PerMemberLimit: 1, Active: true},
		{Name: "Roastery tasting evening", Description: "Two seats at the monthly tasting.", Cost: 2500, Stock: stock(8), PerMemberLimit: 1, MinTier: "Gold", Active: true},
	} {
		if slices.ContainsFunc(existing, func(e *reward.Reward) bool { return e.Name == r.Name }) {
			continue
		}
		if _, err := m.Game.Rewards().CreateReward(ctx, r); err != nil {
			return fmt.Errorf("reward %q: %w", r.Name, err)
		}
	}
	badges, err := m.Game.Engagement().Badges(ctx)
	if err != nil {
		return err
	}
	for _, b := range []engagement.BadgeInput{
		{Name: "Regular", Description: "Purchases at Demo Coffee.", Counter: engagement.CounterPurchases,
			Levels: []engagement.BadgeLevel{{Name: "BRONZE", Threshold: 1}, {Name: "SILVER", Threshold: 3, BonusPoints: 50}, {Name: "GOLD", Threshold: 4, BonusPoints: 150}}},
		{Name: "Big spender", Description: "Money spent, all time.", Counter: engagement.CounterSpend,
			Levels: []engagement.BadgeLevel{{Name: "BRONZE", Threshold: 10000}, {Name: "SILVER", Threshold: 30000, BonusPoints: 100}}},
		{Name: "Early bird", Description: "App check-ins.", Counter: engagement.CounterCheckIns,
			Levels: []engagement.BadgeLevel{{Name: "BRONZE", Threshold: 3}}},
	} {
		if slices.ContainsFunc(badges, func(e *engagement.Badge) bool { return e.Name == b.Name }) {
			continue
		}
		if _, err := m.Game.Engagement().CreateBadge(ctx, b); err != nil {
			return fmt.Errorf("badge %q: %w", b.Name, err)
		}
	}
	return nil
}

// seedDemoMembers signs the 50 customers up (or finds those a stopped run
// created) and enrolls them, as signUp does.
func (m seeder) seedDemoMembers(ctx context.Context) ([]*member.Member, error) {
	now := time.Now()
	ms := make([]*member.Member, MemberCount)
	for i := range ms {
		in := member.SignUp{
			Email: MemberEmail(i), Password: MemberPassword, DisplayName: demoNames[i],
			Timezone: demoTimezones[i%len(demoTimezones)], MarketingConsent: i%3 != 0,
		}
		if i%7 == 0 {
			// A few birthdays this month, for the birthday campaign.
			in.Birthday = &member.Date{Year: 1980 + i%20, Month: now.Month(), Day: 1 + i%28}
		}
		mb, err := m.Members.ByEmail(ctx, in.Email)
		if errors.Is(err, member.ErrNotFound) {
			var s *auth.Session
			if s, err = m.Auth.SignUp(ctx, in); err == nil {
				mb = s.Member
			}
		}
		if err != nil {
			return nil, fmt.Errorf("member %s: %w", in.Email, err)
		}
		if _, err := m.Game.Rooms().Referrals.Enroll(ctx, mb, nil); err != nil {
			return nil, err
		}
		if _, err := m.Inbox.Send(ctx, inbox.Message{MemberID: mb.ID, Kind: inbox.KindWelcome, Key: "welcome",
			Title: "Welcome to the club, " + mb.DisplayName, Body: "You are in. Every purchase now earns points."}); err != nil {
			return nil, err
		}
		ms[i] = mb
	}
	return ms, nil
}

// seedDemoActivity records 12 weeks of purchases and a few check-ins. A
// second game service runs on a clock set to each activity's time, so that
// points, tiers, streaks and the weekly boards are what they would be had
// the brand's backend reported each one as it happened.
func (m seeder) seedDemoActivity(ctx context.Context, ms []*member.Member) error {
	db := m.DB
	var clock time.Time
	past := game.New(db, m.Members, m.Inbox)
	past.SetClock(func() time.Time { return clock })
	// Times count back from the first demo member's sign-up, not from now,
	// so a run finishing a stopped one reports each purchase as it was.
	now := ms[0].CreatedAt.UTC().Truncate(time.Second) // as stored: a read returns milliseconds
	day := func(daysAgo float64) time.Time { return now.Add(-time.Duration(daysAgo * 24 * float64(time.Hour))) }
	rng := mathrand.New(mathrand.NewPCG(2026, 10)) // the same purchases every run: their ids repeat
	for i, mb := range ms {
		// Few purchases each: every one costs a few hundred milliseconds on
		// the embedded database, and the demo should be ready in a minute.
		var when []float64 // days ago, oldest first
		switch demoProfileOf(i) {
		case demoRegular:
			when = []float64{56 + rng.Float64()*25, 21 + rng.Float64()*20, 0.2 + rng.Float64()*6}
			if i%4 == 0 {
				when = slices.Insert(when, 2, 8+rng.Float64()*6)
			}
		case demoLapsed:
			when = []float64{70 + rng.Float64()*12, 42 + rng.Float64()*20}
		case demoExpiring:
			when = []float64{83 + rng.Float64()}
		case demoNearTier:
			when = []float64{60 + rng.Float64()*15, 25 + rng.Float64()*15}
		}
		// Every step of the member's history, reported oldest first: the
		// ledger's order (its sequence) is then also the order of its
		// entries' times, as it is for activities reported as they happen.
		type step struct {
			ago float64
			do  func() error
		}
		var steps []step
		for n, ago := range when {
			amount := int64(800 + rng.IntN(52)*100) // $8 to $59
			steps = append(steps, step{ago, func() error {
				clock = day(ago)
				if _, err := past.RecordActivity(ctx, demoPurchase(mb.ID, fmt.Sprintf("demo-%02d-%02d", i, n), amount, clock)); err != nil {
					return fmt.Errorf("purchase of %s: %w", mb.Email, err)
				}
				return nil
			}})
		}
		if demoProfileOf(i) == demoNearTier {
			nearID := fmt.Sprintf("demo-%02d-near", i)
			ago := 3 + float64(i%3)
			steps = append(steps, step{ago, func() error {
				done, err := reported(ctx, past, nearID)
				if err != nil || done {
					return err
				}
				// One more purchase, sized to leave about 100 points to the next
				// tier (once: its size depends on the tier status before it).
				clock = day(ago)
				p, err := past.Rooms().Program.Get(ctx)
				if err != nil {
					return err
				}
				ts, err := past.Rooms().Ledger.Tier(ctx, &p, mb.ID)
				if err != nil {
					return err
				}
				if ts.Next != nil && ts.ToNext > 160 {
					base := (ts.ToNext - 100) * 100 / ts.Current.EarnMultiplierPercent
					if _, err := past.RecordActivity(ctx, demoPurchase(mb.ID, nearID, base*10, clock)); err != nil {
						return fmt.Errorf("purchase of %s: %w", mb.Email, err)
					}
				}
				return nil
			}})
		}
		if i%20 == 0 {
			// A streak of check-ins over the last few days, reported as the
			// brand's CHECK_IN under keys of the demo's own, so a run
			// finishing a stopped one reports the same (the app's checkIn
			// is keyed by the day it is now).
			for ago := 2; ago >= 0; ago-- {
				steps = append(steps, step{float64(ago) + 1.0/24, func() error {
					clock = day(float64(ago)).Add(-time.Hour)
					if _, err := past.RecordActivity(ctx, game.ActivityInput{MemberID: mb.ID, Kind: program.ActivityCheckIn,
						ExternalID: fmt.Sprintf("demo-%02d-checkin-%d", i, ago), OccurredAt: clock}); err != nil {
						return fmt.Errorf("check-in of %s: %w", mb.Email, err)
					}
					return nil
				}})
			}
		}
		slices.SortStableFunc(steps, func(a, b step) int { return cmp.Compare(b.ago, a.ago) })
		for _, st := range steps {
			if err := st.do(); err != nil {
				return err
			}
		}
	}
	return nil
}

// reported says whether the purchase externalID was recorded (by a run
// that stopped later).
func reported(ctx context.Context, g *game.Service, externalID string) (bool, error) {
	_, err := g.Rooms().Activities.ByExternalID(ctx, program.ActivityPurchase, externalID)
	if errors.Is(err, activity.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

func demoPurchase(id bson.ObjectID, externalID string, minor int64, at time.Time) game.ActivityInput {
	return game.ActivityInput{MemberID: id, Kind: program.ActivityPurchase, ExternalID: externalID,
		AmountMinor: minor, Currency: "USD", OccurredAt: at,
		Items: []activity.LineItem{{SKU: "COFFEE-BEANS-250", Category: "coffee", Quantity: 1, PriceMinor: minor}}}
}

// seedDemoRedemptionsAndOffer has a few regulars spend points (the stock
// goes down) and publishes an offer to everyone.
func (m seeder) seedDemoRedemptionsAndOffer(ctx context.Context, ms []*member.Member) error {
	rewards, _, err := m.Game.Rewards().Rewards(ctx, false, bson.ObjectID{}, 100)
	if err != nil {
		return err
	}
	ci := slices.IndexFunc(rewards, func(r *reward.Reward) bool { return r.Name == "Free coffee" })
	if ci < 0 {
		return errors.New("the Free coffee reward is missing")
	}
	coffee := rewards[ci]
	for i, mb := range ms {
		if demoProfileOf(i) != demoRegular || i%3 != 0 {
			continue
		}
		_, err := m.Game.Rewards().Redeem(ctx, mb.ID, coffee.ID, "demo-coffee")
		if err != nil && !errors.Is(err, ledger.ErrInsufficientPoints) {
			return fmt.Errorf("redemption of %s: %w", mb.Email, err)
		}
	}
	const title = "Double-shot week"
	offers, err := m.Game.Offers().OffersFor(ctx, ms[0].ID)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(offers, func(o *offer.Offer) bool { return o.Title == title }) {
		return nil
	}
	now := time.Now().UTC()
	o, err := m.Game.Offers().CreateOffer(ctx, offer.OfferInput{
		Title: title, Body: "100 bonus points with any coffee this week: claim it in the app.",
		Benefit:  offer.Benefit{Kind: offer.BenefitBonusPoints, Value: 100},
		StartsAt: now.Add(-time.Hour), EndsAt: now.AddDate(0, 0, 7), CouponValidDays: 7,
	})
	if err != nil {
		return err
	}
	// The background jobs notify every member, kicked at once.
	_, err = m.Game.Offers().PublishOffer(ctx, o.ID)
	return err
}

// DemoSpace is the name of the demo's community space.
const DemoSpace = "Coffee talk"

// demoThreads are the space's threads: the member who starts each (an
// index of the demo members), its title and first post, and the replies
// (member, body); the reply by demoFlagged is flagged by two members.
var demoThreads = []struct {
	by          int
	title, body string
	replies     []demoReply
}{
	{0, "Your favourite brew at home?", "I have been trying the V60 with the house blend: 15 g for 250 ml. What do you use?",
		[]demoReply{{1, "French press here, four minutes and no more."}, {2, "Moka pot, always. Strong and quick."}, {3, "Cold brew all summer long."}}},
	{4, "Tasting evening: worth it?", "Thinking of spending points on the roastery tasting. Has anyone been?",
		[]demoReply{{10, "Went last month: small group, six coffees, you leave with beans."}, {11, "BUY CHEAP FOLLOWERS AND LIKES, message me now!!!"}}},
}

type demoReply struct {
	by   int
	body string
}

// demoFlagged is the reply the demo's members flag as spam.
const demoFlagged = "BUY CHEAP FOLLOWERS AND LIKES, message me now!!!"

// seedDemoCommunity makes the space (by name), its threads (by title) and
// their replies (by body), then flags the spam reply from two members
// (once each: a flag already made is skipped), so the review queue has an
// item. Spaces, threads and posts are read back first, so a run finishing
// a stopped one adds only what is missing.
func (m seeder) seedDemoCommunity(ctx context.Context, ms []*member.Member) error {
	brand := member.Principal{Service: true}
	as := func(i int) member.Principal { return member.Principal{MemberID: ms[i].ID, Roles: ms[i].Roles} }
	spaces, _, err := m.Community.Spaces(ctx, brand, bson.ObjectID{}, 100)
	if err != nil {
		return err
	}
	var sp *forum.Space
	if i := slices.IndexFunc(spaces, func(s *forum.Space) bool { return s.Name == DemoSpace }); i >= 0 {
		sp = spaces[i]
	} else if sp, err = m.Community.SaveSpace(ctx, brand, bson.ObjectID{}, community.SpaceInput{Name: DemoSpace,
		Description: "Brewing, beans and the shop: ask and share."}); err != nil {
		return fmt.Errorf("space: %w", err)
	}
	threads, _, err := m.Community.Threads(ctx, brand, sp.ID, forum.OrderNew, nil, 100)
	if err != nil {
		return err
	}
	for _, dt := range demoThreads {
		var th *forum.Thread
		if i := slices.IndexFunc(threads, func(t *forum.Thread) bool { return t.Title == dt.title }); i >= 0 {
			th = threads[i]
		} else if th, _, err = m.Community.CreateThread(ctx, as(dt.by), sp.ID, forum.Text{Title: dt.title, Body: dt.body}); err != nil {
			return fmt.Errorf("thread %q: %w", dt.title, err)
		}
		posts, _, err := m.Community.Posts(ctx, brand, th.ID, 0, 100)
		if err != nil {
			return err
		}
		for _, r := range dt.replies {
			i := slices.IndexFunc(posts, func(p *forum.Post) bool { return p.Body == r.body })
			if i < 0 {
				p, err := m.Community.Reply(ctx, as(r.by), th.ID, forum.Text{Body: r.body}, nil)
				if err != nil {
					return fmt.Errorf("reply in %q: %w", dt.title, err)
				}
				posts = append(posts, p)
				i = len(posts) - 1
			}
			if r.body != demoFlagged {
				continue
			}
			for _, by := range []int{12, 13} {
				_, err := m.Community.Moderation().FlagPost(ctx, as(by), posts[i].ID, moderation.ReasonSpam, "")
				if err != nil && !errors.Is(err, moderation.ErrAlreadyFlagged) {
					return fmt.Errorf("flag: %w", err)
				}
			}
		}
	}
	return nil
}

// demoStaff creates a staff account with a new random password and role,
// and returns the password; an account a stopped run created keeps its
// password ("") and gets its role now.
func (m seeder) demoStaff(ctx context.Context, email, name string, role member.Role) (string, error) {
	pw := randomPassword()
	var id bson.ObjectID
	s, err := m.Auth.SignUp(ctx, member.SignUp{Email: email, Password: pw, DisplayName: name, Timezone: "UTC"})
	switch {
	case errors.Is(err, member.ErrEmailTaken):
		pw = ""
		mb, err := m.Members.ByEmail(ctx, email)
		if err != nil {
			return "", err
		}
		id = mb.ID
	case err != nil:
		return "", err
	default:
		id = s.Member.ID
	}
	_, err = m.Auth.GrantRole(ctx, id, role)
	return pw, err
}

func randomPassword() string {
	return strings.ToLower(rand.Text()[:20])
}

// printDemo tells the newcomer what they got and what to try first.
func printDemo(out io.Writer, res demoResult, generatedKey, addr string) {
	var b strings.Builder
	switch {
	case res.notEmpty:
		b.WriteString("demo: the database already holds members, so no demo data was added (it only fills an empty database).\n")
	case !res.created:
		b.WriteString("demo: the demo brand is already in this database; nothing added. Its BRAND and MODERATOR passwords were printed when it was created.\n")
	default:
		fmt.Fprintf(&b, "demo: added Demo Coffee: a program with tiers Member/Silver/Gold and 2×/3× escalation, %d members with %d weeks of purchases,\n", MemberCount, demoWeeks)
		b.WriteString("      3 rewards with stock, 3 badges, an offer being published to every member and a community space (" + DemoSpace + ")\n")
		b.WriteString("      with a post flagged for the MODERATOR's review queue. These passwords are shown once:\n")
		fmt.Fprintf(&b, "  BRAND      %-34s %s\n", BrandEmail, orKept(res.brandPassword))
		fmt.Fprintf(&b, "  MODERATOR  %-34s %s\n", demoModEmail, orKept(res.moderatorPassword))
		fmt.Fprintf(&b, "  members    %-34s %s  (and %d more, by first name)\n", MemberEmail(0), MemberPassword, MemberCount-1)
	}
	if generatedKey != "" {
		fmt.Fprintf(&b, "  service API key, kept in DATA_DIR/service-api-key (SERVICE_API_KEYS is empty): %s\n", generatedKey)
	}
	if !res.notEmpty {
		host := addr
		if strings.HasPrefix(host, "[::]:") || strings.HasPrefix(host, "0.0.0.0:") {
			host = "localhost" + host[strings.LastIndex(host, ":"):]
		}
		key := generatedKey
		if key == "" {
			key = "<a key of SERVICE_API_KEYS>"
		}
		fmt.Fprintf(&b, "  first query: curl -s %s/graphql -H 'Content-Type: application/json' -H 'Authorization: ApiKey %s' \\\n", host, key)
		b.WriteString("      -d '{\"query\": \"{ leaderboard(period: ALL_TIME, first: 10) { edges { node { rank score member { displayName } } } } }\"}'\n")
	}
	_, _ = io.WriteString(out, b.String())
}

func orKept(pw string) string {
	if pw == "" {
		return "(created by an earlier run; password printed then)"
	}
	return pw
}
