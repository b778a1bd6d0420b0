// Package effects is the one ordered path on which the effects of a cause
// (an activity, a redemption, an adjustment, a badge) are carried out
// once its ledger entries and engagement are written: leaderboard scores,
// webhook events, then notifications in the member's locale. Every step is
// keyed by its cause, so running the path again finishes what a failure
// left undone and repeats nothing; a failure is returned, never only
// logged. Package game collects a cause (Cause) and runs it; the rooms
// (rewards, offers, engagement, referrals) carry out theirs through
// Path.CarryOut.
package effects

import (
	"context"
	"errors"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/activity"
	"github.com/regulars/regulars/game/engagement"
	"github.com/regulars/regulars/game/leaderboard"
	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/webhook"
)

// Cause collects what one cause (an activity, a redemption, an
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
// Steps 1 and 2 are written as they are computed (by package game and the
// rooms); Path.Run does 3 to 5 from what they recorded here. Running the whole path again (a replay of
// the activity, or the ResumeEffects job) finishes what a failure left
// undone and repeats nothing; a failure is returned, never only logged.
type Cause struct {
	// Activity is the cause when it is an activity (activity.recorded).
	Activity *activity.Activity
	// Fresh says the cause was just made (an activity recorded now, not
	// replayed or resumed): its notifications are sent insert-first
	// (inbox.Message.Fresh).
	Fresh   bool
	entries []*ledger.Entry
	notes   []inbox.Message
	// optOut caches members' leaderboard opt-out, prefilled by a caller
	// that has read the account already.
	optOut map[bson.ObjectID]bool
	// badges says the program has badges, so the cause may have unlocked some.
	badges bool
}

// Entry records a ledger entry of the cause, new or found again.
func (c *Cause) Entry(e *ledger.Entry) {
	if e != nil && !slices.ContainsFunc(c.entries, func(x *ledger.Entry) bool { return x.ID == e.ID }) {
		c.entries = append(c.entries, e)
	}
}

// Engaged records what an engagement step of the cause did: its badges'
// bonus entries and notifications.
func (c *Cause) Engaged(out engagement.Outcome) {
	for _, e := range out.Entries {
		c.Entry(e)
	}
	c.notes = append(c.notes, out.Notes...)
	c.badges = c.badges || out.Badges
}

// Badges says an engagement step ran with badges in the program, so the
// cause may have unlocked some.
func (c *Cause) Badges() bool { return c.badges }

// Notify queues a notification, sent after the leaderboards.
func (c *Cause) Notify(m inbox.Message) { c.notes = append(c.notes, m) }

// KnownOptOut records a member's opt-out read by the caller.
func (c *Cause) KnownOptOut(memberID bson.ObjectID, out bool) {
	if c.optOut == nil {
		c.optOut = map[bson.ObjectID]bool{}
	}
	c.optOut[memberID] = out
}

// Notifier sends members notifications.
type Notifier interface {
	Send(ctx context.Context, m inbox.Message) (*inbox.Notification, error)
}

// Webhooks records events for the brand's endpoints (webhook.Service):
// Emit is keyed by the event's cause, so the path may emit again.
type Webhooks interface {
	Emit(ctx context.Context, e webhook.Event) error
}

// Deps is what the path works with.
type Deps struct {
	Program interface {
		Get(ctx context.Context) (program.Program, error)
	}
	Members interface {
		Get(ctx context.Context, id bson.ObjectID) (*member.Member, error)
		GetMany(ctx context.Context, ids []bson.ObjectID) ([]*member.Member, error)
	}
	// Accounts say whether a member shows on the public boards (referral.Service).
	Accounts interface {
		OnPublicBoards(ctx context.Context, memberID bson.ObjectID) (bool, error)
	}
	Boards *leaderboard.Boards
	// Notifier is the notifier in use, read at each send (nil: none are
	// sent), so it may be replaced after the path is made.
	Notifier func() Notifier
	Now      func() time.Time
}

// Path carries out causes' effects.
type Path struct {
	deps  Deps
	hooks Webhooks
}

// New returns the effects path over deps.
func New(deps Deps) *Path { return &Path{deps: deps} }

// SetWebhooks makes the path emit webhook events to h (nil: none). Set
// before serving.
func (x *Path) SetWebhooks(h Webhooks) { x.hooks = h }

