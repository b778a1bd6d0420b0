package engagement

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/batch"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/texts"
)

var ErrBadgeNotFound = fault.New(fault.NotFound, "badge not found")

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
	// What members read of a badge follows the text policy (input.Text).
	var err error
	if in.Name, err = input.Line("name", in.Name, 100); err != nil {
		return err
	}
	if in.Description, err = (input.Text{Max: 1000, Multiline: true, Optional: true}).Check("description", in.Description); err != nil {
		return err
	}
	if in.ImageURL != "" {
		if u, perr := url.Parse(in.ImageURL); perr != nil || u.Scheme != "https" || u.Host == "" || len(in.ImageURL) > 2048 {
			return input.Errorf("imageUrl", "must be an https URL")
		}
	}
	switch {
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
	for i := range in.Levels {
		f := fmt.Sprintf("levels[%d]", i)
		if in.Levels[i].Name, err = input.Line(f+".name", in.Levels[i].Name, 40); err != nil {
			return err
		}
		l := in.Levels[i]
		switch {
		case names[l.Name]:
			return input.Errorf(f+".name", "must be set and unique")
		case l.Threshold <= 0 || l.Threshold > program.MaxBalance:
			return input.Errorf(f+".threshold", "must be between 1 and %d", program.MaxBalance)
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
func (b *Badge) progress(st *State) int64 {
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

func (s badgeStore) byIDs(ctx context.Context, ids []bson.ObjectID) (map[bson.ObjectID]*Badge, error) {
	cur, err := s.c.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return nil, err
	}
	var bs []*Badge
	if err := cur.All(ctx, &bs); err != nil {
		return nil, err
	}
	byID := make(map[bson.ObjectID]*Badge, len(bs))
	for _, b := range bs {
		byID[b.ID] = b
	}
	return byID, nil
}

// backfilling returns the badges whose backfill is not done.
func (s badgeStore) backfilling(ctx context.Context) ([]*Badge, error) {
	cur, err := s.c.Find(ctx, bson.D{{Key: "backfill.done", Value: false}})
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
	total, err := s.Roster.Count(ctx)
	if err != nil {
		return nil, err
	}
	b := &Badge{ID: bson.NewObjectID(), Name: in.Name, Description: in.Description, ImageURL: in.ImageURL, Counter: in.Counter,
		Window: in.Window, Levels: in.Levels, Secret: in.Secret, Backfill: Backfill{Cursor: batch.Cursor{Total: total}, Done: total == 0}, CreatedAt: s.Now().UTC()}
	if _, err := s.badges.c.InsertOne(ctx, b); err != nil {
		return nil, err
	}
	if !b.Backfill.Done && s.Kick != nil {
		s.Kick()
	}
	return b, nil
}

// Badges lists every badge, oldest first.
func (s *Service) Badges(ctx context.Context) ([]*Badge, error) { return s.badges.all(ctx) }

// BadgeExists reports whether the brand has such a badge.
func (s *Service) BadgeExists(ctx context.Context, badgeID bson.ObjectID) (bool, error) {
	n, err := s.badges.c.CountDocuments(ctx, bson.D{{Key: "_id", Value: badgeID}})
	return n > 0, err
}

// HasBadge reports whether the member has earned a level of the badge.
func (s *Service) HasBadge(ctx context.Context, memberID, badgeID bson.ObjectID) (bool, error) {
	head, err := s.entries.seq.Head(ctx, memberID)
	if err != nil {
		return false, err
	}
	return len(head.State.Badges[badgeID.Hex()]) > 0, nil
}

// HeldBadges lists the ids (hex) of the badges the member holds a level
// of, for the earning rules' snapshot (game/rules.Snapshot).
func (s *Service) HeldBadges(ctx context.Context, memberID bson.ObjectID) ([]string, error) {
	head, err := s.entries.seq.Head(ctx, memberID)
	if err != nil {
		return nil, err
	}
	var out []string
	for id, levels := range head.State.Badges {
		if len(levels) > 0 {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out, nil
}

// awardBadges awards every level the state of head (the entry the cause
// just wrote or found) has reached and not yet earned. Each award is keyed
// by badge and level, in the engagement chain and in the ledger, so
// concurrent activities award a level exactly once. fresh says the cause
// was just made: its awards are then built on head (and the bonus entries
// on ledgerHead, when set) and inserted at once, their keys read only on a
// collision (chain.AppendAfter), instead of each reading its key and the
// head first.
func (s *Service) awardBadges(ctx context.Context, out *Outcome, p *program.Program, memberID bson.ObjectID, head *Entry, fresh bool, ledgerHead *ledger.Entry, cause string) error {
	badges, err := s.badges.all(ctx)
	if err != nil {
		return err
	}
	out.Badges = out.Badges || len(badges) > 0
	aw := award{fresh: fresh, head: head, ledgerHead: ledgerHead}
	for _, b := range badges {
		if err := s.awardBadge(ctx, out, p, memberID, b, &aw, cause); err != nil {
			return err
		}
	}
	return nil
}

// award is where a member's badge awards build from: the newest engagement
// entry known (its state says the levels held) and, for a fresh cause, the
// newest ledger entry known (nil: read it).
type award struct {
	fresh      bool
	head       *Entry
	ledgerHead *ledger.Entry
}

func (s *Service) awardBadge(ctx context.Context, out *Outcome, p *program.Program, memberID bson.ObjectID, b *Badge, aw *award, cause string) error {
	value := b.progress(&aw.head.State)
	for _, l := range b.Levels {
		if value < l.Threshold || slices.Contains(aw.head.State.Badges[b.ID.Hex()], l.Name) {
			continue
		}
		key := "badge:" + b.ID.Hex() + ":" + l.Name
		change := func(st *State, e *Entry) error {
			st.Badges[b.ID.Hex()] = append(st.Badges[b.ID.Hex()], l.Name)
			e.BadgeID, e.BadgeLevel, e.Cause = b.ID, l.Name, cause
			return nil
		}
		var e *Entry
		var err error
		if aw.fresh {
			e, _, err = s.engageAfter(ctx, memberID, key, aw.head, KindBadge, change)
		} else {
			e, _, err = s.engage(ctx, memberID, key, false, KindBadge, change)
		}
		if err != nil {
			return err
		}
		aw.head = e
		if e.Cause == cause {
			out.Unlocked = append(out.Unlocked, EarnedBadge{Badge: b, Level: l.Name, EarnedAt: e.At})
		}
		if l.BonusPoints > 0 {
			bonus := func(lst *ledger.State, le *ledger.Entry, now time.Time) (bool, error) {
				le.Reason = fmt.Sprintf("%s badge (%s)", b.Name, l.Name)
				le.Lines = []ledger.Line{{Rule: "badge", Points: l.BonusPoints, Reason: fmt.Sprintf("bonus for unlocking %s %s", b.Name, l.Name)}}
				lst.Credit(le, l.BonusPoints, now, ledger.ExpiresAfter(now, p.PointsExpireDays))
				lst.Earn(p, le, l.BonusPoints, now)
				return true, nil
			}
			src := ledger.Source{Kind: ledger.SourceBadge, ID: b.ID.Hex()}
			var le *ledger.Entry
			if aw.fresh && aw.ledgerHead != nil {
				le, _, err = s.Ledger.AppendAfter(ctx, p, memberID, aw.ledgerHead, key, ledger.EntryEarn, src, bonus)
			} else {
				le, _, err = s.Ledger.Append(ctx, p, memberID, key, ledger.EntryEarn, src, bonus)
			}
			if err != nil {
				return err
			}
			if aw.ledgerHead != nil && le.Seq > aw.ledgerHead.Seq {
				aw.ledgerHead = le
			}
			out.Entries = append(out.Entries, le)
		}
		out.Notes = append(out.Notes, inbox.Message{MemberID: memberID, Kind: inbox.KindBadgeUnlocked, Key: key,
			Related: &inbox.Related{Kind: inbox.RelatedBadge, ID: b.ID.Hex()}, DeepLink: "app://badges/" + b.ID.Hex(),
			Template: texts.BadgeUnlocked, Data: map[string]any{"badge": b.Name, "level": l.Name, "description": b.Description}})
	}
	return nil
}

// BackfillBadges evaluates badges defined after members joined, a batch of
// members at a time, recording progress on each badge. Awards are keyed,
// so instances running it at once, or a restart half-way, award nothing twice.
func (s *Service) BackfillBadges(ctx context.Context, size int) (int, error) {
	pending, err := s.badges.backfilling(ctx)
	if err != nil {
		return 0, err
	}
	p, err := s.Program.Get(ctx)
	if err != nil {
		return 0, err
	}
	done := 0
	for _, b := range pending {
		// One member at a time: awards of one badge to one member are
		// keyed, so a rerun from the saved progress repeats nothing.
		r, stepErr := s.Roster.Step(ctx, b.Backfill.After, size, 1, func(ctx context.Context, memberID bson.ObjectID) (bool, error) {
			head, err := s.entries.seq.Head(ctx, memberID)
			if err != nil {
				return false, err
			}
			var out Outcome
			if err := s.awardBadge(ctx, &out, &p, memberID, b, &award{head: head}, "backfill"); err != nil {
				return false, err
			}
			return true, s.Effects.CarryOut(ctx, &p, out.Entries, out.Notes...)
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

// CausedBy returns the badge levels a cause (an activity's id) unlocked
// for the member.
func (s *Service) CausedBy(ctx context.Context, memberID bson.ObjectID, cause string) ([]EarnedBadge, error) {
	awards, err := s.entries.awardsOf(ctx, memberID, cause)
	if err != nil || len(awards) == 0 {
		return nil, err
	}
	ids := make([]bson.ObjectID, len(awards))
	for i, a := range awards {
		ids[i] = a.BadgeID
	}
	byID, err := s.badges.byIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]EarnedBadge, 0, len(awards))
	for _, a := range awards {
		if b := byID[a.BadgeID]; b != nil {
			out = append(out, EarnedBadge{Badge: b, Level: a.BadgeLevel, EarnedAt: a.At})
		}
	}
	return out, nil
}

// MemberBadges returns what the member earned and what is in reach.
// Secret badges appear only once a level is earned.
func (s *Service) MemberBadges(ctx context.Context, memberID bson.ObjectID) ([]EarnedBadge, []BadgeProgress, error) {
	badges, err := s.badges.all(ctx)
	if err != nil {
		return nil, nil, err
	}
	head, err := s.entries.seq.Head(ctx, memberID)
	if err != nil {
		return nil, nil, err
	}
	awards, err := s.entries.awardsOf(ctx, memberID, "")
	if err != nil {
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

// VisibleBadges lists the badges p may see: every one for those who manage
// the program; otherwise the public ones and the secret ones p has earned
// (secret badges stay hidden until earned).
func (s *Service) VisibleBadges(ctx context.Context, p member.Principal) ([]*Badge, error) {
	all, err := s.Badges(ctx)
	if err != nil || program.ManagesProgram(p) {
		return all, err
	}
	earned := map[bson.ObjectID]bool{}
	if !p.MemberID.IsZero() {
		got, _, err := s.MemberBadges(ctx, p.MemberID)
		if err != nil {
			return nil, err
		}
		for _, e := range got {
			earned[e.Badge.ID] = true
		}
	}
	var visible []*Badge
	for _, b := range all {
		if !b.Secret || earned[b.ID] {
			visible = append(visible, b)
		}
	}
	return visible, nil
}
