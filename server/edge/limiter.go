package edge

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter keeps one token bucket per key (a client IP or a member) and
// forgets keys idle for a while, so memory stays bounded by active clients.
type Limiter struct {
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

// NewLimiter allows each key rps tokens a second, up to burst at once.
func NewLimiter(rps float64, burst int) *Limiter {
	return &Limiter{rps: rate.Limit(rps), burst: burst, buckets: map[string]*bucket{}, swept: time.Now()}
}

// Allow takes a token for key; when none is left it says how long to wait.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) { return l.AllowN(key, 1) }

// Burst is the most tokens one key may take at once.
func (l *Limiter) Burst() int { return l.burst }

// AllowN takes n tokens for key at once, or none and says how long to wait.
func (l *Limiter) AllowN(key string, n int) (ok bool, retryAfter time.Duration) {
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

// RetrySeconds rounds a wait up to whole seconds, as Retry-After wants.
func RetrySeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
