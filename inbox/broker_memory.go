package inbox

import (
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// subscriberBuffer is how many undelivered notifications a subscriber may
// hold before it is dropped; a dropped client reconnects and pages its inbox.
const subscriberBuffer = 64

// MemoryBroker delivers within one process.
type MemoryBroker struct {
	mu   sync.Mutex
	subs map[bson.ObjectID]map[*memorySub]struct{}
}

var _ Broker = (*MemoryBroker)(nil)

type memorySub struct {
	c      chan *Notification
	closed bool
}

// NewMemoryBroker returns an empty broker.
func NewMemoryBroker() *MemoryBroker {
	return &MemoryBroker{subs: map[bson.ObjectID]map[*memorySub]struct{}{}}
}

// Publish delivers n to every subscriber of its member without blocking; a
// subscriber whose buffer is full is closed rather than allowed to stall others.
func (b *MemoryBroker) Publish(n *Notification) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs[n.MemberID] {
		select {
		case s.c <- n:
		default:
			b.removeLocked(n.MemberID, s)
		}
	}
}

// Subscribe registers a subscriber for memberID.
func (b *MemoryBroker) Subscribe(memberID bson.ObjectID) *Subscription {
	s := &memorySub{c: make(chan *Notification, subscriberBuffer)}
	b.mu.Lock()
	if b.subs[memberID] == nil {
		b.subs[memberID] = map[*memorySub]struct{}{}
	}
	b.subs[memberID][s] = struct{}{}
	b.mu.Unlock()
	return &Subscription{C: s.c, Close: func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.removeLocked(memberID, s)
	}}
}

func (b *MemoryBroker) removeLocked(memberID bson.ObjectID, s *memorySub) {
	if s.closed {
		return
	}
	s.closed = true
	close(s.c)
	delete(b.subs[memberID], s)
	if len(b.subs[memberID]) == 0 {
		delete(b.subs, memberID)
	}
}

// Subscribers counts the live subscriptions of memberID.
func (b *MemoryBroker) Subscribers(memberID bson.ObjectID) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs[memberID])
}
