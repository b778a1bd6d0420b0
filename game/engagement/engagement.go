// Package engagement is what members do beyond points: counters of their
// activities, their streak, and the badges the brand defines over the
// counters. It owns the collections engagement (each member's chain of
// entries, numbered like the ledger, each with the counters, streak and
// badges after it) and badges.
//
// Every step is keyed by its cause (the activity, the count key, the badge
// and level), so a replay or a race changes nothing twice. A badge's bonus
// points are a keyed ledger entry; what follows them (leaderboards,
// notifications) goes through the game's one effects path: a step inside
// a cause (Engage, Add) returns an Outcome that the cause carries out; a
// cause of its own (Count, BuyStreakFreeze, BackfillBadges) hands its
// outcome to Effects.
package engagement

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/game/streak"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/batch"
	"github.com/regulars/regulars/internal/chain"
	"github.com/regulars/regulars/internal/mongoindex"
	"github.com/regulars/regulars/member"
)

// Counter names what badges are earned on.
type Counter string

const (
	CounterPurchases          Counter = "PURCHASES"
	CounterSpend              Counter = "SPEND" // minor units
	CounterCheckIns           Counter = "CHECK_INS"
	CounterReviews            Counter = "REVIEWS"
	CounterReferralsConverted Counter = "REFERRALS_CONVERTED"
	CounterEventsAttended     Counter = "EVENTS_ATTENDED"
	CounterPostsCreated       Counter = "POSTS_CREATED"
	CounterCurrentStreak      Counter = "CURRENT_STREAK"
	CounterLongestStreak      Counter = "LONGEST_STREAK"
)

// Counters lists every counter a badge may use.
var Counters = []Counter{CounterPurchases, CounterSpend, CounterCheckIns, CounterReviews, CounterReferralsConverted,
	CounterEventsAttended, CounterPostsCreated, CounterCurrentStreak, CounterLongestStreak}

// Kind says what an entry records.
type Kind string

const (
	KindActivity     Kind = "ACTIVITY"
	KindCount        Kind = "COUNT"
	KindFreezeBought Kind = "FREEZE_BOUGHT"
	KindBadge        Kind = "BADGE"
)

// Entry is one entry of a member's engagement chain: streaks, counters and
// badges, serialized per member like the ledger.
type Entry struct {
	ID       bson.ObjectID `bson:"_id"`
	MemberID bson.ObjectID `bson:"memberId"`
	Seq      int64         `bson:"seq"`
	Key      string        `bson:"key"`
	Kind     Kind          `bson:"kind"`
	At       time.Time     `bson:"at"`
	Streak   *streak.Event `bson:"streak,omitempty"`
	// For badges: which badge and level.
	BadgeID    bson.ObjectID `bson:"badgeId,omitempty"`
	BadgeLevel string        `bson:"badgeLevel,omitempty"`
	// Cause is the activity (or count key) that led to this entry.
	Cause string `bson:"cause,omitempty"`
	State State  `bson:"state"`
}

// State is a member's counters, streak and badges after an entry.
type State struct {
	// Counters by name, and by name and month ("PURCHASES@2026-03", brand time).
	Counters map[string]int64 `bson:"counters"`
	Streak   streak.State     `bson:"streak"`
	// Badges maps a badge id to the levels earned.
	Badges map[string][]string `bson:"badges"`
}

// Clone returns a deep copy whose maps are never nil.
func (s State) Clone() State {
	c := s
	c.Counters = maps.Clone(s.Counters)
	if c.Counters == nil {
		c.Counters = map[string]int64{}
	}
	c.Badges = maps.Clone(s.Badges)
	if c.Badges == nil {
		c.Badges = map[string][]string{}
	}
	c.Streak.Days = slices.Clone(s.Streak.Days)
	c.Streak.FrozenDays = slices.Clone(s.Streak.FrozenDays)
	return c
}

// count adds n to a counter and to its month bucket.
func (s *State) count(c Counter, n int64, month string) {
	s.Counters[string(c)] += n
	s.Counters[string(c)+"@"+month] += n
}

// value reads a counter; streak counters come from the streak.
func (s *State) value(c Counter) int64 {
	switch c {
	case CounterCurrentStreak:
		return int64(s.Streak.Current)
	case CounterLongestStreak:
		return int64(s.Streak.Longest)
	}
	return s.Counters[string(c)]
}

