// Package inbox keeps each member's notifications and delivers them live
// without loss.
//
// A notification is stored first, under the member's next sequence number
// (claimed by a unique insert, so numbers are visible in order), then
// published through a Broker. A stream delivers a publication as it is
// only when it is the next number; otherwise it reads the store after the
// last number the client has. Replay after a cursor and catching up are
// therefore the same query, with no gap and no duplicate at the seam.
package inbox

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/mongoindex"
	"github.com/regulars/regulars/internal/page"
	"github.com/regulars/regulars/texts"
)

// Kind says what a notification is about.
type Kind string

const (
	KindWelcome Kind = "WELCOME"
	KindSystem  Kind = "SYSTEM" // the brand messaging one member
	// KindRewardEarned: points credited (a purchase, a bonus, a referral).
	KindRewardEarned  Kind = "REWARD_EARNED"
	KindTierChanged   Kind = "TIER_CHANGED"
	KindBadgeUnlocked Kind = "BADGE_UNLOCKED"
	// KindRedemption: a reward redeemed or a redemption cancelled.
	KindRedemption     Kind = "REDEMPTION"
	KindOfferAvailable Kind = "OFFER_AVAILABLE"
	KindPointsExpiring Kind = "POINTS_EXPIRING"
	KindStreakAtRisk   Kind = "STREAK_AT_RISK"
	KindBirthday       Kind = "BIRTHDAY"
	KindWinBack        Kind = "WIN_BACK"
	// KindEventSeatOffered: a freed seat of an event is held for the
	// member until a deadline; KindEventReminder: an event they confirmed
	// starts soon.
	KindEventSeatOffered Kind = "EVENT_SEAT_OFFERED"
	KindEventReminder    Kind = "EVENT_REMINDER"
	// KindCommunity: a reply to the member's thread, a mention, a post of theirs hidden.
	KindCommunity Kind = "COMMUNITY"
	// KindEventPublished: an event the member may attend was published
	// (muted with OFFERS, the brand's announcements).
	KindEventPublished Kind = "EVENT_PUBLISHED"
	// At the till: a reward handed over, a reward code expired unused
	// (points refunded), an offer's coupon used.
	KindRedemptionFulfilled Kind = "REDEMPTION_FULFILLED"
	KindRedemptionExpired   Kind = "REDEMPTION_EXPIRED"
	KindCouponRedeemed      Kind = "COUPON_REDEEMED"
	// KindDataExport: the member's data export is ready to download.
	KindDataExport Kind = "DATA_EXPORT_READY"
)

// Category groups the kinds a member may mute. Kinds without a category
// (rewards, redemptions, tier changes…) are always delivered.
type Category string

const (
	CategoryOffers          Category = "OFFERS"
	CategoryWinBack         Category = "WIN_BACK"
	CategoryStreakReminders Category = "STREAK_REMINDERS"
	CategoryCommunity       Category = "COMMUNITY"
	categoryTransactional   Category = ""
	defaultExpiredRetention          = 7 * 24 * time.Hour
	defaultReadRetention             = 90 * 24 * time.Hour
)

// Categories lists the mutable categories.
var Categories = []Category{CategoryOffers, CategoryWinBack, CategoryStreakReminders, CategoryCommunity}

// CategoryOf is the category a kind belongs to.
func CategoryOf(k Kind) Category {
	switch k {
	case KindOfferAvailable, KindEventPublished:
		return CategoryOffers
	case KindWinBack:
		return CategoryWinBack
	case KindStreakAtRisk:
		return CategoryStreakReminders
	case KindCommunity:
		return CategoryCommunity
	}
	return categoryTransactional
}

// Limits on a message.
const (
	MaxTitle    = 120
	MaxBody     = 2000
	MaxDeepLink = 2048
)

var (
	ErrNotFound = fault.New(fault.NotFound, "notification not found")
	// ErrMuted: the member muted this category, so nothing was sent.
	ErrMuted = fault.New(fault.Conflict, "the member muted this kind of notification")
)

// Related points at what a notification is about, for the app to open.
// ID is the database id (hex); the API gives clients its opaque form.
type Related struct {
	Kind string `bson:"kind"` // one of RelatedKinds
	ID   string `bson:"id"`
}

