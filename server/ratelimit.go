package main

import (
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"golang.org/x/time/rate"

	"github.com/regulars/regulars/graph"
	"github.com/regulars/regulars/member"
)

// limiter keeps one token bucket per key (a client IP or a member) and
// forgets keys idle for a while, so memory stays bounded by active clients.
type limiter struct {
	rps   rate.Limit
	burst int

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

const limiterIdle = 10 * time.Minute

func newLimiter(rps float64, burst int) *limiter {
	return &limiter{rps: rate.Limit(rps), burst: burst, buckets: map[string]*bucket{}, swept: time.Now()}
}

// allow takes a token for key; when none is left it says how long to wait.
func (l *limiter) allow(key string) (ok bool, retryAfter time.Duration) { return l.allowN(key, 1) }

// allowN takes n tokens for key at once, or none and says how long to wait.
func (l *limiter) allowN(key string, n int) (ok bool, retryAfter time.Duration) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > limiterIdle {
		for k, b := range l.buckets {
			if now.Sub(b.seen) > limiterIdle {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.rps, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, n)
	if !r.OK() {
		return false, time.Duration(float64(n) / float64(l.rps) * float64(time.Second)) // more than a burst: never at once
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// rootFields counts the fields an operation asks for at its root, through
// fragments: each is an operation of its own to the rate limit, so aliases
// cannot multiply what one request does (the cost rule bounds the rest).
func rootFields(rc *graphql.OperationContext) int {
	return len(graphql.CollectFields(rc, rc.Operation.SelectionSet, nil))
}

// chargeFields takes a signed-in member's tokens for every root field past
// the first (which the request's own token paid for). An operation with
// more root fields than the burst could never run: it is refused with a
// query-limit error saying so, not a wait.
func (m *Main) chargeFields(p member.Principal, rc *graphql.OperationContext) (ok bool, retryAfter time.Duration, err *gqlerror.Error) {
	if p.MemberID.IsZero() {
		return true, 0, nil
	}
	n := rootFields(rc)
	if n > m.memberLimit.burst {
		e := gqlErr(fmt.Sprintf("an operation may ask for at most %d fields at its root (RATE_LIMIT_MEMBER_BURST), this one asks for %d", m.memberLimit.burst, n), graph.CodeQueryLimit)
		return false, 0, e
	}
	if n > 1 {
		ok, wait := m.memberLimit.allowN(p.MemberID.Hex(), n-1)
		return ok, wait, nil
	}
	return true, 0, nil
}

// retrySeconds rounds a wait up to whole seconds, as Retry-After wants.
func retrySeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
