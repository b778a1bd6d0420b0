package inbox

import (
	"sync"
	"sync/atomic"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// MemoryBroker delivers publications within one process.
type MemoryBroker struct {
	mu   sync.Mutex
	subs map[bson.ObjectID]map[*memorySub]struct{}
}

var _ Broker = (*MemoryBroker)(nil)

type memorySub struct {
	c      chan Stored
	missed atomic.Bool
}

// subscriptionBuffer holds publications a stream has not taken yet; a
// burst beyond it turns into one read of the store.
const subscriptionBuffer = 8

// NewMemoryBroker returns an empty broker.
func NewMemoryBroker() *MemoryBroker {
	return &MemoryBroker{subs: map[bson.ObjectID]map[*memorySub]struct{}{}}
}

// Publish hands the publication to every stream of the member, never blocking.
func (b *MemoryBroker) Publish(memberID bson.ObjectID, seq int64, n *Notification) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs[memberID] {
		select {
		case s.c <- Stored{Seq: seq, N: n}:
		default:
			s.missed.Store(true)
		}
	}
}

// Subscribe registers a stream of memberID.
func (b *MemoryBroker) Subscribe(memberID bson.ObjectID) *Subscription {
	s := &memorySub{c: make(chan Stored, subscriptionBuffer)}
	b.mu.Lock()
	if b.subs[memberID] == nil {
		b.subs[memberID] = map[*memorySub]struct{}{}
	}
	b.subs[memberID][s] = struct{}{}
	b.mu.Unlock()
	var once sync.Once
	return &Subscription{C: s.c, missed: &s.missed, Close: func() {
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
