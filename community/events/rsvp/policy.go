package rsvp

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/community/events"
	"github.com/regulars/regulars/member"
)

// Who may see which answers to an event. The GraphQL layer's @auth lets a
// caller in (deny by default); these rules decide what that caller reaches.
// Who sees who answered (counts, attendee lists, a member's answers) is
// community/events/attendees' policy.

// MaySeePenalty reports whether p may read why r waits behind members
// without a penalty (its no-show): the member themself and the brand.
func MaySeePenalty(p member.Principal, r *RSVP) bool { return p.MayRead(r.MemberID) == nil }

// CheckInCodeFor is r's check-in code (CheckInCode) as p may see it: the
// member's own only, "" for anyone else (door staff scan it, the brand
// has no use for it).
func (s *Service) CheckInCodeFor(p member.Principal, r *RSVP) string {
	if p.MemberID.IsZero() || p.MemberID != r.MemberID {
		return ""
	}
	return s.Door().CheckInCode(r)
}

// OnlineURLFor is the online link of the place of event eventID as p may
// see it: the brand, and the member whose answer is CONFIRMED or ATTENDED;
// "" for anyone else (and when the place has none).
func (s *Service) OnlineURLFor(ctx context.Context, p member.Principal, eventID bson.ObjectID, place *events.Place) (string, error) {
	switch {
	case place.OnlineURL == "":
		return "", nil
	case p.Has(member.RoleBrand):
		return place.OnlineURL, nil
	case p.MemberID.IsZero() || eventID.IsZero():
		return "", nil
	}
	coming, err := s.comes(ctx, p.MemberID, eventID)
	if err != nil || !coming {
		return "", err
	}
	return place.OnlineURL, nil
}

// MayDownloadCalendar reports whether p may download the calendar entry
// (.ics) of event eventID: the member whose answer is CONFIRMED or
// ATTENDED, no one else (a waitlisted or cancelled answer, none at all,
// a caller who is no member). The error is only a failure to read the
// answer.
func (s *Service) MayDownloadCalendar(ctx context.Context, p member.Principal, eventID bson.ObjectID) (bool, error) {
	if p.MemberID.IsZero() || eventID.IsZero() {
		return false, nil
	}
	return s.comes(ctx, p.MemberID, eventID)
}

// comes reports whether the member's answer to the event is CONFIRMED or
// ATTENDED (false with no answer).
func (s *Service) comes(ctx context.Context, memberID, eventID bson.ObjectID) (bool, error) {
	r, err := s.rsvps.get(ctx, rsvpID(eventID, memberID))
	switch {
	case errors.Is(err, ErrRSVPNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	return r.Status == Confirmed || r.Status == Attended, nil
}
