// Package lease lets one instance at a time run a job, with a fencing
// epoch: the background jobs' scheduler (server/) takes it before each run.
package lease

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/internal/mongoindex"
)

// Lease lets one instance at a time run a job. Each grant is a document
// numbered by epoch and claimed by a unique insert, so exactly one instance
// wins a given epoch; the holder renews its own document. The epoch is the
// fencing token: a holder that stalled past its expiry finds a newer epoch
// and stops.
type Lease struct {
	coll   *mongo.Collection
	job    string
	holder string
	ttl    time.Duration
	now    func() time.Time
}

type leaseGrant struct {
	ID        string    `bson:"_id"` // job#epoch
	Job       string    `bson:"job"`
	Epoch     int64     `bson:"epoch"`
	Holder    string    `bson:"holder"`
	ExpiresAt time.Time `bson:"expiresAt"`
}

// IndexJob is the index the lease's reads rely on.
const IndexJob = "job_epoch"

// New returns the lease of job in coll, for holder (unique per instance),
// granted ttl at a time; now is the clock.
func New(coll *mongo.Collection, job, holder string, ttl time.Duration, now func() time.Time) *Lease {
	return &Lease{coll: coll, job: job, holder: holder, ttl: ttl, now: now}
}

// EnsureIndex creates the lease index; safe to repeat.
func (l *Lease) EnsureIndex(ctx context.Context) error {
	return mongoindex.Ensure(ctx, l.coll, mongo.IndexModel{
		Keys: bson.D{{Key: "job", Value: 1}, {Key: "epoch", Value: -1}}, Options: options.Index().SetName(IndexJob)})
}

func (l *Lease) latest(ctx context.Context) (*leaseGrant, error) {
	var g leaseGrant
	err := l.coll.FindOne(ctx, bson.D{{Key: "job", Value: l.job}}, options.FindOne().SetSort(bson.D{{Key: "job", Value: 1}, {Key: "epoch", Value: -1}})).Decode(&g)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return &leaseGrant{}, nil
	}
	return &g, err
}

// Acquire takes or renews the lease; it returns the epoch held, or 0 when
// another instance holds it.
func (l *Lease) Acquire(ctx context.Context) (int64, error) {
	g, err := l.latest(ctx)
	if err != nil {
		return 0, err
	}
	now := l.now()
	switch {
	case g.Epoch > 0 && g.Holder == l.holder && g.ExpiresAt.After(now):
		_, err := l.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: g.ID}, {Key: "holder", Value: l.holder}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "expiresAt", Value: now.Add(l.ttl)}}}})
		return g.Epoch, err
	case g.Epoch > 0 && g.ExpiresAt.After(now):
		return 0, nil
	}
	next := leaseGrant{ID: fmt.Sprintf("%s#%d", l.job, g.Epoch+1), Job: l.job, Epoch: g.Epoch + 1, Holder: l.holder, ExpiresAt: now.Add(l.ttl)}
	if _, err := l.coll.InsertOne(ctx, next); mongo.IsDuplicateKeyError(err) {
		return 0, nil // another instance took this epoch
	} else if err != nil {
		return 0, err
	}
	return next.Epoch, nil
}

// Holds reports whether epoch is still the newest grant and unexpired.
func (l *Lease) Holds(ctx context.Context, epoch int64) bool {
	g, err := l.latest(ctx)
	return err == nil && g.Epoch == epoch && g.Holder == l.holder && g.ExpiresAt.After(l.now())
}

// Release ends the holder's grant of epoch now, so that another instance
// takes the lease at its next try instead of after the grant's expiry (a
// shutdown hands the jobs over at once). Releasing a grant no longer held
// changes nothing.
func (l *Lease) Release(ctx context.Context, epoch int64) error {
	_, err := l.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: fmt.Sprintf("%s#%d", l.job, epoch)}, {Key: "holder", Value: l.holder}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "expiresAt", Value: l.now()}}}})
	return err
}
