package attendees

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/regulars/regulars/community/events/rsvp"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/texts"
)

// Reminders are sent this long before an event starts.
var Reminders = []time.Duration{24 * time.Hour, 2 * time.Hour}

// Remind sends each confirmed member of an event starting within 24 hours
// (and again within 2) a reminder, keyed by RSVP and lead time, so each
// goes once whatever the runs. Run by the background jobs.
func (s *Service) Remind(ctx context.Context) (int, error) {
	now := s.Now().UTC()
	soon, err := s.catalog.Starting(ctx, now, Reminders[0])
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range soon {
		lead := Reminders[0]
		for _, d := range Reminders {
			if !e.StartsAt.After(now.Add(d)) {
				lead = d
			}
		}
		var after string
		for {
			rs, more, err := s.Attendees(ctx, e.ID, rsvp.Confirmed, after, 200)
			if err != nil {
				return n, err
			}
			for _, r := range rs {
				place := e.Place.Venue
				if place == "" {
					place = "online"
				}
				_, err := s.Notify.Send(ctx, inbox.Message{MemberID: r.MemberID, Kind: inbox.KindEventReminder,
					Key: fmt.Sprintf("event-reminder:%s:%s", r.ID, lead), Template: texts.EventReminder,
					Data:     map[string]any{"event": e.Title, "starts": texts.At(e.StartsAt, e.Location()), "place": place},
					DeepLink: "app://events/" + e.ID.Hex(), Related: &inbox.Related{Kind: inbox.RelatedEvent, ID: e.ID.Hex()}})
				if err != nil && !errors.Is(err, inbox.ErrMuted) {
					return n, err
				}
				n++
			}
			if !more {
				break
			}
			after = rs[len(rs)-1].ID
		}
	}
	return n, nil
}
