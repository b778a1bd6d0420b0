// Package game is the loyalty economy's centre: it records the activities
// members report (game/activity), appends what they earn (game/accrual,
// game/ledger) and carries out each cause's effects on one ordered path
// (game/effects), whatever room the cause came from: engagement and badges
// (game/engagement), referrals and accounts (game/referral), rewards
// (game/reward), offers (game/offer), leaderboards (game/leaderboard) and
// notifications (inbox). It wires those rooms, the campaigns
// (game/campaign) and the earning rules (game/rules/ruleset), and hands
// them out once (Rooms).
//
// Every member's ledger is a chain of entries numbered 1, 2, 3…; an entry is
// appended by inserting the next number, which a unique index lets exactly
// one writer do. So each member's ledger is serialized without transactions
// or atomic counters, and every effect carries an idempotency key (also
// unique), so replays and races never apply it twice.
package game

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/regulars/regulars/game/activity"
	"github.com/regulars/regulars/game/campaign"
	"github.com/regulars/regulars/game/effects"
	"github.com/regulars/regulars/game/engagement"
	"github.com/regulars/regulars/game/holdout"
	"github.com/regulars/regulars/game/leaderboard"
	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/offer"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/game/referral"
	"github.com/regulars/regulars/game/reward"
	"github.com/regulars/regulars/game/rules/ruleset"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/member"
)

// Members is what the game needs of accounts.
type Members interface {
	Get(ctx context.Context, id bson.ObjectID) (*member.Member, error)
	// GetMany returns members in the order of ids, nil where missing.
	GetMany(ctx context.Context, ids []bson.ObjectID) ([]*member.Member, error)
}

// Notifier sends members notifications about what the game did for them.
type Notifier interface {
	Send(ctx context.Context, m inbox.Message) (*inbox.Notification, error)
}

// Service is the loyalty economy over one database.
type Service struct {
	members    Members
	notify     Notifier
	now        func() time.Time
	program    program.Store
	ledger     *ledger.Ledger
	acts       *activity.Store
	rewards    *reward.Service
	referrals  *referral.Service
	engagement *engagement.Service
	boards     *leaderboard.Boards
	offers     *offer.Service
	campaigns  *campaign.Service
	holdouts   *holdout.Store
	rules      *ruleset.Service
	jobs       *Jobs
	path       *effects.Path
	after      *afterAnswer
}

// Economy is the game as the rooms beside it use it: the community's post
// points and a member's standing in it (community.go), events' attendance
// (activity.go), the till's standing (till.go). Service.Economy returns it.
type Economy struct{ s *Service }

// Economy returns the game as the community, events and the till use it.
func (s *Service) Economy() *Economy { return &Economy{s: s} }

// Leaderboards is the boards as the members' API reads and changes them
// (leaderboard.go): which board a period means now, opting out, and the
// repair the background jobs run. Service.Leaderboards returns it.
type Leaderboards struct{ s *Service }

// Leaderboards returns the leaderboards.
func (s *Service) Leaderboards() *Leaderboards { return &Leaderboards{s: s} }

// Jobs is the game's background work, run by the server's jobs under the
// lease: effects left pending (ResumeEffects), points expiring
// (ExpirePoints), and the signal that work was just created (Kicked).
// Service.Jobs returns it.
type Jobs struct {
	s    *Service
	kick chan struct{}
}

// Jobs returns the game's background work.
func (s *Service) Jobs() *Jobs { return s.jobs }

// New returns the game over db.
func New(db *mongo.Database, members Members, notify Notifier) *Service {
	s := &Service{
		members:  members,
		notify:   notify,
		now:      time.Now,
		program:  program.NewStore(db),
		acts:     activity.New(db),
		boards:   leaderboard.New(db),
		holdouts: holdout.New(db),
		after:    newAfterAnswer(afterAnswerLimit),
	}
	s.jobs = &Jobs{s: s, kick: make(chan struct{}, 1)}
	clock := func() time.Time { return s.now() }
	s.ledger = ledger.New(db.Collection("ledger"), clock)
	s.path = effects.New(effects.Deps{Program: s.program, Members: members, Accounts: publicBoards{s}, Boards: s.boards, Notifier: s.notifier, Now: clock})
	s.rules = ruleset.New(db, ruleset.Deps{Program: s.program, Badges: s.badgeIDs, History: ruleHistory{s}, Notify: s.path, Kick: s.jobs.kicked, Now: clock})
	s.rewards = reward.New(db, s.program, s.ledger, s.path, clock)
	s.referrals = referral.New(db, referral.Deps{Program: s.program, Ledger: s.ledger, Members: members, Effects: s.path, Now: clock})
	s.engagement = engagement.New(db, engagement.Deps{Program: s.program, Ledger: s.ledger, Members: members, Roster: s.referrals,
		Effects: s.path, Kick: s.jobs.kicked, Now: clock})
	s.offers = offer.New(db, offer.Deps{Program: s.program, Ledger: s.ledger, Members: members, Audience: offerAudience{s}, Facts: offerAudience{s},
		Notify: offerAudience{s}, Effects: s.path, Holdouts: s.holdouts, Kick: s.jobs.kicked, Now: clock})
	s.campaigns = campaign.New(campaign.Deps{Program: s.program, Ledger: s.ledger, Accounts: s.referrals, Engagement: s.engagement,
		Offers: s.offers, Effects: s.path, Notify: s.path, Holdouts: s.holdouts, Now: clock})
	return s
}