// What a notification can be about.
const (
	RelatedActivity    = "ACTIVITY"
	RelatedLedgerEntry = "LEDGER_ENTRY"
	RelatedReward      = "REWARD"
	RelatedRedemption  = "REDEMPTION"
	RelatedBadge       = "BADGE"
	RelatedOffer       = "OFFER"
	RelatedEvent       = "EVENT"
	RelatedPost        = "POST"
)

// RelatedKinds lists every Related.Kind; the API maps each to a type.
var RelatedKinds = []string{RelatedActivity, RelatedLedgerEntry, RelatedReward, RelatedRedemption, RelatedBadge, RelatedOffer, RelatedEvent, RelatedPost}

// Notification is one entry of a member's inbox.
type Notification struct {
	ID       bson.ObjectID `bson:"_id"`
	MemberID bson.ObjectID `bson:"memberId"`
	// Seq grows with every notification of the member; it orders the inbox
	// and is what cursors hold.
	Seq      int64    `bson:"seq"`
	Kind     Kind     `bson:"kind"`
	Title    string   `bson:"title"`
	Body     string   `bson:"body"`
	DeepLink string   `bson:"deepLink,omitempty"`
	Related  *Related `bson:"related,omitempty"`
	// Key names the cause; one cause makes one notification.
	Key       string     `bson:"key"`
	CreatedAt time.Time  `bson:"createdAt"`
	ReadAt    *time.Time `bson:"readAt,omitempty"`
	// After ExpiresAt the notification is no longer shown.
	ExpiresAt *time.Time `bson:"expiresAt,omitempty"`
	// PushPending is set when the notification is stored for a kind that
	// goes out as a push notification (SetPush) and cleared once package
	// push has queued its deliveries: the push outbox's mark.
	PushPending bool `bson:"pushPending,omitempty"`
}

// shown says whether the notification is still shown at now (the store's
// filter of the same name, for one notification in hand).
func (n *Notification) shown(now time.Time) bool {
	return n.ExpiresAt == nil || n.ExpiresAt.After(now)
}

// Message is a notification to send. Its words are either given (Title
// and Body: the brand's own message) or rendered from a template of package
// texts in the member's locale (Template, Data and Locale: what the domain
// sends); the notification stores the rendered words.
type Message struct {
	MemberID bson.ObjectID
	Kind     Kind
	Title    string
	Body     string
	// Template, when set, renders Title and Body from Data in Locale.
	Template texts.Name
	Data     map[string]any
	Locale   string

	DeepLink  string
	Related   *Related
	ExpiresAt *time.Time
	// Key, if set, makes Send idempotent: a second Send with the same key for
	// the same member returns the first notification and delivers nothing.
	Key string
	// Fresh says the message's cause was just made, so its key is most
	// likely unused: Send inserts first and reads the key only if the
	// insert collides (two commands for a first send instead of three).
	// Either way a key is sent once; Fresh only moves the cost to repeats.
	Fresh bool
}

func (m *Message) validate(now time.Time) error {
	var err error
	if m.Title, err = input.Line("title", m.Title, MaxTitle); err != nil {
		return err
	}
	if m.Body, err = input.Paragraph("body", m.Body, MaxBody); err != nil {
		return err
	}
	if m.DeepLink != "" {
		// A link is an address, not prose: printable ASCII (a URL
		// percent-encodes the rest).
		if m.DeepLink, err = input.Identifier("deepLink", m.DeepLink, MaxDeepLink); err != nil {
			return err
		}
	}
	if m.ExpiresAt != nil && !m.ExpiresAt.After(now) {
		return input.Errorf("expiresAt", "must be in the future")
	}
	return nil
}

// Inbox stores notifications and streams them to live subscribers.
type Inbox struct {
	store  store
	broker Broker
	texts  Texts
	// locales names the locale of templated messages that name none;
	// nil: DefaultLocale.
	locales Locales
	now     func() time.Time
	// pushable says which kinds are marked for push (SetPush); nil: none.
	pushable func(Kind) bool
	// streamRetries are the waits before a stream tries a failed read of
	// the store again (streamRetries, the package's, unless a test sets
	// them); readFailed, when set, hears of each failure retried.
	streamRetries []time.Duration
	readFailed    func(error)
}

