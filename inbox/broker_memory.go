package inbox

import (
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// MemoryBroker delivers publications within one process.
type MemoryBroker struct {
	mu   sync.Mutex
	subs map[bson.ObjectID]map[*memorySub]struct{}
}

var _ Broker = (*MemoryBroker)(nil)

type memorySub struct {
	deliver func(Stored)
}

// NewMemoryBroker returns an empty broker.
func NewMemoryBroker() *MemoryBroker {
	return &MemoryBroker{subs: map[bson.ObjectID]map[*memorySub]struct{}{}}
}

// Publish hands the publication to every stream of the member, never blocking.
func (b *MemoryBroker) Publish(memberID bson.ObjectID, seq int64, n *Notification) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs[memberID] {
		s.deliver(Stored{Seq: seq, N: n})
	}
}

// Subscribe registers a stream of memberID; stop may be called more than once.
func (b *MemoryBroker) Subscribe(memberID bson.ObjectID, deliver func(Stored)) (stop func()) {
	s := &memorySub{deliver: deliver}
	b.mu.Lock()
	if b.subs[memberID] == nil {
		b.subs[memberID] = map[*memorySub]struct{}{}
	}
	b.subs[memberID][s] = struct{}{}
	b.mu.Unlock()
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if _, ok := b.subs[memberID][s]; !ok {
			return
		}
		delete(b.subs[memberID], s)
		if len(b.subs[memberID]) == 0 {
			delete(b.subs, memberID)
		}
	}
}

// Subscribers counts the live streams of memberID.
func (b *MemoryBroker) Subscribers(memberID bson.ObjectID) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs[memberID])
}

// members lists the members with a live stream here.
func (b *MemoryBroker) members() map[bson.ObjectID]bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[bson.ObjectID]bool, len(b.subs))
	for m := range b.subs {
		out[m] = true
	}
	return out
}
