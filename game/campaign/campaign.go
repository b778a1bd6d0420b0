// Package campaign sends the program's campaigns: birthday greetings
// with the birthday reward, win-back, points expiring, streak at risk and
// coupons expiring. It owns no collection: it asks the rooms that hold the
// facts (the ledger, accounts, engagement, offers) whom to reach, and
// every send is keyed per member, campaign and period, so a crash
// half-way, a rerun or a second instance never sends twice.
package campaign

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/engagement"
	"github.com/regulars/regulars/game/holdout"
	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/offer"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/game/referral"
	"github.com/regulars/regulars/game/streak"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/texts"
)

// Effects carries out what follows ledger entries (their leaderboard
// scores) on the game's one effects path; see reward.Effects.
type Effects interface {
	CarryOut(ctx context.Context, p *program.Program, entries []*ledger.Entry, notes ...inbox.Message) error
}

// Notifier sends a batch of a campaign's messages, each in its member's
// locale when it names none (effects.Path.SendBatch): ns[i] is message i's
// notification, nil when its member muted its category; done counts the
// messages, from the first, settled before err.
type Notifier interface {
	SendBatch(ctx context.Context, ms []inbox.Message) (ns []*inbox.Notification, done int, err error)
}

// Deps is what the campaigns use of the rest of the game.
type Deps struct {
	Program    program.Store
	Ledger     *ledger.Ledger
	Accounts   *referral.Service
	Engagement *engagement.Service
	Offers     *offer.Service
	Effects    Effects
	Notify     Notifier
	// Holdouts records who each send reaches and who it holds out.
	Holdouts *holdout.Store
	// Now is the clock, read at every call.
	Now func() time.Time
}

// Service runs the campaigns.
type Service struct{ Deps }

// New returns the campaigns.
func New(d Deps) *Service { return &Service{Deps: d} }

// Birthdays is what the birthday campaign needs of accounts.
type Birthdays interface {
	// WithBirthday pages members born on a month and day, by id.
	WithBirthday(ctx context.Context, month time.Month, day int, after bson.ObjectID, limit int) ([]*member.Member, error)
}

