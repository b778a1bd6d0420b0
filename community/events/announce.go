package events

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/internal/batch"
	"github.com/regulars/regulars/texts"
)

// Audience is every member, walked in id order a batch at a time (the
// game's accounts, as offers are announced).
type Audience interface {
	// Count estimates how many members there are.
	Count(ctx context.Context) (int64, error)
	// Step runs work on the next size members after the member id after,
	// up to workers at once, and reports how far it got (internal/batch).
	Step(ctx context.Context, after bson.ObjectID, size, workers int, work func(ctx context.Context, memberID bson.ObjectID) (bool, error)) (batch.Result, error)
}

// Announcement is how far telling members about a published event got:
// Pending until every member was walked. Of the Cursor, Processed counts
// the members walked so far and Total the members there were (an
// estimate taken when it started). Eligible counts the walked members who
// may attend, Notified those told (Eligible less the muted). StartedAt is
// set by the first batch, FinishedAt by the last.
type Announcement struct {
	Pending      bool `bson:"pending"`
	batch.Cursor `bson:",inline"`
	Notified     int64      `bson:"notified"`
	Eligible     int64      `bson:"eligible"`
	StartedAt    *time.Time `bson:"startedAt,omitempty"`
	FinishedAt   *time.Time `bson:"finishedAt,omitempty"`
}

// Done reports whether every member was walked (or the event stopped
// needing it: cancelled or over).
func (a *Announcement) Done() bool { return !a.Pending }

// announceWorkers is how many members of a batch are told at once.
const announceWorkers = 16

// Announce (the background job) tells eligible members about the events
// published since it last ran, size members a batch: an EVENT_PUBLISHED
// notification keyed by the event, so a member is told once whatever the
// crashes, reruns and instances; muted members (OFFERS) and members who
// may not attend are skipped. Progress is kept on the event, so a run
// resumes where the last stopped. It returns how many were notified.
func (s *Service) Announce(ctx context.Context, size int) (int, error) {
	if s.Audience == nil {
		return 0, nil
	}
	cur, err := s.events.c.Find(ctx, bson.D{{Key: "announcement.pending", Value: true}})
	if err != nil {
		return 0, err
	}
	var due []*Event
	if err := cur.All(ctx, &due); err != nil {
		return 0, err
	}
	sent := 0
	for _, e := range due {
		for {
			n, done, err := s.announceBatch(ctx, e, size)
			sent += n
			if err != nil {
				return sent, err
			}
			if done || ctx.Err() != nil {
				break
			}
		}
	}
	return sent, ctx.Err()
}

func (s *Service) announceBatch(ctx context.Context, e *Event, size int) (int, bool, error) {
	if e.StatusAt(s.now()) != StatusPublished {
		// Cancelled or over meanwhile: nobody is told any more.
		_, err := s.events.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: e.ID}}, bson.D{{Key: "$set", Value: bson.D{{Key: "announcement.pending", Value: false},
			{Key: "announcement.finishedAt", Value: s.now()}}}})
		return 0, true, err
	}
	if e.Announcement.StartedAt == nil {
		total, err := s.Audience.Count(ctx)
		if err != nil {
			return 0, false, err
		}
		now := s.now()
		e.Announcement.StartedAt, e.Announcement.Total = &now, total
	}
	var eligible atomic.Int64
	place := e.Place.Venue
	if place == "" {
		place = "online"
	}
	r, stepErr := s.Audience.Step(ctx, e.Announcement.After, size, announceWorkers, func(ctx context.Context, memberID bson.ObjectID) (bool, error) {
		if _, err := s.Eligible(ctx, e, memberID); err != nil {
			if fault.CodeOf(err) == fault.Internal {
				return false, err
			}
			return false, nil // not for them (their tier, a badge, the list)
		}
		eligible.Add(1)
		_, err := s.Notify.Send(ctx, inbox.Message{MemberID: memberID, Kind: inbox.KindEventPublished, Key: "event-published:" + e.ID.Hex(),
			Template: texts.EventPublished, Data: map[string]any{"event": e.Title, "starts": texts.At(e.StartsAt, e.Location()), "place": place},
			DeepLink: "app://events/" + e.ID.Hex(), Related: &inbox.Related{Kind: inbox.RelatedEvent, ID: e.ID.Hex()}, ExpiresAt: &e.RSVPClosesAt})
		if errors.Is(err, inbox.ErrMuted) {
			return false, nil
		}
		return err == nil, err
	})
	if r.Moved() {
		e.Announcement.Advance(r)
		e.Announcement.Notified += int64(r.Counted)
		// Members of the batch past a failure were not done: counted
		// again when the batch resumes (an estimate, never below Notified).
		e.Announcement.Eligible = max(e.Announcement.Eligible+eligible.Load(), e.Announcement.Notified)
		e.Announcement.Pending = !r.Finished
		if r.Finished {
			now := s.now()
			e.Announcement.FinishedAt = &now
		}
		if _, err := s.events.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: e.ID}}, bson.D{{Key: "$set", Value: bson.D{{Key: "announcement", Value: e.Announcement}}}}); err != nil {
			return r.Counted, false, err
		}
	}
	return r.Counted, r.Finished, stepErr
}