// Effects carries out what follows ledger entries on the game's one
// effects path (see reward.Effects): their leaderboard scores, then the
// notifications. Carrying out the same entries and keyed notifications
// again repeats nothing.
type Effects interface {
	CarryOut(ctx context.Context, p *program.Program, entries []*ledger.Entry, notes ...inbox.Message) error
}

// Members is what engagement needs of accounts: timezones.
type Members interface {
	Get(ctx context.Context, id bson.ObjectID) (*member.Member, error)
}

// Roster is the members of the program, walked in id order (the game's
// accounts); a new badge is evaluated for each.
type Roster interface {
	// Count estimates how many members there are.
	Count(ctx context.Context) (int64, error)
	// Step runs work on the next size members after the member id after,
	// up to workers at once (see internal/batch).
	Step(ctx context.Context, after bson.ObjectID, size, workers int, work func(ctx context.Context, memberID bson.ObjectID) (bool, error)) (batch.Result, error)
}

// Deps is what engagement uses of the rest of the game.
type Deps struct {
	Program program.Store
	// Ledger takes a freeze's price and a badge's bonus points.
	Ledger  *ledger.Ledger
	Members Members
	Roster  Roster
	Effects Effects
	// Kick wakes the background jobs when a badge needs a backfill.
	Kick func()
	// Now is the clock, read at every call.
	Now func() time.Time
}

// Service is members' engagement over one database.
type Service struct {
	Deps
	entries entryStore
	badges  badgeStore
}

// New returns the engagement over db.
func New(db *mongo.Database, d Deps) *Service {
	return &Service{Deps: d, entries: newEntryStore(db.Collection("engagement")), badges: badgeStore{db.Collection("badges")}}
}

// EnsureIndexes creates the indexes of engagement and badges; safe to repeat.
func (s *Service) EnsureIndexes(ctx context.Context) error {
	return mongoindex.Ensure(ctx, s.entries.c, s.entries.indexes()...)
}

// Outcome is what a step inside a cause did that the cause carries out on
// its effects path: the bonus entries of the badges it unlocked (new or
// found again) and their notifications, in order.
type Outcome struct {
	Entries []*ledger.Entry
	Notes   []inbox.Message
	// Badges says the program has badges, so the step may have unlocked some.
	Badges bool
	// Unlocked are the badge levels awarded under the step's cause, in
	// order (what CausedBy reads back).
	Unlocked []EarnedBadge
}

type entryStore struct {
	c   *mongo.Collection
	seq chain.Chain[Entry]
}

func newEntryStore(c *mongo.Collection) entryStore {
	return entryStore{c: c, seq: chain.Chain[Entry]{C: c}}
}

const (
	IndexKind = "member_kind"
	IndexAt   = "at"
)

func (s entryStore) indexes() []mongo.IndexModel {
	return append(s.seq.Indexes(),
		// A member's badge awards (awardsOf).
		mongo.IndexModel{Keys: bson.D{{Key: "memberId", Value: 1}, {Key: "kind", Value: 1}}, Options: options.Index().SetName(IndexKind)},
		// The streak campaign finds recently active members (StreaksAtRisk).
		mongo.IndexModel{Keys: bson.D{{Key: "at", Value: 1}}, Options: options.Index().SetName(IndexAt)},
	)
}

// awardsOf returns a member's badge awards, oldest first, those of one
// cause only when cause is set.
func (s entryStore) awardsOf(ctx context.Context, memberID bson.ObjectID, cause string) ([]Entry, error) {
	filter := bson.D{{Key: "memberId", Value: memberID}, {Key: "kind", Value: KindBadge}}
	if cause != "" {
		filter = append(filter, bson.E{Key: "cause", Value: cause})
	}
	cur, err := s.c.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "seq", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var awards []Entry
	return awards, cur.All(ctx, &awards)
}