// streamRetries are the waits between a stream's attempts at a read of the
// store that failed: a database blip of up to about 6 s (their sum) leaves
// the subscription open and loses nothing; a read still failing after them
// ends it (the client resumes from its cursor).
var streamRetries = []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond,
	800 * time.Millisecond, 1600 * time.Millisecond, 3200 * time.Millisecond}

// Texts renders a message's words from its template (see package texts).
type Texts interface {
	Render(ctx context.Context, locale string, name texts.Name, data map[string]any) (title, body string, err error)
}

// Locales gives the locale of each member's notifications: the member's
// own, else the program's (README, "Notification templates and locales").
// locales[i] is ids[i]'s; "" for a member it does not know.
type Locales interface {
	LocalesOf(ctx context.Context, ids []bson.ObjectID) (locales []string, err error)
}

// LocalesFunc adapts a function to Locales.
type LocalesFunc func(ctx context.Context, ids []bson.ObjectID) ([]string, error)

// LocalesOf calls f.
func (f LocalesFunc) LocalesOf(ctx context.Context, ids []bson.ObjectID) ([]string, error) {
	return f(ctx, ids)
}

// New returns an Inbox over db that publishes to streams through broker.
func New(db *mongo.Database, broker Broker) *Inbox {
	return &Inbox{
		store:  store{notifications: db.Collection("notifications"), prefs: db.Collection("notification_prefs")},
		broker: broker,
		texts:  texts.Builtin(),
		now:    time.Now,

		streamRetries: streamRetries,
	}
}

// SetTexts replaces the built-in templates (with the brand's overrides, say).
func (in *Inbox) SetTexts(t Texts) { in.texts = t }

// SetLocales makes a templated message that names no locale speak its
// member's language (l), instead of texts.DefaultLocale. Call it before
// serving.
func (in *Inbox) SetLocales(l Locales) { in.locales = l }