// Run runs every campaign the program has on, once. Each send is
// keyed per member, campaign and period, so a crash half-way, a rerun or a
// second instance never sends twice; the scheduler still runs it on one
// instance at a time to spare the work.
func (s *Service) Run(ctx context.Context, birthdays Birthdays) (int, error) {
	p, err := s.Program.Get(ctx)
	if err != nil {
		return 0, err
	}
	c := p.Campaigns
	total := 0
	for _, run := range []struct {
		on bool
		fn func(context.Context, *program.Program) (int, error)
	}{
		{c.Birthday && birthdays != nil, func(ctx context.Context, p *program.Program) (int, error) {
			return s.birthdayCampaign(ctx, p, birthdays)
		}},
		{c.WinBack, s.winBackCampaign},
		{c.PointsExpiring, s.pointsExpiringCampaign},
		{c.StreakAtRisk, s.streakAtRiskCampaign},
		{c.CouponExpiring, s.couponExpiringCampaign},
	} {
		if !run.on {
			continue
		}
		n, err := run.fn(ctx, &p)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// Campaign names: the key of each campaign's holdout draw, and what
// analytics asks results for.
const (
	Birthday       = "birthday"
	WinBack        = "win-back"
	PointsExpiring = "points-expiring"
	StreakAtRisk   = "streak-at-risk"
	CouponExpiring = "coupon-expiring"
)

// sendBatch is how many messages a campaign sends at once: the batch's
// holdout groups are one insert, its notifications one more (and a read
// of each of the batch's keys, mutes and sequence numbers).
const sendBatch = 500

// batch gathers a campaign's messages and sends them sendBatch at a time.
// Every message is keyed per member, campaign and period, so a batch
// failed half-way is sent again harmlessly by the next run.
type batch struct {
	s        *Service
	p        *program.Program
	campaign string
	ms       []inbox.Message
	sent     int // notifications sent (or found sent by an earlier run)
}

func (s *Service) batch(p *program.Program, campaign string) *batch {
	return &batch{s: s, p: p, campaign: campaign}
}

// add queues m, sending the queue once it is full.
func (b *batch) add(ctx context.Context, m inbox.Message) error {
	b.ms = append(b.ms, m)
	if len(b.ms) < sendBatch {
		return nil
	}
	return b.flush(ctx)
}

// flush sends the queued messages but those to members held out.
func (b *batch) flush(ctx context.Context) error {
	ms := b.ms
	b.ms = nil
	treated, err := b.treated(ctx, ms)
	if err != nil {
		return err
	}
	return b.send(ctx, treated)
}

// treated records each message's group (game/holdout: drawn once per
// member and campaign at the program's holdoutPercent, the recorded group
// ever after) and returns the messages to members not held out.
func (b *batch) treated(ctx context.Context, ms []inbox.Message) ([]inbox.Message, error) {
	if b.s.Holdouts == nil || len(ms) == 0 {
		return ms, nil
	}
	sends := make([]holdout.Send, len(ms))
	for i, m := range ms {
		sends[i] = holdout.Send{Key: m.Key, MemberID: m.MemberID}
	}
	groups, err := b.s.Holdouts.AssignEach(ctx, b.campaign, sends, b.p.Campaigns.HoldoutPercent(), b.s.Now())
	if err != nil {
		return nil, err
	}
	var out []inbox.Message
	for i, m := range ms {
		if groups[i] != holdout.Held {
			out = append(out, m)
		}
	}
	return out, nil
}

// send sends ms, all treated, counting those sent.
func (b *batch) send(ctx context.Context, ms []inbox.Message) error {
	if len(ms) == 0 {
		return nil
	}
	ns, _, err := b.s.Notify.SendBatch(ctx, ms)
	for _, n := range ns {
		if n != nil {
			b.sent++
		}
	}
	return err
}

// done sends what is queued and returns the count sent.
func (b *batch) done(ctx context.Context) (int, error) {
	err := b.flush(ctx)
	return b.sent, err
}

// birthdayCampaign greets members on their birthday in their own timezone
// and credits the birthday reward, which shares its key with the reward an
// activity in the birthday month would give: once a year either way. A
// held-out member gets neither the greeting nor the reward from the
// campaign (an activity in their birthday month still earns the reward).
func (s *Service) birthdayCampaign(ctx context.Context, p *program.Program, birthdays Birthdays) (int, error) {
	now := s.Now()
	b := s.batch(p, Birthday)
	// Somewhere it is already tomorrow or still yesterday.
	for _, d := range []time.Time{now.AddDate(0, 0, -1), now, now.AddDate(0, 0, 1)} {
		days := []int{d.Day()}
		if d.Month() == time.February && d.Day() == 28 && !isLeap(d.Year()) {
			days = append(days, 29) // 29 February birthdays are kept on the 28th
		}
		for _, day := range days {
			var after bson.ObjectID
			for {
				ms, err := birthdays.WithBirthday(ctx, d.Month(), day, after, sendBatch)
				if err != nil {
					return b.sent, err
				}
				var greetings []inbox.Message
				year := map[bson.ObjectID]string{}
				for _, m := range ms {
					after = m.ID
					local := now.In(m.Location())
					if local.Month() != d.Month() || local.Day() != d.Day() || local.Hour() < p.Campaigns.BirthdayHour {
						continue
					}
					year[m.ID] = strconv.Itoa(local.Year())
					greetings = append(greetings, inbox.Message{MemberID: m.ID, Kind: inbox.KindBirthday, Key: "birthday:" + year[m.ID], Locale: p.LocaleOf(m),
						Template: texts.Birthday, Data: map[string]any{"name": m.DisplayName, "points": p.BirthdayBonus},
						DeepLink: "app://points"})
				}
				// The page's groups first: the reward goes to the treated only.
				treated, err := b.treated(ctx, greetings)
				if err != nil {
					return b.sent, err
				}
				if p.BirthdayBonus > 0 {
					for _, g := range treated {
						if err := s.creditBirthday(ctx, p, g.MemberID, year[g.MemberID]); err != nil {
							return b.sent, err
						}
					}
				}
				if err := b.send(ctx, treated); err != nil {
					return b.sent, err
				}
				if len(ms) < sendBatch {
					break
				}
			}
		}
	}
	return b.sent, nil
}

// creditBirthday credits the birthday reward of year to the member, keyed
// by the year, and carries out its effects.
func (s *Service) creditBirthday(ctx context.Context, p *program.Program, memberID bson.ObjectID, year string) error {
	e, _, err := s.Ledger.Append(ctx, p, memberID, "birthday:"+year, ledger.EntryEarn, ledger.Source{Kind: ledger.SourceBirthday, ID: "campaign:" + year},
		func(st *ledger.State, e *ledger.Entry, now time.Time) (bool, error) {
			e.Reason = "Happy birthday!"
			e.Lines = []ledger.Line{{Rule: "birthday", Points: p.BirthdayBonus, Reason: "birthday reward for " + year}}
			st.Credit(e, p.BirthdayBonus, now, ledger.ExpiresAfter(now, p.PointsExpireDays))
			st.Earn(p, e, p.BirthdayBonus, now)
			return true, nil
		})
	if err != nil {
		return err
	}
	return s.Effects.CarryOut(ctx, p, []*ledger.Entry{e})
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// winBackCampaign reaches members who stopped buying, once per spell: the
// key is the date of their last purchase, so a new purchase starts a new spell.
func (s *Service) winBackCampaign(ctx context.Context, p *program.Program) (int, error) {
	idle, err := s.Accounts.IdleSince(ctx, s.Now().AddDate(0, 0, -p.Campaigns.WinBackDays))
	if err != nil {
		return 0, err
	}
	b := s.batch(p, WinBack)
	for _, a := range idle {
		if err := b.add(ctx, inbox.Message{MemberID: a.MemberID, Kind: inbox.KindWinBack, Key: "winback:" + a.LastPurchaseAt.UTC().Format(time.DateOnly),
			Template: texts.WinBack, DeepLink: "app://offers"}); err != nil {
			return b.sent, err
		}
	}
	return b.done(ctx)
}

// pointsExpiringCampaign warns about each lot expiring soon, once per lot.
func (s *Service) pointsExpiringCampaign(ctx context.Context, p *program.Program) (int, error) {
	now := s.Now()
	until := now.AddDate(0, 0, p.Campaigns.PointsExpiringDays)
	due, err := s.Ledger.Expiring(ctx, now, until)
	if err != nil {
		return 0, err
	}
	b := s.batch(p, PointsExpiring)
	for _, memberID := range due {
		st, _, err := s.Ledger.Head(ctx, memberID)
		if err != nil {
			return b.sent, err
		}
		for _, l := range st.Lots {
			if l.ExpiresAt == nil || !l.ExpiresAt.After(now) || l.ExpiresAt.After(until) {
				continue
			}
			if err := b.add(ctx, inbox.Message{MemberID: memberID, Kind: inbox.KindPointsExpiring, Key: "expiring:" + l.ID.Hex(),
				Template: texts.PointsExpiring, Data: map[string]any{"points": l.Points, "date": *l.ExpiresAt},
				DeepLink: "app://rewards", ExpiresAt: l.ExpiresAt, Related: &inbox.Related{Kind: inbox.RelatedLedgerEntry, ID: l.ID.Hex()}}); err != nil {
				return b.sent, err
			}
		}
	}
	return b.done(ctx)
}

// streakAtRiskCampaign reminds members in the evening of their day that
// today's activity is missing, once per day.
func (s *Service) streakAtRiskCampaign(ctx context.Context, p *program.Program) (int, error) {
	now, b := s.Now(), s.batch(p, StreakAtRisk)
	var sendErr error
	err := s.Engagement.StreaksAtRisk(ctx, p, func(m *member.Member, v streak.View) {
		period := streak.PeriodIndex(p.Streak.Period, now, m.Location())
		if sendErr == nil {
			sendErr = b.add(ctx, inbox.Message{MemberID: m.ID, Kind: inbox.KindStreakAtRisk, Key: fmt.Sprintf("streak-risk:%d", period), Locale: p.LocaleOf(m),
				Template: texts.StreakAtRisk, Data: map[string]any{"days": v.Current}, DeepLink: "app://check-in"})
		}
	})
	if err = errors.Join(err, sendErr); err != nil {
		return b.sent, err
	}
	return b.done(ctx)
}

// couponExpiringCampaign reminds members of a claimed coupon about to expire.
func (s *Service) couponExpiringCampaign(ctx context.Context, p *program.Program) (int, error) {
	now := s.Now()
	claims, err := s.Offers.ClaimsExpiring(ctx, now, now.Add(time.Duration(p.Campaigns.CouponExpiringHours)*time.Hour))
	if err != nil {
		return 0, err
	}
	b := s.batch(p, CouponExpiring)
	for _, c := range claims {
		if err := b.add(ctx, inbox.Message{MemberID: c.MemberID, Kind: inbox.KindOfferAvailable, Key: "coupon-expiring:" + c.ID,
			Template: texts.CouponExpiring, Data: map[string]any{"code": c.Code, "date": c.ExpiresAt, "time": c.ExpiresAt.Format("15:04")},
			DeepLink: "app://offers/" + c.OfferID.Hex(), Related: &inbox.Related{Kind: inbox.RelatedOffer, ID: c.OfferID.Hex()}, ExpiresAt: &c.ExpiresAt}); err != nil {
			return b.sent, err
		}
	}
	return b.done(ctx)
}
