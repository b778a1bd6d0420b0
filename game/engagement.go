package game

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
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
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/texts"
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

// EngagementKind says what an engagement entry records.
type EngagementKind string

const (
	EngagementActivity     EngagementKind = "ACTIVITY"
	EngagementCount        EngagementKind = "COUNT"
	EngagementFreezeBought EngagementKind = "FREEZE_BOUGHT"
	EngagementBadge        EngagementKind = "BADGE"
)

// Engagement is one entry of a member's engagement chain: streaks,
// counters and badges, serialized per member like the ledger.
type Engagement struct {
	ID       bson.ObjectID  `bson:"_id"`
	MemberID bson.ObjectID  `bson:"memberId"`
	Seq      int64          `bson:"seq"`
	Key      string         `bson:"key"`
	Kind     EngagementKind `bson:"kind"`
	At       time.Time      `bson:"at"`
	Streak   *streak.Event  `bson:"streak,omitempty"`
	// For badges: which badge and level.
	BadgeID    bson.ObjectID `bson:"badgeId,omitempty"`
	BadgeLevel string        `bson:"badgeLevel,omitempty"`
	// Cause is the activity (or count key) that led to this entry.
	Cause string          `bson:"cause,omitempty"`
	State EngagementState `bson:"state"`
}

// EngagementState is a member's counters, streak and badges after an entry.
type EngagementState struct {
	// Counters by name, and by name and month ("PURCHASES@2026-03", brand time).
	Counters map[string]int64 `bson:"counters"`
	Streak   streak.State     `bson:"streak"`
	// Badges maps a badge id to the levels earned.
	Badges map[string][]string `bson:"badges"`
}