// localize sets the locale of each templated message of ms that names
// none, in one call of the Locales for them all.
func (in *Inbox) localize(ctx context.Context, ms []Message) error {
	if in.locales == nil {
		return nil
	}
	var ids []bson.ObjectID
	at := map[bson.ObjectID]int{}
	for _, m := range ms {
		if _, seen := at[m.MemberID]; !seen && m.Template != "" && m.Locale == "" {
			at[m.MemberID] = len(ids)
			ids = append(ids, m.MemberID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	locales, err := in.locales.LocalesOf(ctx, ids)
	if err != nil {
		return err
	}
	if len(locales) != len(ids) {
		return fmt.Errorf("inbox: %d locales for %d members", len(locales), len(ids))
	}
	for i := range ms {
		if m := &ms[i]; m.Template != "" && m.Locale == "" {
			m.Locale = locales[at[m.MemberID]]
		}
	}
	return nil
}

// SetPush marks the notifications of the kinds pushable accepts as
// pending push when they are stored (Notification.PushPending), in the same
// insert: package push delivers them from there, so a crash between storing
// and pushing loses nothing. Call it before serving.
func (in *Inbox) SetPush(pushable func(Kind) bool) { in.pushable = pushable }

// SetClock replaces the clock; tests move time with it.
func (in *Inbox) SetClock(now func() time.Time) { in.now = now }

// EnsureIndexes creates the indexes the inbox queries rely on; safe to repeat.
func (in *Inbox) EnsureIndexes(ctx context.Context) error {
	return mongoindex.Ensure(ctx, in.store.notifications, in.store.indexes()...)
}

// Send stores a notification and publishes it to the member's live streams. A muted
// category returns ErrMuted and stores nothing.
func (in *Inbox) Send(ctx context.Context, m Message) (*Notification, error) {
	now := in.now().UTC()
	if m.Template != "" {
		one := []Message{m}
		if err := in.localize(ctx, one); err != nil {
			return nil, err
		}
		m = one[0]
		var err error
		if m.Title, m.Body, err = in.texts.Render(ctx, m.Locale, m.Template, m.Data); err != nil {
			return nil, err
		}
	}
	if err := m.validate(now); err != nil {
		return nil, err
	}
	id := bson.NewObjectID()
	if m.Key == "" {
		m.Key = "id:" + id.Hex()
	}
	// Campaigns repeat their keyed sends on every run, so a cause that
	// already has its notification is answered with one indexed read;
	// a fresh cause's is looked for only if the insert collides.
	if !m.Fresh {
		if n, err := in.store.byKey(ctx, m.MemberID, m.Key); err == nil {
			return n, nil
		} else if !errors.Is(err, ErrNotFound) {
			return nil, err
		}
	}
	if c := CategoryOf(m.Kind); c != categoryTransactional {
		muted, err := in.Muted(ctx, m.MemberID)
		if err != nil {
			return nil, err
		}
		if slices.Contains(muted, c) {
			return nil, ErrMuted
		}
	}
	n := &Notification{
		ID: id, MemberID: m.MemberID, Kind: m.Kind, Title: m.Title, Body: m.Body, DeepLink: m.DeepLink,
		Related: m.Related, Key: m.Key, CreatedAt: now, ExpiresAt: m.ExpiresAt,
		PushPending: in.pushable != nil && in.pushable(m.Kind),
	}
	// A concurrent send of the same cause may still win the insert; the
	// unique key index makes it return that notification.
	if existing, err := in.store.insert(ctx, n); err != nil || existing != nil {
		return existing, err
	}
	in.broker.Publish(m.MemberID, n.Seq, n)
	return n, nil
}

// SendBatch sends ms as Send sends each one (rendered, validated, keyed,
// skipped for a member who muted its category, published after the write),
// in the same few round trips whatever the batch's size: the batch's keys
// already stored, its members' mutes and their newest sequence numbers, one
// read each, then one unordered insertMany of the new notifications. A
// message raced by another writer (its number or its key taken meanwhile)
// is sent again on its own (Send). A message without a key gets one.
//
// ns[i] is message i's notification (the one stored earlier under its key,
// if any), or nil if its member muted its category. done counts the
// messages, from the first, that are settled; after a failure (err) the
// others are to be sent again, which their keys make harmless. A message
// that fails validation fails the batch before anything is written.
func (in *Inbox) SendBatch(ctx context.Context, ms []Message) (ns []*Notification, done int, err error) {
	now := in.now().UTC()
	ms = slices.Clone(ms)
	if err := in.localize(ctx, ms); err != nil {
		return nil, 0, err
	}
	var members []bson.ObjectID
	var keys []string
	for i := range ms {
		m := &ms[i]
		if m.Template != "" {
			if m.Title, m.Body, err = in.texts.Render(ctx, m.Locale, m.Template, m.Data); err != nil {
				return nil, 0, err
			}
		}
		if err := m.validate(now); err != nil {
			return nil, 0, err
		}
		if m.Key == "" {
			m.Key = "id:" + bson.NewObjectID().Hex()
		}
		if !slices.Contains(members, m.MemberID) {
			members = append(members, m.MemberID)
		}
		if !slices.Contains(keys, m.Key) {
			keys = append(keys, m.Key)
		}
	}
	ns = make([]*Notification, len(ms))
	if len(ms) == 0 {
		return ns, 0, nil
	}
	type cause struct {
		member bson.ObjectID
		key    string
	}
	found, err := in.store.seq().KeyedOf(ctx, members, keys)
	if err != nil {
		return ns, 0, err
	}
	stored := make(map[cause]*Notification, len(found))
	for _, n := range found {
		stored[cause{n.MemberID, n.Key}] = n
	}
	muted, err := in.store.mutedOf(ctx, members)
	if err != nil {
		return ns, 0, err
	}
	last, err := in.store.seq().LastSeqs(ctx, members)
	if err != nil {
		return ns, 0, err
	}
	settled := make([]bool, len(ms))
	var fresh []any
	var freshOf []int          // message index of each fresh notification
	pending := map[cause]int{} // a cause's fresh notification, for a repeat within the batch
	repeats := map[int]int{}   // message index → the message whose notification it shares
	for i, m := range ms {
		c := cause{m.MemberID, m.Key}
		if n := stored[c]; n != nil {
			ns[i], settled[i] = n, true
			continue
		}
		if j, ok := pending[c]; ok {
			repeats[i] = j
			continue
		}
		if cat := CategoryOf(m.Kind); cat != categoryTransactional && slices.Contains(muted[m.MemberID], cat) {
			settled[i] = true
			continue
		}
		last[m.MemberID]++
		pending[c] = i
		freshOf = append(freshOf, i)
		fresh = append(fresh, &Notification{
			ID: bson.NewObjectID(), MemberID: m.MemberID, Kind: m.Kind, Title: m.Title, Body: m.Body, DeepLink: m.DeepLink,
			Related: m.Related, Key: m.Key, Seq: last[m.MemberID], CreatedAt: now, ExpiresAt: m.ExpiresAt,
			PushPending: in.pushable != nil && in.pushable(m.Kind),
		})
	}
	raced := map[int]bool{}
	if len(fresh) > 0 {
		_, err := in.store.notifications.InsertMany(ctx, fresh, options.InsertMany().SetOrdered(false))
		var bwe mongo.BulkWriteException
		switch {
		case err == nil:
		case errors.As(err, &bwe) && bwe.WriteConcernError == nil && !slices.ContainsFunc(bwe.WriteErrors, func(we mongo.BulkWriteError) bool { return !mongo.IsDuplicateKeyError(we.WriteError) }):
			for _, we := range bwe.WriteErrors {
				raced[we.Index] = true
			}
		default:
			// Which of them were stored is unknown: all are to be sent again.
			for done < len(ms) && settled[done] {
				done++
			}
			return ns, done, err
		}
		for j, d := range fresh {
			if !raced[j] {
				n := d.(*Notification)
				ns[freshOf[j]], settled[freshOf[j]] = n, true
				in.broker.Publish(n.MemberID, n.Seq, n)
			}
		}
	}
	for j := range fresh {
		if !raced[j] {
			continue
		}
		i := freshOf[j]
		n, err := in.Send(ctx, ms[i])
		if err != nil && !errors.Is(err, ErrMuted) {
			break
		}
		ns[i], settled[i] = n, true
	}
	for i, j := range repeats {
		ns[i], settled[i] = ns[j], settled[j]
	}
	for done < len(ms) && settled[done] {
		done++
	}
	if done < len(ms) {
		return ns, done, fmt.Errorf("inbox: %d of %d notifications not sent yet", len(ms)-done, len(ms))
	}
	return ns, done, nil
}

// List returns up to limit shown notifications of a member, newest first,
// older than the sequence before (0: from the newest). more says whether
// older ones remain.
func (in *Inbox) List(ctx context.Context, memberID bson.ObjectID, before int64, limit int) (ns []*Notification, more bool, err error) {
	ns, err = in.store.list(ctx, memberID, before, limit+1, in.now())
	if err != nil {
		return nil, false, err
	}
	ns, more = page.Cut(ns, limit)
	return ns, more, nil
}

// UnreadCount counts the member's shown, unread notifications. It is
// counted from the inbox itself, so it can never drift from it.
func (in *Inbox) UnreadCount(ctx context.Context, memberID bson.ObjectID) (int64, error) {
	return in.store.unread(ctx, memberID, in.now())
}

// MarkRead marks notifications of the member read. An id that is not one
// of the member's refuses the whole call and marks nothing.
func (in *Inbox) MarkRead(ctx context.Context, memberID bson.ObjectID, ids []bson.ObjectID) error {
	if err := in.owned(ctx, memberID, ids); err != nil {
		return err
	}
	return in.store.markRead(ctx, memberID, ids, in.now().UTC())
}

// MarkAllRead marks every notification the member has now read; one that
// arrives meanwhile stays unread.
func (in *Inbox) MarkAllRead(ctx context.Context, memberID bson.ObjectID) error {
	return in.store.markRead(ctx, memberID, nil, in.now().UTC())
}

// Delete removes notifications of the member; another member's id refuses
// the whole call.
func (in *Inbox) Delete(ctx context.Context, memberID bson.ObjectID, ids []bson.ObjectID) error {
	if err := in.owned(ctx, memberID, ids); err != nil {
		return err
	}
	return in.store.delete(ctx, memberID, ids)
}

func (in *Inbox) owned(ctx context.Context, memberID bson.ObjectID, ids []bson.ObjectID) error {
	if len(ids) == 0 || len(ids) > 500 {
		return input.Errorf("ids", "give 1 to 500 ids")
	}
	ids = slices.Compact(slices.SortedFunc(slices.Values(ids), func(a, b bson.ObjectID) int { return strings.Compare(a.Hex(), b.Hex()) }))
	n, err := in.store.countOwned(ctx, memberID, ids)
	if err != nil {
		return err
	}
	if n != int64(len(ids)) {
		return input.Wrap("ids", ErrNotFound)
	}
	return nil
}

// Muted returns the categories the member muted.
func (in *Inbox) Muted(ctx context.Context, memberID bson.ObjectID) ([]Category, error) {
	return in.store.muted(ctx, memberID)
}

// SetMuted replaces the categories the member muted.
func (in *Inbox) SetMuted(ctx context.Context, memberID bson.ObjectID, muted []Category) ([]Category, error) {
	for i, c := range muted {
		if !slices.Contains(Categories, c) {
			return nil, input.Errorf(fmt.Sprintf("muted[%d]", i), "unknown category %q", c)
		}
	}
	slices.Sort(muted)
	muted = slices.Compact(muted)
	return muted, in.store.setMuted(ctx, memberID, muted)
}

// Cleanup deletes notifications read more than readRetention ago and ones
// expired more than a week ago. Safe to run anywhere, any number of times.
func (in *Inbox) Cleanup(ctx context.Context, readRetention time.Duration) (int64, error) {
	if readRetention == 0 {
		readRetention = defaultReadRetention
	}
	now := in.now().UTC()
	return in.store.cleanup(ctx, now.Add(-readRetention), now.Add(-defaultExpiredRetention))
}

// streamBatch is how many notifications a stream reads at a time.
const streamBatch = 256

// streamBuffer is how many notifications a stream holds that its reader
// has not taken; a burst beyond it is read from the store when the reader
// catches up, so it costs one read, not memory.
const streamBuffer = 8

// Stream sends the member's notifications after sequence `after`, oldest
// first, then every new one as it is stored, until ctx ends or a read of
// the store still fails after a few attempts over about 6 s (the channel is
// then closed; the client resumes from its cursor): a database blip shorter
// than that delays delivery and loses nothing. With after < 0 it starts from now (no replay).
//
// ready, when not nil, is called after each notification is put on the
// channel, so that a receive then does not block, and once after the
// channel is closed. A transport that receives only then needs no
// goroutine waiting on the channel, and the stream keeps none either while
// it is up to date: publications are handed to it by the broker, and only
// reading the store (a replay, a gap) runs a goroutine, until it has
// caught up.
//
// A publication of the next number with the notification in it is
// delivered as it is; anything else (a gap, a number only, a publication
// that found the channel full) makes the stream read the store after its
// last number. Replay and live delivery are therefore the same query,
// and a slow reader only slows its own stream: nothing piles up.
func (in *Inbox) Stream(ctx context.Context, memberID bson.ObjectID, after int64, ready func()) (<-chan *Notification, error) {
	if ready == nil {
		ready = func() {}
	}
	s := &stream{in: in, ctx: ctx, memberID: memberID, out: make(chan *Notification, streamBuffer), ready: ready,
		reading: true, last: after}
	// Subscribed before the last number is read, so nothing stored in
	// between is missed; until then publications only ask for a read.
	s.stop = in.broker.Subscribe(memberID, s.publication)
	switch newest, known := in.broker.Newest(memberID); {
	case after < 0:
		last, err := in.store.lastSeq(ctx, memberID)
		if err != nil {
			s.stop()
			return nil, err
		}
		in.broker.Seen(memberID, last)
		s.mu.Lock()
		s.last = last
		s.mu.Unlock()
	case known && after >= newest:
		// Resuming from the newest number this instance knows of (a
		// client back from a dropped connection or an expired token):
		// there is nothing to replay, and a number not heard of yet
		// comes as a publication. Without this, every reconnection reads
		// the store, and a thousand at once queued a database that scans.
	default:
		s.again = true // replay what follows the cursor
	}
	s.mu.Lock()
	if s.again || len(s.held) > 0 {
		go s.catchUp()
	} else {
		s.reading = false
	}
	s.mu.Unlock()
	context.AfterFunc(ctx, s.end)
	return s.out, nil
}

// stream is one live Stream. Its state moves under mu; out is written by
// the broker's delivery while the stream is up to date and by catchUp
// while it reads, never by both.
type stream struct {
	in       *Inbox
	ctx      context.Context
	memberID bson.ObjectID
	out      chan *Notification
	ready    func()
	stop     func()

	mu      sync.Mutex
	last    int64    // the newest number put on out
	reading bool     // catchUp runs and owns out
	held    []Stored // publications for catchUp to deliver, up to streamBuffer
	again   bool     // catchUp must read (once more)
	ended   bool
	closed  bool
}

// publication takes one publication from the broker (under its lock).
func (s *stream) publication(p Stored) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended || p.Seq <= s.last {
		return // delivered already
	}
	if !s.reading && p.Seq == s.last+1 && p.N != nil && p.N.shown(s.in.now()) {
		select {
		case s.out <- p.N:
			s.last = p.Seq
			s.ready()
			return
		default: // the reader lags: catchUp waits for it
		}
	}
	// catchUp delivers what it holds as it is when it is next in line, and
	// reads the store for the rest.
	if len(s.held) < streamBuffer {
		s.held = append(s.held, p)
	} else {
		s.again = true
	}
	if !s.reading {
		s.reading = true
		go s.catchUp()
	}
}

// catchUp delivers the held publications and reads the store after the
// last number until nothing more is asked of it, waiting for the reader as
// it goes.
func (s *stream) catchUp() {
	for {
		s.mu.Lock()
		if s.ended || len(s.held) == 0 && !s.again {
			s.reading = false
			ended := s.ended
			s.mu.Unlock()
			if ended {
				s.close()
			}
			return
		}
		held, read := s.held, s.again
		s.held, s.again = nil, false
		after := s.last
		s.mu.Unlock()
		for _, p := range held {
			switch {
			case p.Seq <= after: // delivered already
			case p.Seq == after+1 && p.N != nil && p.N.shown(s.in.now()):
				if !s.send(p.N) {
					return
				}
				after = p.Seq
			default:
				read = true
			}
		}
		for more := read; more; {
			ns, err := s.read(after)
			if err != nil {
				s.fail()
				return
			}
			for _, n := range ns {
				if !s.send(n) {
					return
				}
				after = n.Seq
			}
			more = len(ns) == streamBatch
			if !more {
				s.in.broker.Seen(s.memberID, after)
			}
		}
	}
}

// read reads the store after seq for catchUp, trying a failed read again
// after each of the Inbox's retry waits, from the same number: an error
// means the read still failed after them, or ctx ended.
func (s *stream) read(seq int64) ([]*Notification, error) {
	for i := 0; ; i++ {
		ns, err := s.in.store.after(s.ctx, s.memberID, seq, streamBatch, s.in.now())
		if err == nil || s.ctx.Err() != nil || i == len(s.in.streamRetries) {
			return ns, err
		}
		if s.in.readFailed != nil {
			s.in.readFailed(err)
		}
		wait := time.NewTimer(s.in.streamRetries[i])
		select {
		case <-wait.C:
		case <-s.ctx.Done():
			wait.Stop()
			return nil, s.ctx.Err()
		}
	}
}

// send puts n on the channel for catchUp, waiting for the reader; false
// means the stream ended.
func (s *stream) send(n *Notification) bool {
	select {
	case s.out <- n:
	case <-s.ctx.Done():
		s.fail()
		return false
	}
	s.mu.Lock()
	s.last = n.Seq
	s.mu.Unlock()
	s.ready()
	return true
}

// end stops the stream when ctx ends; the channel closes now, or when a
// catchUp under way sees it.
func (s *stream) end() {
	s.stop()
	s.mu.Lock()
	s.ended = true
	reading := s.reading
	s.mu.Unlock()
	if !reading {
		s.close()
	}
}

// fail ends the stream from catchUp (a failed read, or ctx ended).
func (s *stream) fail() {
	s.stop()
	s.mu.Lock()
	s.ended, s.reading = true, false
	s.mu.Unlock()
	s.close()
}

// close closes the channel once, after ended is set.
func (s *stream) close() {
	s.mu.Lock()
	closed := s.closed
	s.closed = true
	s.mu.Unlock()
	if !closed {
		close(s.out)
		s.ready()
	}
}
