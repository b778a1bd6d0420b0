// Package community is the brand's community: spaces of threads and posts
// (community/forum) moderated through flags, a review queue and an audit
// log (community/moderation), tied to the loyalty program both ways:
// posting earns points through the game's activity path, a removed post
// takes them back, and trust comes from the member's tier.
//
// It decides who may do what (policy.go) and carries each action out in
// order: checks, the write, the economy, notifications, the thread's live
// feed (community/feed). It knows nothing of HTTP or GraphQL, and does not import
// the game: what it needs of the economy it declares as Economy, which the
// server fills in.
package community

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/regulars/regulars/community/feed"
	"github.com/regulars/regulars/community/forum"
	"github.com/regulars/regulars/community/moderation"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/member"
)

// Standing is what the community needs to know of a member's place in the
// program: their tier (name and rank, 0 the lowest), whether they ever
// purchased, and the badges they hold.
type Standing struct {
	Tier      string
	TierRank  int
	TopTier   bool
	Purchased bool
	Badges    []bson.ObjectID
}

// Economy is what the community asks of the loyalty program (the game).
type Economy interface {
	Program(ctx context.Context) (program.Program, error)
	Standing(ctx context.Context, memberID bson.ObjectID) (Standing, error)
	// RecordPost records a post as an activity keyed by its id: points
	// within the daily cap, POSTS_CREATED; a replay changes nothing.
	RecordPost(ctx context.Context, memberID, postID bson.ObjectID, at time.Time) error
	// ReversePost takes back what the post earned, once, saying why.
	ReversePost(ctx context.Context, memberID, postID bson.ObjectID, reason string) error
}

// Members is what the community needs of accounts.
type Members interface {
	Get(ctx context.Context, id bson.ObjectID) (*member.Member, error)
	ByDisplayNames(ctx context.Context, names []string, limit int) ([]*member.Member, error)
}

// Notifier sends members notifications (the inbox, localized).
type Notifier interface {
	Send(ctx context.Context, m inbox.Message) (*inbox.Notification, error)
}

// Service is the community over one database.
type Service struct {
	forum   *forum.Store
	mod     *moderation.Store
	feed    *feed.Feed
	economy Economy
	members Members
	notify  Notifier
	now     func() time.Time
	// queueChanged is Deps.QueueChanged, never nil.
	queueChanged func(spaceID bson.ObjectID)
	moderation   *Moderation
}

// Moderation is the community's moderation, beside Service: flags and the
// review queue, post and thread actions (moderate.go), sanctions, watched
// words and the audit log. Service.Moderation returns it; it shares the
// service's stores and clock, and reads spaces and posts, trust levels
// and sends notifications through the service.
type Moderation struct {
	forum        *forum.Store
	mod          *moderation.Store
	feed         *feed.Feed
	economy      Economy
	members      Members
	queueChanged func(spaceID bson.ObjectID)
	posting      *Service
}

func (s *Moderation) now() time.Time { return s.posting.now() }

// Deps are what New needs.
type Deps struct {
	Economy Economy
	Members Members
	Notify  Notifier
	// QueueChanged, if set, is told a space's id after this instance
	// changed its review queue (an item opened, flagged again or
	// resolved), so live views (community/reviewlive) read it at once.
	// It must return at once.
	QueueChanged func(spaceID bson.ObjectID)
}

// New returns the community over db.
func New(db *mongo.Database, d Deps) *Service {
	s := &Service{forum: forum.New(db), mod: moderation.New(db), economy: d.Economy, members: d.Members, notify: d.Notify, now: time.Now,
		queueChanged: d.QueueChanged}
	if s.queueChanged == nil {
		s.queueChanged = func(bson.ObjectID) {}
	}
	s.feed = feed.New(db, func() time.Time { return s.now() })
	s.moderation = &Moderation{forum: s.forum, mod: s.mod, feed: s.feed, economy: s.economy, members: s.members, queueChanged: s.queueChanged, posting: s}
	return s
}

// SetClock replaces the clock; tests move time with it.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Forum returns the content store (tests and benchmarks read it back).
func (s *Service) Forum() *forum.Store { return s.forum }

// Moderation returns the community's moderation.
func (s *Service) Moderation() *Moderation { return s.moderation }

// Feed returns the threads' live feeds.
func (s *Service) Feed() *feed.Feed { return s.feed }

// EnsureIndexes creates every index the community's queries rely on.
func (s *Service) EnsureIndexes(ctx context.Context) error {
	for _, f := range []func(context.Context) error{s.forum.EnsureIndexes, s.mod.EnsureIndexes, s.feed.EnsureIndexes} {
		if err := f(ctx); err != nil {
			return err
		}
	}
	return nil
}
