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
	"log/slog"
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

// Notifier sends a campaign's message, in the member's locale when the
// message names none; inbox.ErrMuted when the member muted its category.
type Notifier interface {
	Send(ctx context.Context, m inbox.Message) (*inbox.Notification, error)
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

// heldOut records the member's group for the send keyed key of campaign
// (game/holdout: drawn once per member and campaign at the program's
// holdoutPercent) and reports whether they are held out: sent nothing.
func (s *Service) heldOut(ctx context.Context, p *program.Program, campaign, key string, memberID bson.ObjectID) (bool, error) {
	if s.Holdouts == nil {
		return false, nil
	}
	g, err := s.Holdouts.Assign(ctx, campaign, key, memberID, p.Campaigns.HoldoutPercent(), s.Now())
	return g == holdout.Held, err
}

// sent sends m for campaign unless its member is held out, counting it; a
// muted category is not an error, and a failed send is logged: the key
// makes the next run's attempt harmless.
func (s *Service) sent(ctx context.Context, p *program.Program, campaign string, m inbox.Message) int {
	if held, err := s.heldOut(ctx, p, campaign, m.Key, m.MemberID); err != nil || held {
		if err != nil {
			slog.ErrorContext(ctx, "campaign: holdout", "member", m.MemberID.Hex(), "key", m.Key, "err", err)
		}
		return 0
	}
	if _, err := s.Notify.Send(ctx, m); err != nil {
		if !errors.Is(err, inbox.ErrMuted) {
			slog.ErrorContext(ctx, "campaign: send", "member", m.MemberID.Hex(), "key", m.Key, "err", err)
		}
		return 0
	}
	return 1
}

// birthdayCampaign greets members on their birthday in their own timezone
// and credits the birthday reward, which shares its key with the reward an
// activity in the birthday month would give: once a year either way.
func (s *Service) birthdayCampaign(ctx context.Context, p *program.Program, birthdays Birthdays) (int, error) {
	now := s.Now()
	n := 0
	// Somewhere it is already tomorrow or still yesterday.
	for _, d := range []time.Time{now.AddDate(0, 0, -1), now, now.AddDate(0, 0, 1)} {
		days := []int{d.Day()}
		if d.Month() == time.February && d.Day() == 28 && !isLeap(d.Year()) {
			days = append(days, 29) // 29 February birthdays are kept on the 28th
		}
		for _, day := range days {
			var after bson.ObjectID
			for {
				ms, err := birthdays.WithBirthday(ctx, d.Month(), day, after, 500)
				if err != nil {
					return n, err
				}
				for _, m := range ms {
					after = m.ID
					local := now.In(m.Location())
					if local.Month() != d.Month() || local.Day() != d.Day() || local.Hour() < p.Campaigns.BirthdayHour {
						continue
					}
					year := strconv.Itoa(local.Year())
					// A held-out member gets neither the greeting nor the
					// reward from the campaign (an activity in their
					// birthday month still earns the reward).
					if held, err := s.heldOut(ctx, p, Birthday, "birthday:"+year, m.ID); err != nil {
						return n, err
					} else if held {
						continue
					}
					if p.BirthdayBonus > 0 {
						e, _, err := s.Ledger.Append(ctx, p, m.ID, "birthday:"+year, ledger.EntryEarn, ledger.Source{Kind: ledger.SourceBirthday, ID: "campaign:" + year},
							func(st *ledger.State, e *ledger.Entry, now time.Time) (bool, error) {
								e.Reason = "Happy birthday!"
								e.Lines = []ledger.Line{{Rule: "birthday", Points: p.BirthdayBonus, Reason: "birthday reward for " + year}}
								st.Credit(e, p.BirthdayBonus, now, ledger.ExpiresAfter(now, p.PointsExpireDays))
								st.Earn(p, e, p.BirthdayBonus, now)
								return true, nil
							})
						if err == nil {
							err = s.Effects.CarryOut(ctx, p, []*ledger.Entry{e})
						}
						if err != nil {
							return n, err
						}
					}
					n += s.sent(ctx, p, Birthday, inbox.Message{MemberID: m.ID, Kind: inbox.KindBirthday, Key: "birthday:" + year, Locale: p.LocaleOf(m),
						Template: texts.Birthday, Data: map[string]any{"name": m.DisplayName, "points": p.BirthdayBonus},
						DeepLink: "app://points"})
				}
				if len(ms) < 500 {
					break
				}
			}
		}
	}
	return n, nil
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// winBackCampaign reaches members who stopped buying, once per spell: the
// key is the date of their last purchase, so a new purchase starts a new spell.
func (s *Service) winBackCampaign(ctx context.Context, p *program.Program) (int, error) {
	idle, err := s.Accounts.IdleSince(ctx, s.Now().AddDate(0, 0, -p.Campaigns.WinBackDays))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range idle {
		n += s.sent(ctx, p, WinBack, inbox.Message{MemberID: a.MemberID, Kind: inbox.KindWinBack, Key: "winback:" + a.LastPurchaseAt.UTC().Format(time.DateOnly),
			Template: texts.WinBack, DeepLink: "app://offers"})
	}
	return n, nil
}

// pointsExpiringCampaign warns about each lot expiring soon, once per lot.
func (s *Service) pointsExpiringCampaign(ctx context.Context, p *program.Program) (int, error) {
	now := s.Now()
	until := now.AddDate(0, 0, p.Campaigns.PointsExpiringDays)
	due, err := s.Ledger.Expiring(ctx, now, until)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, memberID := range due {
		st, _, err := s.Ledger.Head(ctx, memberID)
		if err != nil {
			return n, err
		}
		for _, l := range st.Lots {
			if l.ExpiresAt == nil || !l.ExpiresAt.After(now) || l.ExpiresAt.After(until) {
				continue
			}
			n += s.sent(ctx, p, PointsExpiring, inbox.Message{MemberID: memberID, Kind: inbox.KindPointsExpiring, Key: "expiring:" + l.ID.Hex(),
				Template: texts.PointsExpiring, Data: map[string]any{"points": l.Points, "date": *l.ExpiresAt},
				DeepLink: "app://rewards", ExpiresAt: l.ExpiresAt, Related: &inbox.Related{Kind: inbox.RelatedLedgerEntry, ID: l.ID.Hex()}})
		}
	}
	return n, nil
}

// streakAtRiskCampaign reminds members in the evening of their day that
// today's activity is missing, once per day.
func (s *Service) streakAtRiskCampaign(ctx context.Context, p *program.Program) (int, error) {
	now, n := s.Now(), 0
	err := s.Engagement.StreaksAtRisk(ctx, p, func(m *member.Member, v streak.View) {
		period := streak.PeriodIndex(p.Streak.Period, now, m.Location())
		n += s.sent(ctx, p, StreakAtRisk, inbox.Message{MemberID: m.ID, Kind: inbox.KindStreakAtRisk, Key: fmt.Sprintf("streak-risk:%d", period), Locale: p.LocaleOf(m),
			Template: texts.StreakAtRisk, Data: map[string]any{"days": v.Current}, DeepLink: "app://check-in"})
	})
	return n, err
}

// couponExpiringCampaign reminds members of a claimed coupon about to expire.
func (s *Service) couponExpiringCampaign(ctx context.Context, p *program.Program) (int, error) {
	now := s.Now()
	claims, err := s.Offers.ClaimsExpiring(ctx, now, now.Add(time.Duration(p.Campaigns.CouponExpiringHours)*time.Hour))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range claims {
		n += s.sent(ctx, p, CouponExpiring, inbox.Message{MemberID: c.MemberID, Kind: inbox.KindOfferAvailable, Key: "coupon-expiring:" + c.ID,
			Template: texts.CouponExpiring, Data: map[string]any{"code": c.Code, "date": c.ExpiresAt, "time": c.ExpiresAt.Format("15:04")},
			DeepLink: "app://offers/" + c.OfferID.Hex(), Related: &inbox.Related{Kind: inbox.RelatedOffer, ID: c.OfferID.Hex()}, ExpiresAt: &c.ExpiresAt})
	}
	return n, nil
}
