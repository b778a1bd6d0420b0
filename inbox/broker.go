package inbox

import (
	"sync/atomic"

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
	// Subscribe starts receiving the member's publications.
	Subscribe(memberID bson.ObjectID) *Subscription
}

// Stored is one publication: notification Seq was stored, and N is it
// when known. N is shared between streams and must not be modified.
type Stored struct {
	Seq int64
	N   *Notification
}

// Subscription receives a member's publications on C until closed. A
// publication that finds C full is dropped and Missed reports it, so the
// stream reads the store instead of blocking the publisher.
type Subscription struct {
	C      <-chan Stored
	Close  func()
	missed *atomic.Bool
}

// Missed reports whether publications were dropped since the last call.
func (s *Subscription) Missed() bool { return s.missed.Swap(false) }
