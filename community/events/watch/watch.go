// Package watch streams what a member watching an event sees: its seats
// left and the member's own answer with their waitlist position, again
// whenever the event or an answer to it changes (events.Service.Changed,
// and Poll for other instances). It reads the catalog and the RSVPs and
// owns no collection.
package watch

import (
	"context"
	"errors"
	"log/slog"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/community/events"
	"github.com/regulars/regulars/community/events/attendees"
	"github.com/regulars/regulars/community/events/rsvp"
	"github.com/regulars/regulars/inbox"
)

// Update is what a member watching an event sees: the seats left and
// their own answer, as of event version Cursor.
type Update struct {
	Cursor    int64
	EventID   bson.ObjectID
	Status    events.Status
	SeatsLeft int
	// My is the watcher's RSVP (nil: none), with its waitlist position.
	My *rsvp.RSVP
	// Counts are the event's RSVPs by status, for a watcher who asked for
	// them (the brand team); nil otherwise. A change of them alone (a
	// member joining the waitlist moves no seat) is an Update too.
	Counts *attendees.Counts
}

// Event streams the member's view of the event: one Update at once (or, with
// after ≥ 0, only when the event's version is past after, so a client
// resuming with its last cursor gets nothing it has), then one whenever the
// event changes, until ctx ends. It rides the inbox broker, keyed by event:
// a change on this instance is told at once, one on another instance by
// Poll. Changes in quick succession may come as one Update with the latest
// state; the latest state is never missed. With counts (not nil), each
// Update carries the event's RSVP counts read from it (the caller checks
// the watcher may see them).
func Event(ctx context.Context, catalog *events.Service, rsvps *rsvp.Service, memberID, eventID bson.ObjectID, after int64, counts *attendees.Service) (<-chan *Update, error) {
	if _, err := catalog.For(ctx, memberID, eventID); err != nil {
		return nil, err
	}
	// Changes in quick succession make one wake-up: the view is read again anyway.
	changed := make(chan struct{}, 1)
	stop := catalog.Broker.Subscribe(eventID, func(inbox.Stored) {
		select {
		case changed <- struct{}{}:
		default:
		}
	})
	out := make(chan *Update)
	go func() {
		defer close(out)
		defer stop()
		// known is the view the client has: none at first, or, resuming
		// from a cursor the event has not passed, the one it has. After
		// that every view that differs goes out, even at the same event
		// version: an RSVP's status (the brand's counts) changes without
		// one, and the read woken by its seat may precede it.
		var known *Update
		for first := true; ; first = false {
			u, err := view(ctx, catalog, rsvps, memberID, eventID, counts)
			if err != nil {
				if ctx.Err() == nil {
					slog.Warn("events: watch", "event", eventID.Hex(), "err", err)
				}
				return // the client resumes from its cursor
			}
			if !(first && u.Cursor <= after) && !same(u, known) {
				select {
				case out <- u:
				case <-ctx.Done():
					return
				}
			}
			known = u
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
	if (a.Counts == nil) != (b.Counts == nil) || (a.Counts != nil && *a.Counts != *b.Counts) {
		return false
	}
	return a.My == nil || (a.My.Status == b.My.Status && a.My.Position == b.My.Position)
}

func view(ctx context.Context, catalog *events.Service, rsvps *rsvp.Service, memberID, eventID bson.ObjectID, counts *attendees.Service) (*Update, error) {
	e, err := catalog.Get(ctx, eventID)
	if err != nil {
		return nil, err
	}
	u := &Update{Cursor: e.Version, EventID: e.ID, Status: e.StatusAt(catalog.Now().UTC()), SeatsLeft: e.SeatsLeft()}
	if r, err := rsvps.Mine(ctx, memberID, eventID); err == nil {
		u.My = r
	} else if !errors.Is(err, rsvp.ErrRSVPNotFound) {
		return nil, err
	}
	if counts != nil {
		c, err := counts.CountsOf(ctx, eventID)
		if err != nil {
			return nil, err
		}
		u.Counts = c
	}
	return u, nil
}
