package eventsgql

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/graph/model"
	"github.com/regulars/regulars/graph/relay"

	"github.com/regulars/regulars/community/events"
	"github.com/regulars/regulars/community/events/attendees"
	"github.com/regulars/regulars/community/events/rsvp"
	"github.com/regulars/regulars/community/events/watch"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/member"
)

// ID is the resolver for the id field.
func (r Event) ID(ctx context.Context, obj *events.Event) (string, error) {
	return relay.EncodeID("Event", obj.ID), nil
}

// ImageURL is the resolver for the imageUrl field.
func (r Event) ImageURL(ctx context.Context, obj *events.Event) (*string, error) {
	return model.Optional(obj.ImageURL), nil
}

// ClaimWindowMinutes is the resolver for the claimWindowMinutes field.
func (r Event) ClaimWindowMinutes(ctx context.Context, obj *events.Event) (int, error) {
	return int(obj.ClaimWindow / time.Minute), nil
}

// EligibleTiers is the resolver for the eligibleTiers field.
func (r Event) EligibleTiers(ctx context.Context, obj *events.Event) ([]string, error) {
	if obj.Eligibility.Tiers == nil {
		return []string{}, nil
	}
	return obj.Eligibility.Tiers, nil
}

// Status is the resolver for the status field.
func (r Event) Status(ctx context.Context, obj *events.Event) (events.Status, error) {
	return r.EventService.StatusNow(obj), nil
}

// SeatsLeft is the resolver for the seatsLeft field.
func (r Event) SeatsLeft(ctx context.Context, obj *events.Event) (int, error) {
	return obj.SeatsLeft(), nil
}

// MyRsvp is the resolver for the myRsvp field.
func (r Event) MyRsvp(ctx context.Context, obj *events.Event) (*rsvp.RSVP, error) {
	me := member.PrincipalFrom(ctx).MemberID
	if me.IsZero() {
		return nil, nil
	}
	rs, err := r.RSVPs.Mine(ctx, me, obj.ID)
	if errors.Is(err, rsvp.ErrRSVPNotFound) {
		return nil, nil
	}
	return rs, err
}

// CalendarURL is the resolver for the calendarUrl field.
func (r Event) CalendarURL(ctx context.Context, obj *events.Event) (string, error) {
	return "/events/" + relay.EncodeID("Event", obj.ID) + ".ics", nil
}

// Counts is the resolver for the counts field.
func (r Event) Counts(ctx context.Context, obj *events.Event) (*attendees.Counts, error) {
	if !attendees.MaySeeCounts(member.PrincipalFrom(ctx)) {
		return nil, nil
	}
	return r.AttendeeService.CountsOf(ctx, obj.ID)
}

// Attendees is the resolver for the attendees field.
func (r Event) Attendees(ctx context.Context, obj *events.Event, status rsvp.Status, first *int, after *string) (*model.RsvpConnection, error) {
	if !attendees.MayListAttendees(member.PrincipalFrom(ctx)) {
		return nil, nil
	}
	n, err := relay.PageSize(first)
	if err != nil {
		return nil, err
	}
	// The status is part of the list: a cursor of the confirmed is no
	// place in the waitlist.
	list := "rsvps." + obj.ID.Hex() + "." + string(status)
	from, err := relay.DecodeIDCursor(list, after)
	if err != nil {
		return nil, err
	}
	var afterID string
	if !from.IsZero() {
		afterID = obj.ID.Hex() + ":" + from.Hex()
	}
	rs, more, err := r.AttendeeService.Attendees(ctx, obj.ID, status, afterID, n)
	if err != nil {
		return nil, err
	}
	es, info := relay.Edges(rs, more, after, func(x *rsvp.RSVP) string { return relay.EncodeIDCursor(list, x.MemberID) },
		func(c string, x *rsvp.RSVP) *model.RsvpEdge { return &model.RsvpEdge{Cursor: c, Node: x} })
	return &model.RsvpConnection{Edges: es, PageInfo: info}, nil
}

// OnlineURL is the resolver for the onlineUrl field.
func (r EventPlace) OnlineURL(ctx context.Context, obj *events.Place) (*string, error) {
	var eventID bson.ObjectID
	if ev := eventFrom(ctx); ev != nil {
		eventID = ev.ID
	}
	url, err := r.RSVPs.OnlineURLFor(ctx, member.PrincipalFrom(ctx), eventID, obj)
	return model.Optional(url), err
}

// Cursor is the resolver for the cursor field.
func (r EventUpdate) Cursor(ctx context.Context, obj *watch.Update) (string, error) {
	return relay.EncodeCursor("event-updates."+obj.EventID.Hex(), obj.Cursor), nil
}