func (s EngagementState) Clone() EngagementState {
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
func (s *EngagementState) count(c Counter, n int64, month string) {
	s.Counters[string(c)] += n
	s.Counters[string(c)+"@"+month] += n
}

// value reads a counter; streak counters come from the streak.
func (s *EngagementState) value(c Counter) int64 {
	switch c {
	case CounterCurrentStreak:
		return int64(s.Streak.Current)
	case CounterLongestStreak:
		return int64(s.Streak.Longest)
	}
	return s.Counters[string(c)]
}

type engagementStore struct {
	c   *mongo.Collection
	seq chain.Chain[Engagement]
}

func newEngagementStore(c *mongo.Collection) engagementStore {
	return engagementStore{c: c, seq: chain.Chain[Engagement]{C: c}}
}

const (
	indexEngagementKind = "member_kind"
	indexEngagementAt   = "at"
)

func (s engagementStore) indexes() []mongo.IndexModel {
	return append(s.seq.Indexes(),
		mongo.IndexModel{Keys: bson.D{{Key: "memberId", Value: 1}, {Key: "kind", Value: 1}}, Options: options.Index().SetName(indexEngagementKind)},
		// The streak campaign finds recently active members.
		mongo.IndexModel{Keys: bson.D{{Key: "at", Value: 1}}, Options: options.Index().SetName(indexEngagementAt)},
	)
}

// engage appends to the member's engagement chain under key.
func (s *Service) engage(ctx context.Context, memberID bson.ObjectID, key string, kind EngagementKind, change func(st *EngagementState, e *Engagement) error) (*Engagement, bool, error) {
	return s.engagement.seq.Append(ctx, memberID, key, func(head *Engagement) (*Engagement, error) {
		st := head.State.Clone()
		e := &Engagement{ID: bson.NewObjectID(), MemberID: memberID, Seq: head.Seq + 1, Key: key, Kind: kind, At: s.now().UTC()}
		if err := change(&st, e); err != nil {
			return nil, err
		}
		e.State = st
		return e, nil
	})
}

// brandMonth is the month of t in the brand's timezone.
func brandMonth(p *program.Program, t time.Time) string {
	return t.In(p.Location()).Format("2006-01")
}

// engageActivity moves counters and the streak for an activity, then
// awards any badge it unlocked.
func (s *Service) engageActivity(ctx context.Context, fx *effects, p *program.Program, m *member.Member, a *Activity) (*Engagement, error) {
	if a.Kind == program.ActivityRefund {
		return nil, nil
	}
	e, _, err := s.engage(ctx, m.ID, "act:"+a.ID.Hex(), EngagementActivity, func(st *EngagementState, e *Engagement) error {
		month := brandMonth(p, a.OccurredAt)
		switch a.Kind {
		case program.ActivityPurchase:
			st.count(CounterPurchases, 1, month)
			st.count(CounterSpend, a.AmountMinor, month)
		case program.ActivityCheckIn:
			st.count(CounterCheckIns, 1, month)
		case program.ActivityReview:
			st.count(CounterReviews, 1, month)
		}
		if p.Streak.Qualifies(a.Kind) {
			ev := st.Streak.Advance(p.Streak, a.OccurredAt, m.Timezone, m.Location())
			e.Streak = &ev
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return e, s.awardBadges(ctx, fx, p, m.ID, e.State, a.ID.Hex())
}

// badgesCausedBy returns the badge levels an activity unlocked.
func (s *Service) badgesCausedBy(ctx context.Context, memberID bson.ObjectID, cause string) ([]EarnedBadge, error) {
	cur, err := s.engagement.c.Find(ctx, bson.D{{Key: "memberId", Value: memberID}, {Key: "kind", Value: EngagementBadge}, {Key: "cause", Value: cause}})
	if err != nil {
		return nil, err
	}
	var awards []Engagement
	if err := cur.All(ctx, &awards); err != nil {
		return nil, err
	}
	out := make([]EarnedBadge, 0, len(awards))
	for _, a := range awards {
		var b Badge
		if err := s.badges.c.FindOne(ctx, bson.D{{Key: "_id", Value: a.BadgeID}}).Decode(&b); err != nil {
			return nil, err
		}
		out = append(out, EarnedBadge{Badge: &b, Level: a.BadgeLevel, EarnedAt: a.At})
	}
	return out, nil
}

// Count adds to one of a member's counters from elsewhere in the program
// (an event attended, a post created), once per key.
func (s *Service) Count(ctx context.Context, memberID bson.ObjectID, c Counter, n int64, key string) error {
	p, err := s.program.Get(ctx)
	if err != nil {
		return err
	}
	fx := &effects{}
	if err := s.count(ctx, fx, &p, memberID, c, n, key); err != nil {
		return err
	}
	return s.carryOut(ctx, &p, fx)
}

// count adds to a counter under key and awards the badges it unlocks,
// recording their effects in fx.
func (s *Service) count(ctx context.Context, fx *effects, p *program.Program, memberID bson.ObjectID, c Counter, n int64, key string) error {
	e, _, err := s.engage(ctx, memberID, "count:"+string(c)+":"+key, EngagementCount, func(st *EngagementState, e *Engagement) error {
		st.count(c, n, brandMonth(p, s.now()))
		return nil
	})
	if err != nil {
		return err
	}
	return s.awardBadges(ctx, fx, p, memberID, e.State, key)
}

// BuyStreakFreeze spends points on a streak freeze, once per idempotency key.
func (s *Service) BuyStreakFreeze(ctx context.Context, memberID bson.ObjectID, idempotencyKey string) (*streak.View, error) {
	if idempotencyKey == "" || len(idempotencyKey) > 128 {
		return nil, input.Errorf("idempotencyKey", "must be 1 to 128 characters")
	}
	p, err := s.program.Get(ctx)
	if err != nil {
		return nil, err
	}
	if p.Streak.FreezePrice == 0 {
		return nil, input.Errorf("idempotencyKey", "streak freezes are not for sale in this program")
	}
	head, err := s.engagement.seq.Head(ctx, memberID)
	if err != nil {
		return nil, err
	}
	key := "freeze:" + idempotencyKey
	if _, err := s.engagement.seq.ByKey(ctx, memberID, key); errors.Is(err, mongo.ErrNoDocuments) && head.State.Streak.Freezes >= p.Streak.FreezeMax {
		return nil, input.Errorf("idempotencyKey", "you already hold the most freezes allowed (%d)", p.Streak.FreezeMax)
	}
	// Pay first; the freeze is credited under the same key, so a retry
	// after a crash completes it without paying twice.
	if _, _, err := s.appendOne(ctx, &p, memberID, key, ledger.EntryRedeem, ledger.Source{Kind: ledger.SourceRedemption, ID: key},
		func(st *ledger.State, e *ledger.Entry, now time.Time) (bool, error) {
			if st.Available(now) < p.Streak.FreezePrice {
				return false, input.Wrap("idempotencyKey", fmt.Errorf("%w: a freeze costs %d", ledger.ErrInsufficientPoints, p.Streak.FreezePrice))
			}
			st.Debit(e, p.Streak.FreezePrice, now, true, nil)
			e.Reason = "Streak freeze"
			e.Lines = []ledger.Line{{Rule: "streak-freeze", Points: -p.Streak.FreezePrice, Reason: "one streak freeze"}}
			return true, nil
		}); err != nil {
		return nil, err
	}
	if _, _, err := s.engage(ctx, memberID, key, EngagementFreezeBought, func(st *EngagementState, e *Engagement) error {
		st.Streak.Freezes++
		return nil
	}); err != nil {
		return nil, err
	}
	return s.Streak(ctx, memberID)
}

// Streak returns the member's streak as they see it now.
func (s *Service) Streak(ctx context.Context, memberID bson.ObjectID) (*streak.View, error) {
	p, err := s.program.Get(ctx)
	if err != nil {
		return nil, err
	}
	m, err := s.members.Get(ctx, memberID)
	if err != nil {
		return nil, err
	}
	head, err := s.engagement.seq.Head(ctx, memberID)
	if err != nil {
		return nil, err
	}
	v := head.State.Streak.View(p.Streak, s.now(), m.Location())
	return &v, nil
}

// BadgeLevel is one level of a badge.
type BadgeLevel struct {
	Name        string `bson:"name"` // BRONZE, SILVER, GOLD…
	Threshold   int64  `bson:"threshold"`
	BonusPoints int64  `bson:"bonusPoints"`
}

// BadgeWindow limits a badge to what happened in a range of months
// (brand time), e.g. "3 purchases in March": From and To "2026-03".
type BadgeWindow struct {
	From string `bson:"from"`
	To   string `bson:"to"`
}

// Backfill is the progress of evaluating a new badge for existing members.
type Backfill struct {
	Done         bool `bson:"done"`
	batch.Cursor `bson:",inline"`
}

// Badge is an achievement with levels, defined by the brand as a rule over
// a member counter.
type Badge struct {
	ID          bson.ObjectID `bson:"_id"`
	Name        string        `bson:"name"`
	Description string        `bson:"description"`
	ImageURL    string        `bson:"imageUrl,omitempty"`
	Counter     Counter       `bson:"counter"`
	Window      *BadgeWindow  `bson:"window,omitempty"`
	Levels      []BadgeLevel  `bson:"levels"`
	// Secret badges are hidden until earned.
	Secret    bool      `bson:"secret"`
	Backfill  Backfill  `bson:"backfill"`
	CreatedAt time.Time `bson:"createdAt"`
}

// BadgeInput is a badge as the brand defines it.
type BadgeInput struct {
	Name        string
	Description string
	ImageURL    string
	Counter     Counter
	Window      *BadgeWindow
	Levels      []BadgeLevel
	Secret      bool
}

func (in *BadgeInput) validate() error {
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "" || len(in.Name) > 100:
		return input.Errorf("name", "must be 1 to 100 characters")
	case len(in.Description) > 1000:
		return input.Errorf("description", "must be at most 1000 characters")
	case !slices.Contains(Counters, in.Counter):
		return input.Errorf("counter", "unknown counter %q", in.Counter)
	case len(in.Levels) == 0 || len(in.Levels) > 10:
		return input.Errorf("levels", "give 1 to 10 levels")
	}
	if w := in.Window; w != nil {
		from, err1 := time.Parse("2006-01", w.From)
		to, err2 := time.Parse("2006-01", w.To)
		switch {
		case err1 != nil:
			return input.Errorf("window.from", "want a month as YYYY-MM")
		case err2 != nil || to.Before(from):
			return input.Errorf("window.to", "want a month as YYYY-MM, not before from")
		case in.Counter == CounterCurrentStreak || in.Counter == CounterLongestStreak:
			return input.Errorf("window", "streak counters take no window")
		}
	}
	names := map[string]bool{}
	for i, l := range in.Levels {
		f := fmt.Sprintf("levels[%d]", i)
		switch {
		case l.Name == "" || names[l.Name]:
			return input.Errorf(f+".name", "must be set and unique")
		case l.Threshold <= 0:
			return input.Errorf(f+".threshold", "must be positive")
		case i > 0 && l.Threshold <= in.Levels[i-1].Threshold:
			return input.Errorf(f+".threshold", "must be above the previous level's")
		case l.BonusPoints < 0 || l.BonusPoints > program.MaxPoints:
			return input.Errorf(f+".bonusPoints", "must be between 0 and %d", program.MaxPoints)
		}
		names[l.Name] = true
	}
	return nil
}

// progress is the badge's counter value for a member.
func (b *Badge) progress(st *EngagementState) int64 {
	if b.Window == nil {
		return st.value(b.Counter)
	}
	var n int64
	from, _ := time.Parse("2006-01", b.Window.From)
	to, _ := time.Parse("2006-01", b.Window.To)
	for m := from; !m.After(to); m = m.AddDate(0, 1, 0) {
		n += st.Counters[string(b.Counter)+"@"+m.Format("2006-01")]
	}
	return n
}

type badgeStore struct{ c *mongo.Collection }

func (s badgeStore) all(ctx context.Context) ([]*Badge, error) {
	cur, err := s.c.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(1000))
	if err != nil {
		return nil, err
	}
	var bs []*Badge
	return bs, cur.All(ctx, &bs)
}

// CreateBadge defines a badge; existing members are evaluated for it in
// the background (see BackfillBadges), with progress on the badge.
func (s *Service) CreateBadge(ctx context.Context, in BadgeInput) (*Badge, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	total, err := s.accounts.accounts.EstimatedDocumentCount(ctx)
	if err != nil {
		return nil, err
	}
	b := &Badge{ID: bson.NewObjectID(), Name: in.Name, Description: in.Description, ImageURL: in.ImageURL, Counter: in.Counter,
		Window: in.Window, Levels: in.Levels, Secret: in.Secret, Backfill: Backfill{Cursor: batch.Cursor{Total: total}, Done: total == 0}, CreatedAt: s.now().UTC()}
	if _, err := s.badges.c.InsertOne(ctx, b); err != nil {
		return nil, err
	}
	if !b.Backfill.Done {
		s.kickJobs()
	}
	return b, nil
}

// Badges lists every badge, oldest first.
func (s *Service) Badges(ctx context.Context) ([]*Badge, error) { return s.badges.all(ctx) }

// awardBadges awards every level st has reached and not yet earned. Each
// award is keyed by badge and level, in the engagement chain and in the
// ledger, so concurrent activities award a level exactly once.
func (s *Service) awardBadges(ctx context.Context, fx *effects, p *program.Program, memberID bson.ObjectID, st EngagementState, cause string) error {
	badges, err := s.badges.all(ctx)
	if err != nil {
		return err
	}
	fx.badges = fx.badges || len(badges) > 0
	for _, b := range badges {
		if err := s.awardBadge(ctx, fx, p, memberID, b, &st, cause); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) awardBadge(ctx context.Context, fx *effects, p *program.Program, memberID bson.ObjectID, b *Badge, st *EngagementState, cause string) error {
	value := b.progress(st)
	for _, l := range b.Levels {
		if value < l.Threshold || slices.Contains(st.Badges[b.ID.Hex()], l.Name) {
			continue
		}
		key := "badge:" + b.ID.Hex() + ":" + l.Name
		e, _, err := s.engage(ctx, memberID, key, EngagementBadge, func(st *EngagementState, e *Engagement) error {
			st.Badges[b.ID.Hex()] = append(st.Badges[b.ID.Hex()], l.Name)
			e.BadgeID, e.BadgeLevel, e.Cause = b.ID, l.Name, cause
			return nil
		})
		if err != nil {
			return err
		}
		*st = e.State
		if l.BonusPoints > 0 {
			_, _, err := s.appendEntry(ctx, fx, p, memberID, key, ledger.EntryEarn, ledger.Source{Kind: ledger.SourceBadge, ID: b.ID.Hex()},
				func(lst *ledger.State, le *ledger.Entry, now time.Time) (bool, error) {
					le.Reason = fmt.Sprintf("%s badge (%s)", b.Name, l.Name)
					le.Lines = []ledger.Line{{Rule: "badge", Points: l.BonusPoints, Reason: fmt.Sprintf("bonus for unlocking %s %s", b.Name, l.Name)}}
					lst.Credit(le, l.BonusPoints, now, ledger.ExpiresAfter(now, p.PointsExpireDays))
					lst.Earn(p, le, l.BonusPoints, now)
					return true, nil
				})
			if err != nil {
				return err
			}
		}
		fx.notify(inbox.Message{MemberID: memberID, Kind: inbox.KindBadgeUnlocked, Key: key,
			Template: texts.BadgeUnlocked, Data: map[string]any{"badge": b.Name, "level": l.Name, "description": b.Description}})
	}
	return nil
}

// BackfillBadges evaluates badges defined after members joined, a batch of
// members at a time, recording progress on each badge. Awards are keyed,
// so instances running it at once, or a restart half-way, award nothing twice.
func (s *Service) BackfillBadges(ctx context.Context, size int) (int, error) {
	cur, err := s.badges.c.Find(ctx, bson.D{{Key: "backfill.done", Value: false}})
	if err != nil {
		return 0, err
	}
	var pending []*Badge
	if err := cur.All(ctx, &pending); err != nil {
		return 0, err
	}
	p, err := s.program.Get(ctx)
	if err != nil {
		return 0, err
	}
	done := 0
	for _, b := range pending {
		// One member at a time: awards of one badge to one member are
		// keyed, so a rerun from the saved progress repeats nothing.
		r, stepErr := batch.Step(ctx, s.accounts.accounts, b.Backfill.After, size, 1, accountID,
			func(ctx context.Context, a *Account) (bool, error) {
				head, err := s.engagement.seq.Head(ctx, a.MemberID)
				if err != nil {
					return false, err
				}
				st := head.State.Clone()
				fx := &effects{}
				if err := s.awardBadge(ctx, fx, &p, a.MemberID, b, &st, "backfill"); err != nil {
					return false, err
				}
				return true, s.carryOut(ctx, &p, fx)
			})
		done += r.Done
		if r.Moved() {
			b.Backfill.Advance(r)
			b.Backfill.Done = r.Finished
			if _, err := s.badges.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: b.ID}}, bson.D{{Key: "$set", Value: bson.D{{Key: "backfill", Value: b.Backfill}}}}); err != nil {
				return done, err
			}
		}
		if stepErr != nil {
			return done, stepErr
		}
	}
	return done, nil
}

