package inbox

import "go.mongodb.org/mongo-driver/v2/bson"

// Broker wakes a member's live streams when something was stored for them.
// A wake carries no data, so a lost or repeated one costs at most a read:
// streams read the store itself.
type Broker interface {
	// Wake tells the member's streams to read; it never blocks.
	Wake(memberID bson.ObjectID)
	// Subscribe starts receiving wake-ups for one member.
	Subscribe(memberID bson.ObjectID) *Subscription
}

// Subscription receives a member's wake-ups on C until closed.
type Subscription struct {
	C     <-chan struct{}
	Close func()
}