// Run brings the leaderboards up to the recorded entries, emits the
// cause's webhook events, then sends the queued notifications. It stops at
// the first failure and returns it.
func (x *Path) Run(ctx context.Context, p *program.Program, fx *Cause) error {
	for i, e := range fx.entries {
		boards := x.boardsToScore(fx.entries, i)
		if len(boards) == 0 {
			continue
		}
		hidden, ok := fx.optOut[e.MemberID]
		if !ok {
			shown, err := x.deps.Accounts.OnPublicBoards(ctx, e.MemberID)
			if err != nil {
				return err
			}
			hidden = !shown
			fx.KnownOptOut(e.MemberID, hidden)
		}
		if err := x.scoreBoards(ctx, e, boards, hidden); err != nil {
			return err
		}
	}
	if err := x.emitHooks(ctx, p, fx); err != nil {
		return err
	}
	notify := x.deps.Notifier()
	if notify == nil {
		return nil
	}
	for _, m := range fx.notes {
		m.Fresh = m.Fresh || fx.Fresh
		if err := x.Localize(ctx, &m); err != nil {
			return err
		}
		if _, err := notify.Send(ctx, m); err != nil && !errors.Is(err, inbox.ErrMuted) {
			return err
		}
	}
	return nil
}

// CarryOut lets the rooms (rewards, offers, engagement, referrals) carry
// out their causes' effects on this one path: entries and notifications
// of one cause.
func (x *Path) CarryOut(ctx context.Context, p *program.Program, entries []*ledger.Entry, notes ...inbox.Message) error {
	fx := &Cause{}
	for _, e := range entries {
		fx.Entry(e)
	}
	for _, m := range notes {
		fx.Notify(m)
	}
	return x.Run(ctx, p, fx)
}

// The game decides leaderboard scores (points earned in a period, kept in
// each ledger entry's state); package leaderboard keeps and ranks them.

// scoreBoards brings the member's leaderboard scores up to a ledger entry.
// It runs for every entry a cause produced, new or found again (see
// Cause), so a crash between the ledger and the boards heals when the
// cause is carried out again.
func (x *Path) scoreBoards(ctx context.Context, e *ledger.Entry, boards []string, hidden bool) error {
	scores := make([]leaderboard.Score, len(boards))
	for i, board := range boards {
		scores[i] = leaderboard.Score{Board: board, Score: e.State.Boards[board]}
	}
	return x.deps.Boards.SetScores(ctx, e.MemberID, scores, e.Seq, hidden, x.deps.Now())
}

// boardsToScore are the boards entry i of a cause scores: those it lists
// that no later entry of the member in the cause lists too. The later
// entry's score of the board is as of a higher sequence number, which the
// boards would keep anyway (see leaderboard.Boards.SetScore), so the
// earlier score would only be written to be replaced: a purchase that
// unlocks a badge with bonus points moves the boards once, not twice.
func (x *Path) boardsToScore(entries []*ledger.Entry, i int) []string {
	e := entries[i]
	boards := e.Boards
	for _, later := range entries {
		if later.MemberID != e.MemberID || later.Seq <= e.Seq {
			continue
		}
		boards = slices.DeleteFunc(slices.Clone(boards), func(b string) bool { return slices.Contains(later.Boards, b) })
	}
	return boards
}

// Localize sets the locale of a templated message that names none: the
// member's, else the program's. Callers that hold the member set it
// themselves and spare the reads.
func (x *Path) Localize(ctx context.Context, m *inbox.Message) error {
	if m.Template == "" || m.Locale != "" {
		return nil
	}
	p, err := x.deps.Program.Get(ctx)
	if err != nil {
		return err
	}
	mem, err := x.deps.Members.Get(ctx, m.MemberID)
	if err != nil {
		return err
	}
	m.Locale = p.LocaleOf(mem)
	return nil
}

// Send sends m through the notifier in the member's locale when m names
// none (campaign.Notifier, the dry runs' notifier). Without a notifier
// every send answers as muted: nothing is sent, nothing is wrong.
func (x *Path) Send(ctx context.Context, m inbox.Message) (*inbox.Notification, error) {
	notify := x.deps.Notifier()
	if notify == nil {
		return nil, inbox.ErrMuted
	}
	if err := x.Localize(ctx, &m); err != nil {
		return nil, err
	}
	return notify.Send(ctx, m)
}