// recentMembers returns the members with an entry since t, in the order first seen.
func (s entryStore) recentMembers(ctx context.Context, since time.Time) ([]bson.ObjectID, error) {
	cur, err := s.c.Find(ctx, bson.D{{Key: "at", Value: bson.D{{Key: "$gte", Value: since}}}},
		options.Find().SetProjection(bson.D{{Key: "memberId", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var docs []struct {
		MemberID bson.ObjectID `bson:"memberId"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	seen := map[bson.ObjectID]bool{}
	var ids []bson.ObjectID
	for _, d := range docs {
		if !seen[d.MemberID] {
			seen[d.MemberID] = true
			ids = append(ids, d.MemberID)
		}
	}
	return ids, nil
}

// engage appends to the member's engagement chain under key. A key that
// is most likely new (fresh) costs a read of the head and an insert; any
// other is looked up first, as a repeat then costs one read (chain.AppendNew).
// change only computes: it may run for a key already in the chain.
func (s *Service) engage(ctx context.Context, memberID bson.ObjectID, key string, fresh bool, kind Kind, change func(st *State, e *Entry) error) (*Entry, bool, error) {
	appendTo := s.entries.seq.Append
	if fresh {
		appendTo = s.entries.seq.AppendNew
	}
	return appendTo(ctx, memberID, key, s.nextEntry(memberID, key, kind, change))
}

// engageAfter is engage for a key most likely new, built on head, the
// newest entry the caller knows: one insert, the key and head read again
// only if it collides (chain.AppendAfter).
func (s *Service) engageAfter(ctx context.Context, memberID bson.ObjectID, key string, head *Entry, kind Kind, change func(st *State, e *Entry) error) (*Entry, bool, error) {
	return s.entries.seq.AppendAfter(ctx, memberID, key, head, s.nextEntry(memberID, key, kind, change))
}

// nextEntry builds the entry change makes on a head.
func (s *Service) nextEntry(memberID bson.ObjectID, key string, kind Kind, change func(st *State, e *Entry) error) func(head *Entry) (*Entry, error) {
	return func(head *Entry) (*Entry, error) {
		st := head.State.Clone()
		e := &Entry{ID: bson.NewObjectID(), MemberID: memberID, Seq: head.Seq + 1, Key: key, Kind: kind, At: s.Now().UTC()}
		if err := change(&st, e); err != nil {
			return nil, err
		}
		e.State = st
		return e, nil
	}
}

// brandMonth is the month of t in the brand's timezone.
func brandMonth(p *program.Program, t time.Time) string {
	return t.In(p.Location()).Format("2006-01")
}

// Activity is what engagement reads of an activity.
type Activity struct {
	ID          bson.ObjectID
	Kind        program.ActivityKind
	AmountMinor int64
	OccurredAt  time.Time
	// New says the activity was just recorded, so nothing of it is in the
	// engagement chain yet (most likely: a racing replay may have been
	// quicker, which the chain's unique key settles).
	New bool
	// LedgerHead is, for a new activity, the member's newest ledger entry
	// as its cause left it (nil: unknown): a badge's bonus entry builds on
	// it instead of reading it (a stale one is read again).
	LedgerHead *ledger.Entry
}

// Engage moves the member's counters and streak for an activity (once:
// keyed by it), then awards any badge level it unlocked. A refund engages
// nothing (nil entry).
func (s *Service) Engage(ctx context.Context, p *program.Program, m *member.Member, a Activity) (*Entry, Outcome, error) {
	if a.Kind == program.ActivityRefund {
		return nil, Outcome{}, nil
	}
	e, _, err := s.engage(ctx, m.ID, "act:"+a.ID.Hex(), a.New, KindActivity, func(st *State, e *Entry) error {
		month := brandMonth(p, a.OccurredAt)
		switch a.Kind {
		case program.ActivityPurchase:
			st.count(CounterPurchases, 1, month)
			st.count(CounterSpend, a.AmountMinor, month)
		case program.ActivityCheckIn:
			st.count(CounterCheckIns, 1, month)
		case program.ActivityReview:
			st.count(CounterReviews, 1, month)
		case program.ActivityEventAttendance:
			st.count(CounterEventsAttended, 1, month)
		case program.ActivityCommunityPost:
			st.count(CounterPostsCreated, 1, month)
		}
		if p.Streak.Qualifies(a.Kind) {
			ev := st.Streak.Advance(p.Streak, a.OccurredAt, m.Timezone, m.Location())
			e.Streak = &ev
		}
		return nil
	})
	if err != nil {
		return nil, Outcome{}, err
	}
	var out Outcome
	return e, out, s.awardBadges(ctx, &out, p, m.ID, e, a.New, a.LedgerHead, a.ID.Hex())
}

// Add adds n to one of a member's counters inside a cause (a referral
// converted), once per key, and awards the badge levels it unlocked.
func (s *Service) Add(ctx context.Context, p *program.Program, memberID bson.ObjectID, c Counter, n int64, key string) (Outcome, error) {
	e, _, err := s.engage(ctx, memberID, "count:"+string(c)+":"+key, false, KindCount, func(st *State, e *Entry) error {
		st.count(c, n, brandMonth(p, s.Now()))
		return nil
	})
	if err != nil {
		return Outcome{}, err
	}
	var out Outcome
	return out, s.awardBadges(ctx, &out, p, memberID, e, false, nil, key)
}

// Count adds to one of a member's counters from elsewhere in the program
// (an event attended, a post created), once per key, and carries out what
// the badges it unlocked bring.
func (s *Service) Count(ctx context.Context, memberID bson.ObjectID, c Counter, n int64, key string) error {
	p, err := s.Program.Get(ctx)
	if err != nil {
		return err
	}
	out, err := s.Add(ctx, &p, memberID, c, n, key)
	if err != nil {
		return err
	}
	return s.Effects.CarryOut(ctx, &p, out.Entries, out.Notes...)
}

// BuyStreakFreeze spends points on a streak freeze, once per idempotency key.
func (s *Service) BuyStreakFreeze(ctx context.Context, memberID bson.ObjectID, idempotencyKey string) (*streak.View, error) {
	idempotencyKey, err := input.Identifier("idempotencyKey", idempotencyKey, 128)
	if err != nil {
		return nil, err
	}
	p, err := s.Program.Get(ctx)
	if err != nil {
		return nil, err
	}
	if p.Streak.FreezePrice == 0 {
		return nil, input.Errorf("idempotencyKey", "streak freezes are not for sale in this program")
	}
	head, err := s.entries.seq.Head(ctx, memberID)
	if err != nil {
		return nil, err
	}
	key := "freeze:" + idempotencyKey
	if _, err := s.entries.seq.ByKey(ctx, memberID, key); errors.Is(err, mongo.ErrNoDocuments) && head.State.Streak.Freezes >= p.Streak.FreezeMax {
		return nil, input.Errorf("idempotencyKey", "you already hold the most freezes allowed (%d)", p.Streak.FreezeMax)
	}
	// Pay first; the freeze is credited under the same key, so a retry
	// after a crash completes it without paying twice.
	paid, _, err := s.Ledger.Append(ctx, &p, memberID, key, ledger.EntryRedeem, ledger.Source{Kind: ledger.SourceStreakFreeze, ID: key},
		func(st *ledger.State, e *ledger.Entry, now time.Time) (bool, error) {
			if st.Available(now) < p.Streak.FreezePrice {
				return false, input.Wrap("idempotencyKey", fmt.Errorf("%w: a freeze costs %d", ledger.ErrInsufficientPoints, p.Streak.FreezePrice))
			}
			st.Debit(e, p.Streak.FreezePrice, now, true, nil)
			e.Reason = "Streak freeze"
			e.Lines = []ledger.Line{{Rule: "streak-freeze", Points: -p.Streak.FreezePrice, Reason: "one streak freeze"}}
			return true, nil
		})
	if err != nil {
		return nil, err
	}
	if err := s.Effects.CarryOut(ctx, &p, []*ledger.Entry{paid}); err != nil {
		return nil, err
	}
	if _, _, err := s.engage(ctx, memberID, key, false, KindFreezeBought, func(st *State, e *Entry) error {
		st.Streak.Freezes++
		return nil
	}); err != nil {
		return nil, err
	}
	return s.Streak(ctx, memberID)
}

// Streak returns the member's streak as they see it now.
func (s *Service) Streak(ctx context.Context, memberID bson.ObjectID) (*streak.View, error) {
	p, err := s.Program.Get(ctx)
	if err != nil {
		return nil, err
	}
	m, err := s.Members.Get(ctx, memberID)
	if err != nil {
		return nil, err
	}
	head, err := s.entries.seq.Head(ctx, memberID)
	if err != nil {
		return nil, err
	}
	v := head.State.Streak.View(p.Streak, s.Now(), m.Location())
	return &v, nil
}

// StreaksAtRisk calls at for every member active in the last eight days
// whose streak is at risk now (today's activity missing late in their
// day), with their streak as they see it. A member who cannot be read is
// passed over.
func (s *Service) StreaksAtRisk(ctx context.Context, p *program.Program, at func(m *member.Member, v streak.View)) error {
	now := s.Now()
	recent, err := s.entries.recentMembers(ctx, now.Add(-8*24*time.Hour))
	if err != nil {
		return err
	}
	for _, memberID := range recent {
		m, err := s.Members.Get(ctx, memberID)
		if err != nil {
			continue
		}
		head, err := s.entries.seq.Head(ctx, memberID)
		if err != nil {
			return err
		}
		if v := head.State.Streak.View(p.Streak, now, m.Location()); v.AtRisk {
			at(m, v)
		}
	}
	return nil
}
