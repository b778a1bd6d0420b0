package inbox

import (
	"context"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// PollBroker wakes streams for notifications stored by any instance sharing
// the database. It polls for recent notifications rather than using change
// streams, so it works on a standalone server too. Local sends wake at once.
type PollBroker struct {
	*MemoryBroker
	coll     *mongo.Collection
	interval time.Duration
}

// pollOverlap re-reads this far back each poll, covering clock skew between
// instances and inserts that became visible late. A member woken twice
// costs one read.
const pollOverlap = 3 * time.Second

// NewPollBroker returns a broker over db's notifications, polling every interval.
func NewPollBroker(db *mongo.Database, interval time.Duration) *PollBroker {
	return &PollBroker{MemoryBroker: NewMemoryBroker(), coll: db.Collection("notifications"), interval: interval}
}

// Run polls until ctx ends.
func (b *PollBroker) Run(ctx context.Context) {
	t := time.NewTicker(b.interval)
	defer t.Stop()
	since := time.Now().Add(-pollOverlap)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		local := b.members()
		if len(local) == 0 {
			since = time.Now().Add(-pollOverlap)
			continue
		}
		next := time.Now()
		if err := b.poll(ctx, since, local); err != nil {
			slog.Warn("inbox: poll for notifications", "err", err)
			continue
		}
		since = next.Add(-pollOverlap)
	}
}

func (b *PollBroker) poll(ctx context.Context, since time.Time, local map[bson.ObjectID]bool) error {
	cur, err := b.coll.Find(ctx, bson.D{{Key: "createdAt", Value: bson.D{{Key: "$gte", Value: since}}}},
		options.Find().SetProjection(bson.D{{Key: "memberId", Value: 1}}))
	if err != nil {
		return err
	}
	var recent []struct {
		MemberID bson.ObjectID `bson:"memberId"`
	}
	if err := cur.All(ctx, &recent); err != nil {
		return err
	}
	woken := map[bson.ObjectID]bool{}
	for _, r := range recent {
		if local[r.MemberID] && !woken[r.MemberID] {
			woken[r.MemberID] = true
			b.Wake(r.MemberID)
		}
	}
	return nil
}
