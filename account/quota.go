package account

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/fault"
)

// quota is how many times something may be done per key in a window.
type quota struct {
	name   string
	limit  int
	window time.Duration
}

// The flows' quotas (README, Accounts). Per address they stop one client
// from mailing many accounts; per email address they stop anyone from
// flooding one mailbox; per member they bound deletion guesses and exports.
var (
	resetPerEmail  = quota{"reset-email", 3, time.Hour}
	resetPerIP     = quota{"reset-ip", 20, time.Hour}
	tokenPerIP     = quota{"token-ip", 30, time.Hour} // resetPassword and verifyEmail tries
	verifyPerUser  = quota{"verify", 3, time.Hour}
	deletePerUser  = quota{"delete", 5, time.Hour}
	exportPerUser  = quota{"export", 3, 24 * time.Hour}
	deletePerBrand = quota{"delete-brand", 100, time.Hour}
)

// quotaStore counts uses in fixed windows, one document per key and
// window, each use a single atomic $inc: instances share the counts.
type quotaStore struct{ c *mongo.Collection }

const indexQuotaExpiry = "expires"

func (s quotaStore) indexes() []mongo.IndexModel {
	return []mongo.IndexModel{{Keys: bson.D{{Key: "expiresAt", Value: 1}}, Options: options.Index().SetName(indexQuotaExpiry)}}
}

// take counts one use of q for key (stored hashed: keys hold addresses) and
// refuses with RATE_LIMITED, and the wait, past the limit.
func (s quotaStore) take(ctx context.Context, q quota, key string, now time.Time) error {
	start := now.Truncate(q.window)
	sum := sha256.Sum256([]byte(q.name + "\x00" + key))
	id := fmt.Sprintf("%s:%s:%d", q.name, hex.EncodeToString(sum[:16]), start.Unix())
	var doc struct {
		N int `bson:"n"`
	}
	var err error
	for range 3 { // two first uses racing: the upsert that lost counts again
		err = s.c.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: id}},
			bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}, {Key: "$setOnInsert", Value: bson.D{{Key: "expiresAt", Value: start.Add(q.window)}}}},
			options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&doc)
		if !mongo.IsDuplicateKeyError(err) {
			break
		}
	}
	if err != nil {
		return err
	}
	if doc.N > q.limit {
		return &fault.Throttled{Message: fmt.Sprintf("too many attempts: at most %d per %s; try again later", q.limit, q.window), RetryAfter: start.Add(q.window).Sub(now)}
	}
	return nil
}

// prune deletes the counts of windows that ended.
func (s quotaStore) prune(ctx context.Context, now time.Time) (int64, error) {
	r, err := s.c.DeleteMany(ctx, bson.D{{Key: "expiresAt", Value: bson.D{{Key: "$lt", Value: now}}}})
	if err != nil {
		return 0, err
	}
	return r.DeletedCount, nil
}
