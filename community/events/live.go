package events

import (
	"context"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/inbox"
)

// Update is what a member watching an event sees: the seats left and
// their own answer, as of event version Cursor.
type Update struct {
	Cursor    int64
	EventID   bson.ObjectID
	Status    Status
	SeatsLeft int
	// My is the watcher's RSVP (nil: none), with its waitlist position.
	My *RSVP
}

// publish tells the event's watchers on this instance that it changed.
// Only the fact travels (like inbox's numbers-only publications): a
// watcher reads the event and its RSVP again.
func (s *Service) publish(eventID bson.ObjectID) { s.Broker.Publish(eventID, 0, nil) }

// Watch streams the member's view of the event: one Update at once (or, with
// after ≥ 0, only when the event's version is past after, so a client
// resuming with its last cursor gets nothing it has), then one whenever the
// event changes, until ctx ends. It rides the inbox broker, keyed by event:
// a change on this instance is told at once, one on another instance by
// Poll. Changes in quick succession may come as one Update with the latest
// state; the latest state is never missed.
func (s *Service) Watch(ctx context.Context, memberID, eventID bson.ObjectID, after int64) (<-chan *Update, error) {
	if _, err := s.For(ctx, memberID, eventID); err != nil {
		return nil, err
	}
	// Changes in quick succession make one wake-up: the view is read again anyway.
	changed := make(chan struct{}, 1)
	stop := s.Broker.Subscribe(eventID, func(inbox.Stored) {
		select {
		case changed <- struct{}{}:
		default:
		}
	})
	out := make(chan *Update)
	go func() {
		defer close(out)
		defer stop()
		last := after
		var lastSeen *Update
		for {
			u, err := s.view(ctx, memberID, eventID)
			if err != nil {
				if ctx.Err() == nil {
					slog.Warn("events: watch", "event", eventID.Hex(), "err", err)
				}
				return // the client resumes from its cursor
			}
			if u.Cursor > last && !same(u, lastSeen) {
				select {
				case out <- u:
				case <-ctx.Done():
					return
				}
				lastSeen = u
			}
			last = max(last, u.Cursor)
			select {
			case <-changed:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

func same(a, b *Update) bool {
	if b == nil {
		return false
	}
	if a.Status != b.Status || a.SeatsLeft != b.SeatsLeft || (a.My == nil) != (b.My == nil) {
		return false
	}
	return a.My == nil || (a.My.Status == b.My.Status && a.My.Position == b.My.Position)
}

func (s *Service) view(ctx context.Context, memberID, eventID bson.ObjectID) (*Update, error) {
	e, err := s.events.get(ctx, eventID)
	if err != nil {
		return nil, err
	}
	u := &Update{Cursor: e.Version, EventID: e.ID, Status: e.StatusAt(s.now()), SeatsLeft: e.SeatsLeft()}
	if r, err := s.Mine(ctx, memberID, eventID); err == nil {
		u.My = r
	} else if err != ErrRSVPNotFound {
		return nil, err
	}
	return u, nil
}

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
				s.publish(r.ID)
			}
			next[r.ID] = r.Version
		}
		seen, since = next, now.Add(-overlap)
	}
}
