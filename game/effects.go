package game

import (
	"context"
	"errors"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/activity"
	"github.com/regulars/regulars/game/engagement"
	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/inbox"
)

// effects collects what one cause (an activity, a redemption, an
// adjustment, a badge) did, so that its effects are carried out on one
// path, in one order:
//
//  1. ledger entries, each under its own key; an entry's tier change is part of it;
//  2. engagement: counters, the streak, badge levels (each keyed), with
//     their bonus entries (keyed);
//  3. leaderboard scores of every entry, new or found again (guarded by the
//     entry's sequence number, so a stale or repeated update changes nothing);
//  4. webhook events (webhook.Emit), each keyed by its cause: the
//     activity, an entry's tier change, a badge level;
//  5. notifications, each keyed by the entry or badge that caused it.
//
// Steps 1 and 2 are written as they are computed; carryOut does 3 to 5
// from what they recorded here. Running the whole path again (a replay of
// the activity, or the ResumeEffects job) finishes what a failure left
// undone and repeats nothing; a failure is returned, never only logged.
type effects struct {
	entries []*ledger.Entry
	notes   []inbox.Message
	// optOut caches members' leaderboard opt-out, prefilled by a caller
	// that has read the account already.
	optOut map[bson.ObjectID]bool
	// badges says the program has badges, so the cause may have unlocked some.
	badges bool
	// activity is the cause when it is an activity (activity.recorded).
	activity *activity.Activity
}

// entry records a ledger entry of the cause, new or found again.
func (fx *effects) entry(e *ledger.Entry) {
	if e != nil && !slices.ContainsFunc(fx.entries, func(x *ledger.Entry) bool { return x.ID == e.ID }) {
		fx.entries = append(fx.entries, e)
	}
}

// engaged records what an engagement step of the cause did: its badges'
// bonus entries and notifications.
func (fx *effects) engaged(out engagement.Outcome) {
	for _, e := range out.Entries {
		fx.entry(e)
	}
	fx.notes = append(fx.notes, out.Notes...)
	fx.badges = fx.badges || out.Badges
}

// notify queues a notification, sent after the leaderboards.
func (fx *effects) notify(m inbox.Message) { fx.notes = append(fx.notes, m) }

// knownOptOut records a member's opt-out read by the caller.
func (fx *effects) knownOptOut(memberID bson.ObjectID, out bool) {
	if fx.optOut == nil {
		fx.optOut = map[bson.ObjectID]bool{}
	}
	fx.optOut[memberID] = out
}

// carryOut brings the leaderboards up to the recorded entries, emits the
// cause's webhook events, then sends the queued notifications. It stops at
// the first failure and returns it.
func (s *Service) carryOut(ctx context.Context, p *program.Program, fx *effects) error {
	for _, e := range fx.entries {
		if len(e.Boards) == 0 {
			continue
		}
		hidden, ok := fx.optOut[e.MemberID]
		if !ok {
			shown, err := s.referrals.OnPublicBoards(ctx, e.MemberID)
			if err != nil {
				return err
			}
			hidden = !shown
			fx.knownOptOut(e.MemberID, hidden)
		}
		if err := s.scoreBoards(ctx, e, hidden); err != nil {
			return err
		}
	}
	if err := s.emitHooks(ctx, p, fx); err != nil {
		return err
	}
	if s.notify == nil {
		return nil
	}
	for _, m := range fx.notes {
		if err := s.localize(ctx, &m); err != nil {
			return err
		}
		if _, err := s.notify.Send(ctx, m); err != nil && !errors.Is(err, inbox.ErrMuted) {
			return err
		}
	}
	return nil
}

// appendOne appends one entry and carries out its effects at once, for a
// cause with a single entry and no notification.
func (s *Service) appendOne(ctx context.Context, p *program.Program, memberID bson.ObjectID, key string, typ ledger.EntryType, src ledger.Source, ch ledger.Change) (*ledger.Entry, bool, error) {
	fx := &effects{}
	e, created, err := s.appendEntry(ctx, fx, p, memberID, key, typ, src, ch)
	if err != nil {
		return nil, false, err
	}
	return e, created, s.carryOut(ctx, p, fx)
}

// effectsPath lets the rooms outside this package (rewards, offers,
// engagement, referrals) carry out their causes' effects on this one path.
type effectsPath struct{ s *Service }

func (x effectsPath) CarryOut(ctx context.Context, p *program.Program, entries []*ledger.Entry, notes ...inbox.Message) error {
	fx := &effects{}
	for _, e := range entries {
		fx.entry(e)
	}
	for _, m := range notes {
		fx.notify(m)
	}
	return x.s.carryOut(ctx, p, fx)
}
