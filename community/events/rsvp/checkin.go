package rsvp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/community/events"
	"github.com/regulars/regulars/community/events/rsvp/doorcode"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/member"
)

// CheckInCode is the code of a confirmed (or attended) RSVP, shown as a
// QR code at the door (doorcode.Sign); "" for any other status.
func (d *Door) CheckInCode(r *RSVP) string {
	if r.Status != Confirmed && r.Status != Attended {
		return ""
	}
	return doorcode.Sign(d.svc.Secret, r.EventID, r.MemberID)
}

// DoorCode is the short code of the signed-in member's own confirmed (or
// attended) RSVP, to show beside its QR code and type at the door when no
// camera reads it: 8 characters grouped by four ("K7QM-3XHP"), typed in
// any case, with or without spaces and dashes. Nil for anyone else's
// RSVP, another status, or an RSVP made before door codes.
func (r *RSVP) DoorCode(ctx context.Context) *string {
	if r.MemberID != member.PrincipalFrom(ctx).MemberID || (r.Status != Confirmed && r.Status != Attended) {
		return nil
	}
	c, ok := doorcode.Show(r.DoorKey)
	if !ok {
		return nil
	}
	return &c
}

// CheckIn admits the holder of a check-in code at the event's door: the
// QR code's (CheckInCode) or the RSVP's door code typed (DoorCode: any
// case, spaces and dashes ignored). ATTENDED once, and the attendance
// recorded in the economy (keyed by the RSVP, so it counts once). A second
// scan, from the same door or another at once, is an *AlreadyCheckedIn
// (errors.Is ErrAlreadyCheckedIn) with the member and the first scan's
// time; a code of another event, or a door code no RSVP of the event has,
// is BAD_USER_INPUT on code; a cancelled or waitlisted RSVP is
// ErrNotCheckable; outside the check-in window (CheckInOpens
// before the start to the end) ErrCheckInClosed, nothing written, no points.
func (d *Door) CheckIn(ctx context.Context, eventID bson.ObjectID, code string) (*RSVP, error) {
	code, err := input.Identifier("code", strings.ReplaceAll(code, " ", ""), 64)
	if err != nil {
		return nil, err
	}
	var ev, memberID bson.ObjectID
	if door, ok := doorcode.Parse(code); ok {
		ev = eventID
		r, err := d.svc.rsvps.byDoorKey(ctx, doorcode.Key(eventID, door))
		if errors.Is(err, ErrRSVPNotFound) {
			return nil, input.Errorf("code", "is no check-in code of this event")
		}
		if err != nil {
			return nil, err
		}
		memberID = r.MemberID
	} else if ev, memberID, ok = doorcode.Verify(d.svc.Secret, code); !ok {
		return nil, input.Errorf("code", "is not a check-in code")
	}
	if ev != eventID {
		return nil, input.Errorf("code", "is a code of another event")
	}
	e, err := d.svc.catalog.Get(ctx, eventID)
	if err != nil {
		return nil, input.Wrap("eventId", err)
	}
	if e.Status != events.StatusPublished {
		return nil, fmt.Errorf("%w (it is %s)", events.ErrNotPublished, e.Status)
	}
	now := d.svc.now()
	if err := checkInOpen(e, now); err != nil {
		return nil, err
	}
	var r RSVP
	err = d.svc.rsvps.c.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: rsvpID(eventID, memberID)}, {Key: "status", Value: Confirmed}},
		hooked(bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: Attended}, {Key: "checkedInAt", Value: now}, {Key: "updatedAt", Value: now}}}}),
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&r)
	if errors.Is(err, mongo.ErrNoDocuments) {
		prior, err := d.svc.rsvps.get(ctx, rsvpID(eventID, memberID))
		if err != nil {
			return nil, input.Wrap("code", err)
		}
		if prior.Status != Attended || prior.CheckedInAt == nil {
			return nil, fmt.Errorf("%w (it is %s)", ErrNotCheckable, prior.Status)
		}
		// The first scan may have stopped before recording; recording is
		// keyed, so doing it again finishes it or changes nothing.
		if err := d.svc.Activities.RecordEventAttendance(ctx, memberID, prior.ID, *prior.CheckedInAt); err != nil {
			return nil, err
		}
		return nil, &AlreadyCheckedIn{MemberID: memberID, At: *prior.CheckedInAt}
	}
	if err != nil {
		return nil, err
	}
	d.svc.bump(ctx, eventID)
	if err := d.svc.Activities.RecordEventAttendance(ctx, memberID, r.ID, now); err != nil {
		return nil, err
	}
	return &r, nil
}

// CheckInOpens is how long before an event's start its door opens for
// check-in; it closes at the event's end.
const CheckInOpens = 2 * time.Hour

// checkInOpen refuses a check-in outside the event's window with
// ErrCheckInClosed, saying when it opens (or closed) in the event's
// timezone, e.g. "check-in opens at 17:00 (America/New_York) on Thu 4 Dec".
func checkInOpen(e *events.Event, now time.Time) error {
	loc := e.Location()
	at := func(t time.Time) string {
		return fmt.Sprintf("%s (%s) on %s", t.In(loc).Format("15:04"), e.Timezone, t.In(loc).Format("Mon 2 Jan 2006"))
	}
	if opens := e.StartsAt.Add(-CheckInOpens); now.Before(opens) {
		return fmt.Errorf("%w: check-in opens at %s", ErrCheckInClosed, at(opens))
	}
	if !now.Before(e.EndsAt) {
		return fmt.Errorf("%w: check-in closed at %s, when the event ended", ErrCheckInClosed, at(e.EndsAt))
	}
	return nil
}

// MarkNoShows marks NO_SHOW every confirmed RSVP of events over, once per
// event. Run by the background jobs.
func (j *Jobs) MarkNoShows(ctx context.Context) (int, error) {
	over, err := j.svc.catalog.Unmarked(ctx, j.svc.now())
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range over {
		res, err := j.svc.rsvps.c.UpdateMany(ctx, bson.D{{Key: "eventId", Value: e.ID}, {Key: "status", Value: Confirmed}},
			hooked(bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: NoShow}, {Key: "noShowAt", Value: j.svc.now()}, {Key: "updatedAt", Value: j.svc.now()}}}}))
		if err != nil {
			return n, err
		}
		n += int(res.ModifiedCount)
		if err := j.svc.catalog.MarkedNoShows(ctx, e.ID); err != nil {
			return n, err
		}
	}
	return n, nil
}

// AlreadyCheckedIn answers a second scan of a code: CONFLICT, with the
// member and the first scan's time (UTC, extensions.checkedInAt). Name,
// when the caller sets it (the door may greet the member), leads the
// message and is extensions.attendeeName. errors.Is ErrAlreadyCheckedIn.
type AlreadyCheckedIn struct {
	MemberID bson.ObjectID
	At       time.Time
	Name     string
}

func (e *AlreadyCheckedIn) Error() string {
	msg := fmt.Sprintf("%s at %s", ErrAlreadyCheckedIn.Message, e.At.UTC().Format(time.RFC3339))
	if e.Name != "" {
		return e.Name + ": " + msg
	}
	return msg
}

// Unwrap is ErrAlreadyCheckedIn, which carries the code.
func (e *AlreadyCheckedIn) Unwrap() error { return ErrAlreadyCheckedIn }

// Extensions tell the door when, and whom when named.
func (e *AlreadyCheckedIn) Extensions() map[string]any {
	ext := map[string]any{"checkedInAt": e.At.UTC().Format(time.RFC3339)}
	if e.Name != "" {
		ext["attendeeName"] = e.Name
	}
	return ext
}
