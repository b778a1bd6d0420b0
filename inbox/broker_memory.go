package inbox

import (
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// MemoryBroker delivers publications within one process.
type MemoryBroker struct {
	mu   sync.Mutex
	subs map[bson.ObjectID]map[*memorySub]struct{}
	// newest is, per key subscribed now or within linger, the newest
	// number published or seen (Seen) since the key was first subscribed.
	newest map[bson.ObjectID]*knownSeq
	swept  time.Time
	now    func() time.Time
}

var _ Broker = (*MemoryBroker)(nil)

type memorySub struct {
	deliver func(Stored)
}

// knownSeq is what the broker knows of one key's numbers (Newest).
type knownSeq struct {
	seq   int64
	known bool      // a read while subscribed set a floor (Seen)
	left  time.Time // when the last subscriber stopped; zero while one is on
}

// linger is how long a key's newest number is kept after its last
// subscriber stops: a client that reconnects within it (a dropped network,
// a token that expired, a restarted app) and resumes from that number
// needs no read of the store. Past it, a resume reads as a new one does.
const linger = 2 * time.Minute

// NewMemoryBroker returns an empty broker.
func NewMemoryBroker() *MemoryBroker {
	return &MemoryBroker{subs: map[bson.ObjectID]map[*memorySub]struct{}{}, newest: map[bson.ObjectID]*knownSeq{}, now: time.Now}
}

// Publish hands the publication to every stream of the member, never blocking.
func (b *MemoryBroker) Publish(memberID bson.ObjectID, seq int64, n *Notification) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e := b.newest[memberID]; e != nil {
		e.seq = max(e.seq, seq)
	}
	for s := range b.subs[memberID] {
		s.deliver(Stored{Seq: seq, N: n})
	}
}

// Subscribe registers a stream of memberID; stop may be called more than once.
func (b *MemoryBroker) Subscribe(memberID bson.ObjectID, deliver func(Stored)) (stop func()) {
	s := &memorySub{deliver: deliver}
	b.mu.Lock()
	b.sweep()
	if b.subs[memberID] == nil {
		b.subs[memberID] = map[*memorySub]struct{}{}
	}
	b.subs[memberID][s] = struct{}{}
	if e := b.newest[memberID]; e != nil {
		e.left = time.Time{}
	} else {
		b.newest[memberID] = &knownSeq{}
	}
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
			b.newest[memberID].left = b.now()
		}
	}
}

// Newest returns the newest number of memberID this broker knows was
// stored, for a subscriber that is on: every number published since the
// member was first subscribed (without a gap of more than linger with no
// subscriber), and at least what a read of the store made while subscribed
// found (Seen). ok is false when no such read was made. A number stored
// but not yet published (another instance's, before the next poll) is
// published later, so a subscriber that skips its read on this answer
// still gets it.
func (b *MemoryBroker) Newest(memberID bson.ObjectID) (seq int64, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e := b.newest[memberID]; e != nil && e.known {
		return e.seq, true
	}
	return 0, false
}

// Seen records that a read of the store, made while memberID was
// subscribed, found nothing newer than seq.
func (b *MemoryBroker) Seen(memberID bson.ObjectID, seq int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e := b.newest[memberID]; e != nil {
		e.seq, e.known = max(e.seq, seq), true
	}
}

// sweep drops the numbers of keys with no subscriber for over linger,
// at most once a linger (under mu).
func (b *MemoryBroker) sweep() {
	now := b.now()
	if now.Sub(b.swept) < linger {
		return
	}
	b.swept = now
	for k, e := range b.newest {
		if !e.left.IsZero() && now.Sub(e.left) > linger {
			delete(b.newest, k)
		}
	}
}

// Subscribers counts the live streams of memberID.
func (b *MemoryBroker) Subscribers(memberID bson.ObjectID) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs[memberID])
}

// tracking reports whether any member has a live stream here, or had one
// within linger (sweeping those past it first).
func (b *MemoryBroker) tracking() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sweep()
	return len(b.newest) > 0
}

// tracks reports whether memberID has a live stream here, or had one
// within linger: a poll must keep such a member's newest number current
// for a subscriber that comes back. The poll asks this per document found
// rather than copying every member each time: an idle server holding
// 10,000 sockets polls every second and finds few documents.
func (b *MemoryBroker) tracks(memberID bson.ObjectID) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.newest[memberID] != nil
}
