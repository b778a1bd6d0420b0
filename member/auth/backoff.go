package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/regulars/regulars/fault"
)

// Backoff is how failed log-ins slow further attempts on one key (an
// account, a client address). The first Free attempts within Forget of
// each other never wait; from then on each failure makes the next attempt
// wait Base, doubling per failure up to Max. There is no lock: the longest
// wait is Max, and a success resets the account's count.
type Backoff struct {
	Free   int
	Base   time.Duration
	Max    time.Duration
	Forget time.Duration // a count older than this (since its last attempt) starts afresh
}

// The log-in back-offs (README, Limits and validation). An account's wait
// never applies to an address it logged in from successfully lately
// (trustedAddresses of them), so an attacker elsewhere cannot keep a member
// out; the address's own back-off still does.
var (
	AccountBackoff = Backoff{Free: 5, Base: 30 * time.Second, Max: 15 * time.Minute, Forget: 24 * time.Hour}
	AddressBackoff = Backoff{Free: 50, Base: 30 * time.Second, Max: 15 * time.Minute, Forget: time.Hour}
)

const trustedAddresses = 5

// wait is what the k-th attempt in a row, failed, makes the next one wait.
func (b Backoff) wait(k int) time.Duration {
	if k < b.Free {
		return 0
	}
	if shift := k - b.Free; shift < 30 && b.Base<<shift < b.Max {
		return b.Base << shift
	}
	return b.Max
}

// attempts are the log-in attempts of one key, in "login_attempts" keyed
// "account:<sha256 of the canonical address>" or "address:<client address,
// IPv6 by /64>". Attempts are counted before the password is checked, each
// by a conditional update of the document as read, so attempts racing
// each other are all counted and none slips past a wait.
type attempts struct {
	ID       string    `bson:"_id"`
	Failures int       `bson:"failures"`
	Last     time.Time `bson:"last"`
	Until    time.Time `bson:"until"`
	Trusted  []string  `bson:"trusted,omitempty"` // hashed addresses of recent successes (accounts only)
}

type attemptStore struct{ c *mongo.Collection }

func accountKey(canonicalEmail string) string { return "account:" + digest(canonicalEmail) }

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

// addressKey is "" for an unknown address (no address back-off).
func addressKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return ""
	}
	ip = ip.Unmap()
	if ip.Is6() {
		// One subscriber usually holds a whole /64.
		p, _ := ip.Prefix(64)
		return "address:" + p.String()
	}
	return "address:" + ip.String()
}

func (s attemptStore) get(ctx context.Context, key string) (attempts, bool, error) {
	var a attempts
	err := s.c.FindOne(ctx, bson.D{{Key: "_id", Value: key}}).Decode(&a)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return attempts{ID: key}, false, nil
	}
	return a, err == nil, err
}

// take counts one attempt on key, or refuses it with the wait left. A
// trusted caller is not made to wait (its attempt still counts). It
// returns the count after this attempt.
func (s attemptStore) take(ctx context.Context, key string, b Backoff, now time.Time, trusted func(attempts) bool) (int, error) {
	for range 8 {
		a, found, err := s.get(ctx, key)
		if err != nil {
			return 0, err
		}
		if a.Until.After(now) && !trusted(a) {
			return 0, throttled(a.Until.Sub(now))
		}
		k := a.Failures + 1
		if now.Sub(a.Last) > b.Forget {
			k = 1
		}
		set := bson.D{{Key: "failures", Value: k}, {Key: "last", Value: now}, {Key: "until", Value: now.Add(b.wait(k))}}
		if !found {
			doc := append(bson.D{{Key: "_id", Value: key}}, set...)
			if _, err := s.c.InsertOne(ctx, doc); mongo.IsDuplicateKeyError(err) {
				continue // another attempt came first: read again
			} else if err != nil {
				return 0, err
			}
			return k, nil
		}
		res, err := s.c.UpdateOne(ctx,
			bson.D{{Key: "_id", Value: key}, {Key: "failures", Value: a.Failures}, {Key: "last", Value: a.Last}},
			bson.D{{Key: "$set", Value: set}})
		if err != nil {
			return 0, err
		}
		if res.MatchedCount == 1 {
			return k, nil
		}
	}
	// Attempts on this key are racing each other: this one waits.
	return 0, throttled(time.Second)
}

// forgive takes back the attempt counted as k, if nothing counted since.
func (s attemptStore) forgive(ctx context.Context, key string, b Backoff, k int, now time.Time) error {
	_, err := s.c.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: key}, {Key: "failures", Value: k}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "failures", Value: k - 1}, {Key: "until", Value: now.Add(b.wait(k - 1))}}}})
	return err
}

// succeeded resets an account's count and trusts the address (its
// addressKey) it logged in from.
func (s attemptStore) succeeded(ctx context.Context, key, addr string, now time.Time) error {
	a, _, err := s.get(ctx, key)
	if err != nil {
		return err
	}
	trusted := a.Trusted
	if addr != "" {
		h := digest(addr)
		trusted = append([]string{h}, slices.DeleteFunc(slices.Clone(trusted), func(t string) bool { return t == h })...)
		trusted = trusted[:min(len(trusted), trustedAddresses)]
	}
	_, err = s.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: key}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "failures", Value: 0}, {Key: "last", Value: now}, {Key: "until", Value: time.Time{}}, {Key: "trusted", Value: trusted}}}})
	return err
}

func throttled(wait time.Duration) error {
	secs := max(1, int((wait+time.Second-1)/time.Second))
	return &fault.Throttled{Message: fmt.Sprintf("too many failed log-ins; try again in %ds", secs), RetryAfter: wait}
}
