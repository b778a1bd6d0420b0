package inbox

import "go.mongodb.org/mongo-driver/v2/bson"

// Broker fans stored notifications out to live subscribers. The in-memory
// one serves a single instance; several instances need one that goes through
// the database.
type Broker interface {
	// Publish hands n to the member's subscribers; it never blocks.
	Publish(n *Notification)
	// Subscribe starts a subscription to one member's notifications.
	Subscribe(memberID bson.ObjectID) *Subscription
}

// Subscription receives one member's notifications on C until closed.
type Subscription struct {
	C     <-chan *Notification
	Close func()
}
