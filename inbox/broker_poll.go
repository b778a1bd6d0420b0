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
	// seen holds what earlier polls published, so that the overlap does
	// not publish it again.
	seen map[bson.ObjectID]time.Time
}

// pollOverlap re-reads this far back each poll, covering clock skew between
// instances and inserts that became visible late.
const pollOverlap = 3 * time.Second

// NewPollBroker returns a broker over db's notifications, polling every interval.
func NewPollBroker(db *mongo.Database, interval time.Duration) *PollBroker {
	return &PollBroker{MemoryBroker: NewMemoryBroker(), coll: db.Collection("notifications"), interval: interval,
		seen: map[bson.ObjectID]time.Time{}}
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
	// Only the number travels: a stream that already has it reads nothing,
	// one that lacks it reads its inbox.
	cur, err := b.coll.Find(ctx, bson.D{{Key: "createdAt", Value: bson.D{{Key: "$gte", Value: since}}}},
		options.Find().SetProjection(bson.D{{Key: "memberId", Value: 1}, {Key: "seq", Value: 1}, {Key: "createdAt", Value: 1}}))
	if err != nil {
		return err
	}
	var recent []struct {
		ID        bson.ObjectID `bson:"_id"`
		MemberID  bson.ObjectID `bson:"memberId"`
		Seq       int64         `bson:"seq"`
		CreatedAt time.Time     `bson:"createdAt"`
	}
	if err := cur.All(ctx, &recent); err != nil {
		return err
	}
	for id, at := range b.seen {
		if at.Before(since) {
			delete(b.seen, id)
		}
	}
	for _, r := range recent {
		if _, ok := b.seen[r.ID]; ok || !local[r.MemberID] {
			continue
		}
		b.seen[r.ID] = r.CreatedAt
		b.Publish(r.MemberID, r.Seq, nil)
	}
	return nil
}