// EarnedBadge is a level a member holds.
type EarnedBadge struct {
	Badge    *Badge
	Level    string
	EarnedAt time.Time
}

// BadgeProgress is how far a member is from a badge's next level.
type BadgeProgress struct {
	Badge   *Badge
	Level   string
	Current int64
	Target  int64
}

// MemberBadges returns what the member earned and what is in reach.
// Secret badges appear only once a level is earned.
func (s *Service) MemberBadges(ctx context.Context, memberID bson.ObjectID) ([]EarnedBadge, []BadgeProgress, error) {
	badges, err := s.badges.all(ctx)
	if err != nil {
		return nil, nil, err
	}
	head, err := s.engagement.seq.Head(ctx, memberID)
	if err != nil {
		return nil, nil, err
	}
	cur, err := s.engagement.c.Find(ctx, bson.D{{Key: "memberId", Value: memberID}, {Key: "kind", Value: EngagementBadge}},
		options.Find().SetSort(bson.D{{Key: "seq", Value: 1}}))
	if err != nil {
		return nil, nil, err
	}
	var awards []Engagement
	if err := cur.All(ctx, &awards); err != nil {
		return nil, nil, err
	}
	byID := map[bson.ObjectID]*Badge{}
	for _, b := range badges {
		byID[b.ID] = b
	}
	var earned []EarnedBadge
	for _, a := range awards {
		if b := byID[a.BadgeID]; b != nil {
			earned = append(earned, EarnedBadge{Badge: b, Level: a.BadgeLevel, EarnedAt: a.At})
		}
	}
	st := head.State.Clone()
	var progress []BadgeProgress
	for _, b := range badges {
		have := st.Badges[b.ID.Hex()]
		if b.Secret && len(have) == 0 {
			continue
		}
		for _, l := range b.Levels {
			if !slices.Contains(have, l.Name) {
				progress = append(progress, BadgeProgress{Badge: b, Level: l.Name, Current: b.progress(&st), Target: l.Threshold})
				break
			}
		}
	}
	return earned, progress, nil
}
