package inbox

import (
	"context"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// PollBroker tells streams about notifications stored by any instance
// sharing the database. It polls for recent notifications rather than
// using change streams, so it works on a standalone server too. Local
// sends are published at once, with the notification.
type PollBroker struct {
	*MemoryBroker
	coll     *mongo.Collection
	interval time.Duration
	// key and at name the polled documents' stream key and time fields.
	key, at string
	// Every sweepEvery a poll looks back sweepWindow instead of
	// pollOverlap, for inserts that became visible later than that (a
	// stalled write, a failover). One query per instance does what a
	// periodic read per stream would.
	sweepEvery, sweepWindow time.Duration
}

// pollOverlap re-reads this far back each poll, covering clock skew between
// instances and inserts that became visible a little late.
const pollOverlap = 3 * time.Second

// NewPollBroker returns a broker over db's notifications, polling every interval.
func NewPollBroker(db *mongo.Database, interval time.Duration) *PollBroker {
	return NewPollBrokerOn(db.Collection("notifications"), "memberId", "createdAt", interval)
}

// NewPollBrokerOn returns a broker over another numbered stream stored
// the inbox's way: documents of coll with a stream key (field key, an
// ObjectID: the Subscribe key), a number per key (field seq) and a time
// of insertion (field at, indexed), polled every interval. Community
// thread feeds use it (community/feed).
func NewPollBrokerOn(coll *mongo.Collection, key, at string, interval time.Duration) *PollBroker {
	return &PollBroker{MemoryBroker: NewMemoryBroker(), coll: coll, interval: interval, key: key, at: at,
		sweepEvery: 30 * time.Second, sweepWindow: 2 * time.Minute}
}

// Run polls until ctx ends.
func (b *PollBroker) Run(ctx context.Context) { b.RunEvery(ctx, b.interval) }

// RunEvery polls every interval until ctx ends.
func (b *PollBroker) RunEvery(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	since, swept := time.Now().Add(-pollOverlap), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		if !b.tracking() {
			since = now.Add(-pollOverlap)
			continue
		}
		from := since
		sweep := now.Sub(swept) >= b.sweepEvery
		if sweep {
			from = now.Add(-b.sweepWindow)
		}
		if err := b.poll(ctx, from); err != nil {
			slog.Warn("inbox: poll for notifications", "err", err)
			continue
		}
		since = now.Add(-pollOverlap)
		if sweep {
			swept = now
		}
	}
}

// poll publishes, for each member tracked here with notifications created
// since, the newest number. Only the number travels: a stream that has it reads
// nothing, one that lacks it (or anything before it) reads its inbox.
func (b *PollBroker) poll(ctx context.Context, since time.Time) (err error) {
	cur, err := b.coll.Find(ctx, bson.D{{Key: b.at, Value: bson.D{{Key: "$gte", Value: since}}}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: b.key, Value: 1}, {Key: "seq", Value: 1}}))
	if err != nil {
		return err
	}
	defer func() {
		if cerr := cur.Close(ctx); err == nil {
			err = cerr
		}
	}()
	newest := map[bson.ObjectID]int64{}
	for cur.Next(ctx) {
		var r bson.Raw
		if err := cur.Decode(&r); err != nil {
			return err
		}
		id, ok := r.Lookup(b.key).ObjectIDOK()
		seq, ok2 := r.Lookup("seq").AsInt64OK()
		if ok && ok2 && seq > newest[id] && b.tracks(id) {
			newest[id] = seq
		}
	}
	if err := cur.Err(); err != nil {
		return err
	}
	for m, seq := range newest {
		b.Publish(m, seq, nil)
	}
	return nil
}
