package inbox

import (
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Broker tells a member's live streams that something was stored for them.
// The store stays the source of truth: a publication carries the
// notification when the publisher has it, so that a stream that is up to
// date delivers it without a read, but a lost, late or repeated
// publication costs at most one read of the store.
type Broker interface {
	// Publish tells the member's streams that notification seq was stored;
	// n is that notification, or nil when the publisher knows only its
	// number. It never blocks.
	Publish(memberID bson.ObjectID, seq int64, n *Notification)
	// Subscribe calls deliver with each of the member's publications until
	// stop is called. deliver runs on the publisher's goroutine with the
	// broker's lock held: it must return at once and not call the broker.
	// A subscriber therefore costs no goroutine while nothing happens.
	Subscribe(memberID bson.ObjectID, deliver func(Stored)) (stop func())
	// Newest returns, for a member subscribed now, the newest number the
	// broker knows was stored: ok only when a read of the store made
	// while subscribed reported one (Seen), and the broker has heard of
	// every publication since. A number it has not heard of yet reaches
	// the subscriber as a publication later, so a stream resuming from
	// Newest or after it needs no read of the store.
	Newest(memberID bson.ObjectID) (seq int64, ok bool)
	// Seen reports that a read of the store, made while the member was
	// subscribed, found nothing newer than seq.
	Seen(memberID bson.ObjectID, seq int64)
}

// Stored is one publication: notification Seq was stored, and N is it
// when known. N is shared between streams and must not be modified.
type Stored struct {
	Seq int64
	N   *Notification
}