// Rooms are the rooms the game is made of, each owning its capability and
// its collections; the game wires them to its one effects path. Graph's
// resolvers call the room that owns what they read or change (the points
// and tier: Ledger; the program: Program; a purchase: Activities).
type Rooms struct {
	Program    program.Store
	Activities *activity.Store
	Ledger     *ledger.Ledger
	Boards     *leaderboard.Boards
	Referrals  *referral.Service
	Rewards    *reward.Service
	Engagement *engagement.Service
	Offers     *offer.Service
	Campaigns  *campaign.Service
	Rules      *ruleset.Service
}

// Rooms returns the game's rooms.
func (s *Service) Rooms() Rooms {
	return Rooms{Program: s.program, Activities: s.acts, Ledger: s.ledger, Boards: s.boards, Referrals: s.referrals, Rewards: s.rewards,
		Engagement: s.engagement, Offers: s.offers, Campaigns: s.campaigns, Rules: s.rules}
}

// SetClock replaces the clock; tests move time with it.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Rewards returns the catalog and its redemptions.
func (s *Service) Rewards() *reward.Service { return s.rewards }

// CurrentLedgers returns each member's ledger now (ledger.Current), in
// ids' order, under the current program, expiring what is due first: one
// read of each head when nothing is due.
func (s *Service) CurrentLedgers(ctx context.Context, ids []bson.ObjectID) ([]*ledger.Current, error) {
	p, err := s.program.Get(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*ledger.Current, len(ids))
	for i, id := range ids {
		if out[i], err = s.ledger.Current(ctx, &p, id); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Offers returns the members-only offers and their coupons.
func (s *Service) Offers() *offer.Service { return s.offers }

// Engagement returns the members' counters, streaks and badges.
func (s *Service) Engagement() *engagement.Service { return s.engagement }

// Rules returns the earning rules: the brand's and the program's
// built-in ones, their explanations and dry runs.
func (s *Service) Rules() *ruleset.Service { return s.rules }

// badgeIDs are the program's badges (ids, hex), for the rules' validation.
func (s *Service) badgeIDs(ctx context.Context) (map[string]bool, error) {
	bs, err := s.engagement.Badges(ctx)
	if err != nil {
		return nil, err
	}
	ids := make(map[string]bool, len(bs))
	for _, b := range bs {
		ids[b.ID.Hex()] = true
	}
	return ids, nil
}

// EnsureIndexes creates every index the game's queries rely on; safe to repeat.
func (s *Service) EnsureIndexes(ctx context.Context) error {
	for _, ensure := range []func(context.Context) error{s.acts.EnsureIndexes, s.referrals.EnsureIndexes, s.engagement.EnsureIndexes,
		s.ledger.EnsureIndexes, s.rules.EnsureIndexes, s.rewards.EnsureIndexes, s.offers.EnsureIndexes, s.boards.EnsureIndexes, s.holdouts.EnsureIndexes} {
		if err := ensure(ctx); err != nil {
			return err
		}
	}
	return nil
}

// notifier is the game's notifier now (tests replace it); nil: none.
func (s *Service) notifier() effects.Notifier {
	if s.notify == nil {
		return nil
	}
	return s.notify
}

// publicBoards asks the accounts (game/referral) who shows on the public
// boards, for the effects path, which is made before them.
type publicBoards struct{ s *Service }

func (x publicBoards) OnPublicBoards(ctx context.Context, memberID bson.ObjectID) (bool, error) {
	return x.s.referrals.OnPublicBoards(ctx, memberID)
}

// Kicked receives when work for the background jobs was just created (an
// offer to publish), so they need not wait for their next tick.
func (j *Jobs) Kicked() <-chan struct{} { return j.kick }

// kicked signals Kicked without waiting (one signal is enough).
func (j *Jobs) kicked() {
	select {
	case j.kick <- struct{}{}:
	default:
	}
}