// MyRsvp is the resolver for the myRsvp field.
func (r EventUpdate) MyRsvp(ctx context.Context, obj *watch.Update) (*rsvp.RSVP, error) {
	return obj.My, nil
}

// CreateEvent is the resolver for the createEvent field.
func (r Mutation) CreateEvent(ctx context.Context, input events.Input) (*events.Event, error) {
	return r.EventService.Create(ctx, input)
}

// UpdateEvent is the resolver for the updateEvent field.
func (r Mutation) UpdateEvent(ctx context.Context, id string, input events.Input) (*events.Event, error) {
	eid, err := relay.DecodeID("Event", "id", id)
	if err != nil {
		return nil, err
	}
	return r.EventService.Update(ctx, eid, input)
}

// PublishEvent is the resolver for the publishEvent field.
func (r Mutation) PublishEvent(ctx context.Context, id string) (*events.Event, error) {
	eid, err := relay.DecodeID("Event", "id", id)
	if err != nil {
		return nil, err
	}
	return r.EventService.Publish(ctx, eid)
}

// CancelEvent is the resolver for the cancelEvent field.
func (r Mutation) CancelEvent(ctx context.Context, id string) (*events.Event, error) {
	eid, err := relay.DecodeID("Event", "id", id)
	if err != nil {
		return nil, err
	}
	return r.EventService.Cancel(ctx, eid)
}

// Rsvp is the resolver for the rsvp field.
func (r Mutation) Rsvp(ctx context.Context, eventID string, guests *int, idempotencyKey string) (*rsvp.RSVP, error) {
	me, eid, err := memberEvent(ctx, eventID)
	if err != nil {
		return nil, err
	}
	return r.RSVPs.RSVP(ctx, me, eid, model.Deref(guests), idempotencyKey)
}

// CancelRsvp is the resolver for the cancelRsvp field.
func (r Mutation) CancelRsvp(ctx context.Context, eventID string) (*rsvp.RSVP, error) {
	me, eid, err := memberEvent(ctx, eventID)
	if err != nil {
		return nil, err
	}
	return r.RSVPs.CancelRSVP(ctx, me, eid)
}

// ClaimSeat is the resolver for the claimSeat field.
func (r Mutation) ClaimSeat(ctx context.Context, eventID string) (*rsvp.RSVP, error) {
	me, eid, err := memberEvent(ctx, eventID)
	if err != nil {
		return nil, err
	}
	return r.RSVPs.ClaimSeat(ctx, me, eid)
}

// CheckInAttendee is the resolver for the checkInAttendee field.
func (r Mutation) CheckInAttendee(ctx context.Context, eventID string, code string) (*rsvp.RSVP, error) {
	eid, err := relay.DecodeID("Event", "eventId", eventID)
	if err != nil {
		return nil, err
	}
	in, err := r.RSVPs.Door().CheckIn(ctx, eid, code)
	// A second scan names whom the door already let in, to those who may
	// greet them (as attendeeName does).
	var again *rsvp.AlreadyCheckedIn
	if errors.As(err, &again) && attendees.MaySeeName(member.PrincipalFrom(ctx)) {
		if m, merr := r.Members.Get(ctx, again.MemberID); merr == nil {
			again.Name = m.DisplayName
		}
	}
	return in, err
}

// Events is the resolver for the events field.
func (r Query) Events(ctx context.Context, first *int, after *string, filter *events.Filter) (*model.EventConnection, error) {
	me, err := member.PrincipalFrom(ctx).Self()
	if err != nil {
		return nil, err
	}
	n, err := relay.PageSize(first)
	if err != nil {
		return nil, err
	}
	f := model.Deref(filter)
	list := "events." + string(f)
	from, err := relay.DecodeIDCursor(list, after)
	if err != nil {
		return nil, err
	}
	evs, more, err := r.EventService.List(ctx, me, f, from, n)
	if err != nil {
		return nil, err
	}
	return eventConnection(list, evs, more, after), nil
}

// Event is the resolver for the event field.
func (r Query) Event(ctx context.Context, id string) (*events.Event, error) {
	eid, err := relay.DecodeID("Event", "id", id)
	if err != nil {
		return nil, err
	}
	return r.EventService.Read(ctx, member.PrincipalFrom(ctx), eid)
}

// BrandEvents is the resolver for the brandEvents field.
func (r Query) BrandEvents(ctx context.Context, first *int, after *string) (*model.EventConnection, error) {
	n, err := relay.PageSize(first)
	if err != nil {
		return nil, err
	}
	from, err := relay.DecodeIDCursor("brand-events", after)
	if err != nil {
		return nil, err
	}
	evs, more, err := r.EventService.Brand(ctx, from, n)
	if err != nil {
		return nil, err
	}
	return eventConnection("brand-events", evs, more, after), nil
}

