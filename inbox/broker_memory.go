package inbox

import (
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// MemoryBroker wakes streams within one process.
type MemoryBroker struct {
	mu   sync.Mutex
	subs map[bson.ObjectID]map[*memorySub]struct{}
}

var _ Broker = (*MemoryBroker)(nil)

type memorySub struct{ c chan struct{} }

// NewMemoryBroker returns an empty broker.
func NewMemoryBroker() *MemoryBroker {
	return &MemoryBroker{subs: map[bson.ObjectID]map[*memorySub]struct{}{}}
}

// Wake signals every stream of the member; wakes coalesce, never block.
func (b *MemoryBroker) Wake(memberID bson.ObjectID) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs[memberID] {
		select {
		case s.c <- struct{}{}:
		default: // already woken
		}
	}
}

// Subscribe registers a stream of memberID.
func (b *MemoryBroker) Subscribe(memberID bson.ObjectID) *Subscription {
	s := &memorySub{c: make(chan struct{}, 1)}
	b.mu.Lock()
	if b.subs[memberID] == nil {
		b.subs[memberID] = map[*memorySub]struct{}{}
	}
	b.subs[memberID][s] = struct{}{}
	b.mu.Unlock()
	var once sync.Once
	return &Subscription{C: s.c, Close: func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			delete(b.subs[memberID], s)
			if len(b.subs[memberID]) == 0 {
				delete(b.subs, memberID)
			}
		})
	}}
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