// SendBatch sends ms as Send sends each: the messages that name no locale
// get their members' (one read of the program and one of those members
// for the batch), and the batch goes to the notifier at once when it can
// take a batch (inbox.Inbox.SendBatch), else one message at a time. ns[i]
// is message i's notification, nil when its member muted its category or
// there is no notifier; done counts the messages, from the first, that are
// settled before err.
func (x *Path) SendBatch(ctx context.Context, ms []inbox.Message) (ns []*inbox.Notification, done int, err error) {
	notify := x.deps.Notifier()
	if notify == nil {
		return make([]*inbox.Notification, len(ms)), len(ms), nil
	}
	if ms, err = x.localizeAll(ctx, ms); err != nil {
		return nil, 0, err
	}
	if b, ok := notify.(interface {
		SendBatch(ctx context.Context, ms []inbox.Message) ([]*inbox.Notification, int, error)
	}); ok {
		return b.SendBatch(ctx, ms)
	}
	ns = make([]*inbox.Notification, len(ms))
	for i, m := range ms {
		n, err := notify.Send(ctx, m)
		if err != nil && !errors.Is(err, inbox.ErrMuted) {
			return ns, i, err
		}
		ns[i] = n
	}
	return ns, len(ms), nil
}

// localizeAll returns ms with the locale of each templated message that
// names none set, as Localize does for one, in two reads for them all.
func (x *Path) localizeAll(ctx context.Context, ms []inbox.Message) ([]inbox.Message, error) {
	var ids []bson.ObjectID
	for _, m := range ms {
		if m.Template != "" && m.Locale == "" {
			ids = append(ids, m.MemberID)
		}
	}
	if len(ids) == 0 {
		return ms, nil
	}
	p, err := x.deps.Program.Get(ctx)
	if err != nil {
		return nil, err
	}
	found, err := x.deps.Members.GetMany(ctx, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[bson.ObjectID]*member.Member, len(found))
	for i, mem := range found {
		byID[ids[i]] = mem // nil for a member gone since: the program's locale
	}
	ms = slices.Clone(ms)
	for i := range ms {
		if m := &ms[i]; m.Template != "" && m.Locale == "" {
			m.Locale = p.LocaleOf(byID[m.MemberID])
		}
	}
	return ms, nil
}

func memberRef(id bson.ObjectID) webhook.Ref { return webhook.Ref{Type: "Member", ID: id.Hex()} }

// emitHooks emits what the cause in fx did: activity.recorded for an
// activity, tier.changed for each entry that moved a tier (as its
// TIER_CHANGED notification does, and a new member's first move up
// from the first tier), badge.unlocked for each badge level
// announced. Each is keyed by its cause, so a replay emits nothing new.
func (x *Path) emitHooks(ctx context.Context, p *program.Program, fx *Cause) error {
	if x.hooks == nil {
		return nil
	}
	if a := fx.Activity; a != nil {
		data := map[string]any{
			"activity": webhook.Ref{Type: "Activity", ID: a.ID.Hex()}, "member": memberRef(a.MemberID),
			"kind": a.Kind, "externalId": a.ExternalID, "occurredAt": a.OccurredAt,
		}
		if a.AmountMinor != 0 {
			data["amountMinor"], data["currency"] = a.AmountMinor, a.Currency
		}
		var points int64
		for _, e := range fx.entries {
			if e.MemberID == a.MemberID && e.Source.Kind == ledger.SourceActivity && e.Source.ID == a.ID.Hex() {
				points += e.Amount
			}
		}
		data["points"] = points
		if err := x.hooks.Emit(ctx, webhook.Event{Type: webhook.ActivityRecorded, Cause: a.ID.Hex(), At: a.CreatedAt, Data: data}); err != nil {
			return err
		}
	}
	for _, e := range fx.entries {
		if e.TierChange == nil || e.TierChange.To == "" || e.TierChange.From == e.TierChange.To {
			continue
		}
		from := p.TierOf(e.TierChange.From) // a new member starts in the first tier
		if err := x.hooks.Emit(ctx, webhook.Event{Type: webhook.TierChanged, Cause: e.ID.Hex(), At: e.CreatedAt, Data: map[string]any{
			"member": memberRef(e.MemberID), "from": from, "to": e.TierChange.To,
			"ledgerEntry": webhook.Ref{Type: "LedgerEntry", ID: e.ID.Hex()},
		}}); err != nil {
			return err
		}
	}
	for _, m := range fx.notes {
		if m.Kind != inbox.KindBadgeUnlocked || m.Related == nil {
			continue
		}
		level, _ := m.Data["level"].(string)
		if err := x.hooks.Emit(ctx, webhook.Event{Type: webhook.BadgeUnlocked, Cause: m.MemberID.Hex() + ":" + m.Key, Data: map[string]any{
			"member": memberRef(m.MemberID), "badge": webhook.Ref{Type: "Badge", ID: m.Related.ID}, "level": level,
		}}); err != nil {
			return err
		}
	}
	return nil
}