// Event is the resolver for the event field.
func (r Rsvp) Event(ctx context.Context, obj *rsvp.RSVP) (*events.Event, error) {
	return r.EventService.Get(ctx, obj.EventID)
}

// Member is the resolver for the member field.
func (r Rsvp) Member(ctx context.Context, obj *rsvp.RSVP) (*member.Member, error) {
	if !attendees.MaySeeMember(member.PrincipalFrom(ctx)) {
		return nil, nil
	}
	return r.Members.Get(ctx, obj.MemberID)
}

// AttendeeName is the resolver for the attendeeName field.
func (r Rsvp) AttendeeName(ctx context.Context, obj *rsvp.RSVP) (*string, error) {
	if !attendees.MaySeeName(member.PrincipalFrom(ctx)) {
		return nil, nil
	}
	m, err := r.Members.Get(ctx, obj.MemberID)
	if err != nil {
		return nil, err
	}
	return &m.DisplayName, nil
}

// Position is the resolver for the position field.
func (r Rsvp) Position(ctx context.Context, obj *rsvp.RSVP) (*int, error) {
	if obj.Status != rsvp.Waitlisted {
		return nil, nil
	}
	n, err := r.RSVPs.Position(ctx, obj)
	if err != nil {
		return nil, err
	}
	return &n, nil
}

// CheckInCode is the resolver for the checkInCode field.
func (r Rsvp) CheckInCode(ctx context.Context, obj *rsvp.RSVP) (*string, error) {
	return model.Optional(r.RSVPs.CheckInCodeFor(member.PrincipalFrom(ctx), obj)), nil
}

// EventUpdates is the resolver for the eventUpdates field.
func (r Subscription) EventUpdates(ctx context.Context, eventID string, after *string) (<-chan *watch.Update, error) {
	me, eid, err := memberEvent(ctx, eventID)
	if err != nil {
		return nil, err
	}
	from := int64(-1)
	if after != nil && *after != "" {
		if from, err = relay.DecodeCursor("event-updates."+eid.Hex(), after); err != nil {
			return nil, err
		}
	}
	var counts *attendees.Service
	if attendees.MaySeeCounts(member.PrincipalFrom(ctx)) {
		counts = r.AttendeeService
	}
	return watch.Event(ctx, r.EventService, r.RSVPs, me, eid, from, counts)
}

// Eligibility is the resolver for the eligibility field.
func (r EventInput) Eligibility(ctx context.Context, obj *events.Input, data *model.EventEligibilityInput) error {
	if data == nil {
		return nil
	}
	el := events.Eligibility{Tiers: data.Tiers}
	if data.BadgeID != nil {
		id, err := relay.DecodeID("Badge", "eligibility.badgeId", *data.BadgeID)
		if err != nil {
			return err
		}
		el.BadgeID = &id
	}
	for i, m := range data.MemberIds {
		id, err := relay.DecodeID("Member", fmt.Sprintf("eligibility.memberIds[%d]", i), m)
		if err != nil {
			return err
		}
		el.Members = append(el.Members, id)
	}
	obj.Eligibility = &el
	return nil
}

// DoorEvents is the resolver for the doorEvents field.
func (r Query) DoorEvents(ctx context.Context, first *int, after *string) (*model.EventConnection, error) {
	n, err := relay.PageSize(first)
	if err != nil {
		return nil, err
	}
	// The list is by start: a cursor holds the last event's start and id.
	const list = "events.DOOR_START"
	pos, err := relay.DecodeStringCursor(list, after)
	if err != nil {
		return nil, err
	}
	var from events.DoorPosition
	if pos != "" {
		start, id, _ := strings.Cut(pos, "|")
		at, errAt := time.Parse(time.RFC3339Nano, start)
		oid, errID := bson.ObjectIDFromHex(id)
		if errAt != nil || errID != nil {
			return nil, input.Errorf("after", "is not a cursor of this list")
		}
		from = events.DoorPosition{StartsAt: at, ID: oid}
	}
	evs, more, err := r.EventService.AtTheDoor(ctx, member.PrincipalFrom(ctx), from, n)
	if err != nil {
		return nil, err
	}
	es, info := relay.Edges(evs, more, after, func(e *events.Event) string {
		return relay.EncodeStringCursor(list, e.StartsAt.UTC().Format(time.RFC3339Nano)+"|"+e.ID.Hex())
	}, func(c string, e *events.Event) *model.EventEdge { return &model.EventEdge{Cursor: c, Node: e} })
	return &model.EventConnection{Edges: es, PageInfo: info}, nil
}
