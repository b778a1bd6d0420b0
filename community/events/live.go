package events

import (
	"context"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Changed tells the event's watchers on this instance that it changed
// (its seats, an RSVP to it). Only the fact travels (like inbox's
// numbers-only publications): a watcher reads the event and its RSVP
// again.
func (s *Service) Changed(eventID bson.ObjectID) { s.Broker.Publish(eventID, 0, nil) }

// Poll tells this instance's watchers about events another instance
// changed, every interval until ctx ends: one query for the events updated
// lately (a few seconds' overlap for clock skew), as inbox.PollBroker does
// for notifications. Run it beside the inbox's broker.
func (s *Service) Poll(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	const overlap = 3 * time.Second
	since := time.Now().Add(-overlap)
	seen := map[bson.ObjectID]int64{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		cur, err := s.events.c.Find(ctx, bson.D{{Key: "updatedAt", Value: bson.D{{Key: "$gte", Value: since}}}},
			options.Find().SetProjection(bson.D{{Key: "version", Value: 1}}))
		if err != nil {
			slog.Warn("events: poll", "err", err)
			continue
		}
		var rows []struct {
			ID      bson.ObjectID `bson:"_id"`
			Version int64         `bson:"version"`
		}
		if err := cur.All(ctx, &rows); err != nil {
			slog.Warn("events: poll", "err", err)
			continue
		}
		next := map[bson.ObjectID]int64{}
		for _, r := range rows {
			if seen[r.ID] != r.Version {
				s.Changed(r.ID)
			}
			next[r.ID] = r.Version
		}
		seen, since = next, now.Add(-overlap)
	}
}
