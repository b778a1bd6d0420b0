// Package inbox keeps each member's notifications and delivers new ones live.
//
// A notification is first stored, with a per-member sequence number, and then
// published to a Broker that feeds live subscriptions. The stored sequence is
// what lets a client page through its inbox and, later, resume after a cursor.
package inbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/regulars/regulars/input"
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
	KindRedemption Kind = "REDEMPTION"
)

// Limits on a message.
const (
	MaxTitle = 120
	MaxBody  = 2000
)

var ErrNotFound = errors.New("notification not found")

// Notification is one entry of a member's inbox.
type Notification struct {
	ID       bson.ObjectID `bson:"_id"`
	MemberID bson.ObjectID `bson:"memberId"`
	// Seq grows with every notification of the member; it orders the inbox.
	Seq   int64  `bson:"seq"`
	Kind  Kind   `bson:"kind"`
	Title string `bson:"title"`
	Body  string `bson:"body"`
	// Key names the cause; one cause makes one notification.
	Key       string    `bson:"key"`
	CreatedAt time.Time `bson:"createdAt"`
}

// Message is a notification to send.
type Message struct {
	MemberID bson.ObjectID
	Kind     Kind
	Title    string
	Body     string
	// Key, if set, makes Send idempotent: a second Send with the same key for
	// the same member returns the first notification and delivers nothing.
	Key string
}

func (m *Message) validate() error {
	m.Title = strings.TrimSpace(m.Title)
	m.Body = strings.TrimSpace(m.Body)
	for _, f := range []struct {
		name, v string
		max     int
	}{{"title", m.Title, MaxTitle}, {"body", m.Body, MaxBody}} {
		n := utf8.RuneCountInString(f.v)
		switch {
		case !utf8.ValidString(f.v):
			return input.Errorf(f.name, "must be valid UTF-8")
		case n == 0:
			return input.Errorf(f.name, "is required")
		case n > f.max:
			return input.Errorf(f.name, "must be at most %d characters, got %d", f.max, n)
		}
	}
	return nil
}

// Inbox stores notifications and publishes them to live subscribers.
type Inbox struct {
	store  store
	broker Broker
	now    func() time.Time
}

// New returns an Inbox over db that publishes through broker.
func New(db *mongo.Database, broker Broker) *Inbox {
	return &Inbox{
		store:  store{notifications: db.Collection("notifications")},
		broker: broker,
		now:    time.Now,
	}
}

// EnsureIndexes creates the indexes the inbox queries rely on; safe to repeat.
func (in *Inbox) EnsureIndexes(ctx context.Context) error {
	if _, err := in.store.notifications.Indexes().CreateMany(ctx, in.store.indexes()); err != nil {
		return fmt.Errorf("notification indexes: %w", err)
	}
	return nil
}

// Send stores a notification and delivers it to the member's live subscriptions.
func (in *Inbox) Send(ctx context.Context, m Message) (*Notification, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	id := bson.NewObjectID()
	if m.Key == "" {
		m.Key = "id:" + id.Hex()
	}
	if n, err := in.store.byKey(ctx, m.MemberID, m.Key); err == nil {
		return n, nil
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	n := &Notification{
		ID: id, MemberID: m.MemberID, Kind: m.Kind,
		Title: m.Title, Body: m.Body, Key: m.Key, CreatedAt: in.now().UTC(),
	}
	if err := in.store.insert(ctx, n); err != nil {
		if errors.Is(err, errKeyTaken) {
			// A concurrent Send with the same key won; its notification is the one.
			return in.store.byKey(ctx, m.MemberID, m.Key)
		}
		return nil, err
	}
	in.broker.Publish(n)
	return n, nil
}

// List returns up to limit notifications of a member, newest first, older
// than the sequence before (0: from the newest). more says whether older ones remain.
func (in *Inbox) List(ctx context.Context, memberID bson.ObjectID, before int64, limit int) (ns []*Notification, more bool, err error) {
	ns, err = in.store.list(ctx, memberID, before, limit+1)
	if err != nil {
		return nil, false, err
	}
	if len(ns) > limit {
		return ns[:limit], true, nil
	}
	return ns, false, nil
}

// Subscribe streams the member's new notifications until ctx ends. The
// channel closes when ctx ends or when the subscriber falls too far behind.
func (in *Inbox) Subscribe(ctx context.Context, memberID bson.ObjectID) <-chan *Notification {
	sub := in.broker.Subscribe(memberID)
	go func() {
		<-ctx.Done()
		sub.Close()
	}()
	return sub.C
}
