// Package events is the catalog of members-only events: the brand defines
// an event (place, time, capacity, guests, who may come), publishes it
// (members who may attend are told, in resumable batches) or cancels it,
// and members list the events they may see. Answers to an event (RSVPs,
// the waitlist, seat offers, check-in) live in community/events/rsvp,
// which the catalog reaches through the Seating interface it declares.
// It owns the collection events.
//
// Capacity holds without transactions: an event's seats are one
// document's conditional counter. The event lists the RSVPs holding seats
// (confirmed or offered, with their guests) in holders and the waitlisted
// ones in queue, and every seat change is one conditional update of that
// document that reads the count it changes (Seats), so no interleaving can
// take more seats than the capacity, nor hand one seat to two members.
package events

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/mongoindex"
	"github.com/regulars/regulars/internal/page"
	"github.com/regulars/regulars/member"
)

var (
	ErrEventNotFound = fault.New(fault.NotFound, "event not found")
	// ErrTierTooLow and ErrBadgeRequired refuse an RSVP to an event the
	// member can see but may not attend; the message says why.
	ErrTierTooLow    = fault.New(fault.Forbidden, "your tier is too low for this event")
	ErrBadgeRequired = fault.New(fault.Forbidden, "this event is for holders of a badge you have not earned")
	// ErrNotDoorStaff refuses the door's list of events to anyone but
	// BRAND and STAFF.
	ErrNotDoorStaff   = fault.New(fault.Forbidden, "only BRAND or STAFF work the door")
	ErrEventCancelled = fault.New(fault.Conflict, "the event was cancelled")
	ErrNotPublished   = fault.New(fault.Conflict, "the event is not published")
)

// Status is where an event stands. An event past its end is ENDED
// (computed: see Event.StatusAt).
type Status string

const (
	StatusDraft     Status = "DRAFT"
	StatusPublished Status = "PUBLISHED"
	StatusCancelled Status = "CANCELLED"
	StatusEnded     Status = "ENDED"
)

// Place is where an event happens: a venue with its address, or an online
// link shown to confirmed members only.
type Place struct {
	Venue     string `bson:"venue,omitempty"`
	Address   string `bson:"address,omitempty"`
	OnlineURL string `bson:"onlineUrl,omitempty"`
}

// Eligibility says who may RSVP; every condition given must hold. With
// none, everyone may. An explicit member list makes the event invisible
// to everyone else; tiers and a badge show it, refusing the RSVP with the
// reason.
type Eligibility struct {
	Tiers   []string        `bson:"tiers,omitempty"`
	BadgeID *bson.ObjectID  `bson:"badgeId,omitempty"`
	Members []bson.ObjectID `bson:"members,omitempty"`
}

// Event is a members-only event.
type Event struct {
	ID          bson.ObjectID `bson:"_id"`
	Title       string        `bson:"title"`
	Description string        `bson:"description"`
	ImageURL    string        `bson:"imageUrl,omitempty"`
	Place       Place         `bson:"place"`
	StartsAt    time.Time     `bson:"startsAt"`
	EndsAt      time.Time     `bson:"endsAt"`
	// Timezone is the event's IANA zone (calendars, reminders).
	Timezone        string      `bson:"timezone"`
	Capacity        int         `bson:"capacity"`
	GuestsPerMember int         `bson:"guestsPerMember"`
	RSVPOpensAt     time.Time   `bson:"rsvpOpensAt"`
	RSVPClosesAt    time.Time   `bson:"rsvpClosesAt"`
	Eligibility     Eligibility `bson:"eligibility"`
	// ClaimWindow is how long a freed seat is held for the member offered
	// it; OpenCall is how long before the start freed seats go to whoever
	// of the waitlist claims first.
	ClaimWindow time.Duration `bson:"claimWindow"`
	// PricePoints is paid through the ledger when a seat is confirmed (0:
	// free), given back on a cancellation up to RefundCutoffHours before the
	// start, and always when the brand cancels the event.
	PricePoints       int64         `bson:"pricePoints,omitempty"`
	RefundCutoffHours int           `bson:"refundCutoffHours,omitempty"`
	RefundsPending    bool          `bson:"refundsPending,omitempty"`
	OpenCall          time.Duration `bson:"openCall"`
	Status            Status        `bson:"status"`
	// Taken counts the seats held (confirmed and offered RSVPs with their
	// guests); Holders are those RSVPs' ids, Queue the waitlisted ones.
	Taken   int      `bson:"taken"`
	Holders []string `bson:"holders"`
	Queue   []string `bson:"queue"`
	// Version grows with every change: live updates compare it.
	Version       int64 `bson:"version"`
	NoShowsMarked bool  `bson:"noShowsMarked,omitempty"`
	// Announcement is the progress of telling members it was published.
	Announcement Announcement `bson:"announcement"`
	CreatedAt    time.Time    `bson:"createdAt"`
	UpdatedAt    time.Time    `bson:"updatedAt"`
}

// StatusAt is the event's status at now: a published event is ENDED once over.
func (e *Event) StatusAt(now time.Time) Status {
	if e.Status == StatusPublished && !now.Before(e.EndsAt) {
		return StatusEnded
	}
	return e.Status
}

// SeatsLeft is how many seats are neither confirmed nor offered (never negative).
func (e *Event) SeatsLeft() int { return max(0, e.Capacity-e.Taken) }

// Location is the event's timezone.
func (e *Event) Location() *time.Location {
	if loc, err := time.LoadLocation(e.Timezone); err == nil {
		return loc
	}
	return time.UTC
}

// OpenCallAt reports whether freed seats go to the first claimer at now.
func (e *Event) OpenCallAt(now time.Time) bool {
	return e.OpenCall > 0 && !now.Before(e.StartsAt.Add(-e.OpenCall))
}

// Defaults and bounds of an event's settings.
const (
	DefaultClaimWindow = 2 * time.Hour
	DefaultOpenCall    = 2 * time.Hour
	// Bounds of the input (BAD_USER_INPUT naming the field past them).
	MaxCapacity           = 100_000
	MaxGuests             = 10
	MinClaimWindowMinutes = 5
	MaxWindowMinutes      = 7 * 24 * 60 // claimWindowMinutes, openCallMinutes
	MaxDescription        = 5000
	MaxVenue              = 200
	MaxAddress            = 500
	maxMembersListed      = 10_000
)

// Standing answers what eligibility and waitlist priority ask of members;
// the server fills it in from the game.
type Standing interface {
	// Tier is the member's current tier and its rank (0: the lowest).
	Tier(ctx context.Context, memberID bson.ObjectID) (name string, rank int, err error)
	// TierExists reports whether the program has a tier of that name.
	TierExists(ctx context.Context, name string) (bool, error)
	HasBadge(ctx context.Context, memberID, badgeID bson.ObjectID) (bool, error)
	BadgeExists(ctx context.Context, badgeID bson.ObjectID) (bool, error)
}

// Notifier sends a member a notification (inbox.Inbox).
type Notifier interface {
	Send(ctx context.Context, m inbox.Message) (*inbox.Notification, error)
}

// Seating is what the catalog asks of the answers to its events
// (rsvp.Service): the server sets it once both are built; nil, events have
// no answers.
type Seating interface {
	// Offer hands an event's free seats to its waitlist (after its
	// capacity was raised).
	Offer(ctx context.Context, eventID bson.ObjectID) error
	// Refund gives back what members paid for an event the brand
	// cancelled, keyed, and returns how many RSVPs it refunded.
	Refund(ctx context.Context, e *Event) (int, error)
	// EventsOf lists the events the member answered.
	EventsOf(ctx context.Context, memberID bson.ObjectID) ([]bson.ObjectID, error)
}

// Deps is what events use of the rest of the system.
type Deps struct {
	Standing Standing
	Notify   Notifier
	// Broker carries live updates, keyed by event id (an inbox broker:
	// the same delivery path as notifications).
	Broker inbox.Broker
	// Audience is walked to announce a published event (nil: no announcements).
	Audience Audience
	// Seating answers for the RSVPs (nil: none).
	Seating Seating
	Now     func() time.Time
}

// Service is the events over one database.
type Service struct {
	Deps
	events eventStore
	kick   chan struct{}
}

// New returns the events over db.
func New(db *mongo.Database, d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Broker == nil {
		d.Broker = inbox.NewMemoryBroker()
	}
	return &Service{Deps: d, events: eventStore{c: db.Collection("events")}, kick: make(chan struct{}, 1)}
}

func (s *Service) now() time.Time { return s.Now().UTC() }

// Seats returns the seat changes of the events' documents (rsvp uses them).
func (s *Service) Seats() *Seats { return &Seats{c: s.events.c, now: s.now} }

// Kicked receives when work for the background jobs was just created (an
// event to announce), so they need not wait for their next run.
func (s *Service) Kicked() <-chan struct{} { return s.kick }

func (s *Service) kickJobs() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// EnsureIndexes creates the indexes of events; safe to repeat.
func (s *Service) EnsureIndexes(ctx context.Context) error {
	return mongoindex.Ensure(ctx, s.events.c, s.events.indexes()...)
}

// Input is an event as the brand defines it. In an update (Patch) a nil
// field stays as it is.
type Input struct {
	Title           *string
	Description     *string
	ImageURL        *string
	Place           *Place
	StartsAt        *time.Time
	EndsAt          *time.Time
	Timezone        *string
	Capacity        *int
	GuestsPerMember *int
	RSVPOpensAt     *time.Time
	RSVPClosesAt    *time.Time
	Eligibility     *Eligibility
	// ClaimWindowMinutes and OpenCallMinutes: see Event.
	ClaimWindowMinutes *int
	OpenCallMinutes    *int
	// PricePoints and RefundCutoffHours: see Event; the price is set while
	// the event is a draft.
	PricePoints       *int
	RefundCutoffHours *int
}

// apply writes the fields in sets into e.
func (in *Input) apply(e *Event) {
	set(&e.Title, in.Title)
	set(&e.Description, in.Description)
	set(&e.ImageURL, in.ImageURL)
	set(&e.Place, in.Place)
	set(&e.StartsAt, in.StartsAt)
	set(&e.EndsAt, in.EndsAt)
	set(&e.Timezone, in.Timezone)
	set(&e.Capacity, in.Capacity)
	set(&e.GuestsPerMember, in.GuestsPerMember)
	set(&e.RSVPOpensAt, in.RSVPOpensAt)
	set(&e.RSVPClosesAt, in.RSVPClosesAt)
	set(&e.Eligibility, in.Eligibility)
	if in.ClaimWindowMinutes != nil {
		e.ClaimWindow = time.Duration(*in.ClaimWindowMinutes) * time.Minute
	}
	if in.OpenCallMinutes != nil {
		e.OpenCall = time.Duration(*in.OpenCallMinutes) * time.Minute
	}
	if in.PricePoints != nil {
		e.PricePoints = int64(*in.PricePoints)
	}
	set(&e.RefundCutoffHours, in.RefundCutoffHours)
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// checkInput bounds the numbers and cleans the texts of an input before
// they touch an event (minutes become durations only once bounded, so
// nothing overflows). Texts follow input.Text (title, description, venue,
// address), links input.Identifier and https; the error names the field.
func (in *Input) checkInput() error {
	for _, b := range []struct {
		field    string
		v        *int
		min, max int
	}{
		{"capacity", in.Capacity, 1, MaxCapacity}, {"guestsPerMember", in.GuestsPerMember, 0, MaxGuests},
		{"claimWindowMinutes", in.ClaimWindowMinutes, MinClaimWindowMinutes, MaxWindowMinutes},
		{"openCallMinutes", in.OpenCallMinutes, 0, MaxWindowMinutes},
		{"pricePoints", in.PricePoints, 0, MaxPrice}, {"refundCutoffHours", in.RefundCutoffHours, 0, MaxRefundCutoffHours},
	} {
		if b.v != nil && (*b.v < b.min || *b.v > b.max) {
			return input.Errorf(b.field, "must be between %d and %d", b.min, b.max)
		}
	}
	var err error
	if in.Title != nil {
		if *in.Title, err = input.Line("title", *in.Title, inbox.MaxTitle); err != nil {
			return err
		}
	}
	if in.Description != nil {
		if *in.Description, err = (input.Text{Max: MaxDescription, Multiline: true, Optional: true}).Check("description", *in.Description); err != nil {
			return err
		}
	}
	if in.ImageURL != nil {
		if *in.ImageURL, err = checkURL("imageUrl", *in.ImageURL); err != nil {
			return err
		}
	}
	if p := in.Place; p != nil {
		if p.Venue, err = (input.Text{Max: MaxVenue, Optional: true}).Check("place.venue", p.Venue); err != nil {
			return err
		}
		if p.Address, err = (input.Text{Max: MaxAddress, Optional: true}).Check("place.address", p.Address); err != nil {
			return err
		}
		if p.OnlineURL, err = checkURL("place.onlineUrl", p.OnlineURL); err != nil {
			return err
		}
	}
	if in.Timezone != nil {
		*in.Timezone = strings.TrimSpace(*in.Timezone)
	}
	return nil
}

// checkURL accepts "" or an https URL of at most 2048 printable ASCII
// characters with a host.
func checkURL(field, s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	s, err := input.Identifier(field, s, 2048)
	if err != nil {
		return "", err
	}
	if u, err := url.Parse(s); err != nil || u.Scheme != "https" || u.Host == "" {
		return "", input.Errorf(field, "must be an https URL")
	}
	return s, nil
}

// validate checks a whole event; the error names the input field.
func (s *Service) validate(ctx context.Context, e *Event, in *Input) error {
	switch {
	case e.Title == "":
		return input.Errorf("title", "is required")
	case e.Place.Venue == "" && e.Place.OnlineURL == "":
		return input.Errorf("place", "give a venue with its address, or an online link")
	case e.Place.Venue != "" && e.Place.Address == "":
		return input.Errorf("place.address", "a venue needs its address")
	case e.StartsAt.IsZero():
		return input.Errorf("startsAt", "is required")
	// Before the RSVP window's checks: a past start would otherwise be
	// reported at an RSVP window the form may never have shown.
	case in.StartsAt != nil && in.StartsAt.Before(s.now()):
		return input.Errorf("startsAt", "is in the past")
	case !e.EndsAt.After(e.StartsAt):
		return input.Errorf("endsAt", "must be after the start")
	case e.EndsAt.Sub(e.StartsAt) > 30*24*time.Hour:
		return input.Errorf("endsAt", "an event lasts at most 30 days")
	case !validZone(e.Timezone):
		return input.Errorf("timezone", "%q is not an IANA timezone (say Europe/Paris)", e.Timezone)
	case e.Capacity < 1 || e.Capacity > MaxCapacity:
		return input.Errorf("capacity", "must be between 1 and %d", MaxCapacity)
	case !e.RSVPClosesAt.After(e.RSVPOpensAt):
		return input.Errorf("rsvpClosesAt", "must be after RSVPs open")
	case e.RSVPClosesAt.After(e.StartsAt):
		return input.Errorf("rsvpClosesAt", "must be at or before the start")
	case len(e.Eligibility.Members) > maxMembersListed:
		return input.Errorf("eligibility.memberIds", "at most %d members; use tiers or a badge for more", maxMembersListed)
	}
	for i, t := range e.Eligibility.Tiers {
		ok, err := s.Standing.TierExists(ctx, t)
		if err != nil {
			return err
		}
		if !ok {
			return input.Errorf(fmt.Sprintf("eligibility.tiers[%d]", i), "no tier is called %q", t)
		}
	}
	if id := e.Eligibility.BadgeID; id != nil {
		ok, err := s.Standing.BadgeExists(ctx, *id)
		if err != nil {
			return err
		}
		if !ok {
			return input.Errorf("eligibility.badgeId", "no such badge")
		}
	}
	return nil
}

func validZone(z string) bool {
	if z == "" || z == "Local" {
		return false
	}
	_, err := time.LoadLocation(z)
	return err == nil
}

// Create stores an event as a draft. RSVPs open now unless rsvpOpensAt
// says otherwise and close at the start unless rsvpClosesAt does; the
// claim window and open call default to 2 hours.
func (s *Service) Create(ctx context.Context, in Input) (*Event, error) {
	now := s.now()
	if err := in.checkInput(); err != nil {
		return nil, err
	}
	e := &Event{ID: bson.NewObjectID(), Status: StatusDraft, RSVPOpensAt: now, ClaimWindow: DefaultClaimWindow, OpenCall: DefaultOpenCall,
		Holders: []string{}, Queue: []string{}, Version: 1, CreatedAt: now, UpdatedAt: now}
	in.apply(e)
	if in.RSVPClosesAt == nil {
		e.RSVPClosesAt = e.StartsAt
	}
	if in.StartsAt == nil {
		return nil, input.Errorf("startsAt", "is required")
	}
	if err := s.validate(ctx, e, &in); err != nil {
		return nil, err
	}
	normalize(e)
	if _, err := s.events.c.InsertOne(ctx, e); err != nil {
		return nil, err
	}
	return e, nil
}

func normalize(e *Event) {
	e.StartsAt, e.EndsAt = e.StartsAt.UTC(), e.EndsAt.UTC()
	e.RSVPOpensAt, e.RSVPClosesAt = e.RSVPOpensAt.UTC(), e.RSVPClosesAt.UTC()
}

// Update changes an event's definition; fields left out stay. A capacity
// raised hands the new seats to the waitlist at once; lowered, it never
// removes a confirmed member (new seats free up only as they leave). A
// cancelled or ended event cannot change.
func (s *Service) Update(ctx context.Context, id bson.ObjectID, in Input) (*Event, error) {
	e, err := s.events.get(ctx, id)
	if err != nil {
		return nil, input.Wrap("id", err)
	}
	if st := e.StatusAt(s.now()); st == StatusCancelled || st == StatusEnded {
		return nil, fmt.Errorf("%w: a %s event cannot change", ErrNotPublished, strings.ToLower(string(st)))
	}
	if err := in.checkInput(); err != nil {
		return nil, err
	}
	if in.PricePoints != nil && int64(*in.PricePoints) != e.PricePoints && e.Status != StatusDraft {
		return nil, input.Errorf("pricePoints", "the price is set before publishing")
	}
	in.apply(e)
	if err := s.validate(ctx, e, &in); err != nil {
		return nil, err
	}
	normalize(e)
	set := bson.D{
		{Key: "title", Value: e.Title}, {Key: "description", Value: e.Description}, {Key: "imageUrl", Value: e.ImageURL},
		{Key: "place", Value: e.Place}, {Key: "startsAt", Value: e.StartsAt}, {Key: "endsAt", Value: e.EndsAt},
		{Key: "timezone", Value: e.Timezone}, {Key: "capacity", Value: e.Capacity}, {Key: "guestsPerMember", Value: e.GuestsPerMember},
		{Key: "rsvpOpensAt", Value: e.RSVPOpensAt}, {Key: "rsvpClosesAt", Value: e.RSVPClosesAt}, {Key: "eligibility", Value: e.Eligibility},
		{Key: "claimWindow", Value: e.ClaimWindow}, {Key: "openCall", Value: e.OpenCall}, {Key: "updatedAt", Value: s.now()},
		{Key: "pricePoints", Value: e.PricePoints}, {Key: "refundCutoffHours", Value: e.RefundCutoffHours},
	}
	if _, err := s.events.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: set}, {Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}}); err != nil {
		return nil, err
	}
	s.Changed(id)
	if s.Seating != nil {
		if err := s.Seating.Offer(ctx, id); err != nil {
			return nil, err
		}
	}
	return s.events.get(ctx, id)
}

// Publish opens a draft to members (idempotent) and has the background
// job (Announce) tell every member who may attend, once.
func (s *Service) Publish(ctx context.Context, id bson.ObjectID) (*Event, error) {
	e, err := s.transition(ctx, id, StatusDraft, StatusPublished, bson.E{Key: "announcement.pending", Value: true})
	if err == nil {
		s.kickJobs()
	}
	return e, err
}

// Cancel cancels a draft or published event (idempotent); RSVPs stay as
// they were, answered by the event's status, and whatever members paid is
// given back (RefundCancelled; the job finishes it after a failure).
func (s *Service) Cancel(ctx context.Context, id bson.ObjectID) (*Event, error) {
	pending := bson.E{Key: "refundsPending", Value: true}
	e, err := s.transition(ctx, id, StatusPublished, StatusCancelled, pending)
	if errors.Is(err, ErrNotPublished) {
		e, err = s.transition(ctx, id, StatusDraft, StatusCancelled, pending)
	}
	if err != nil {
		return nil, err
	}
	if e.RefundsPending && s.Seating != nil {
		if _, err := s.Seating.Refund(ctx, e); err != nil {
			return nil, err
		}
		e.RefundsPending = false
	}
	return e, nil
}

func (s *Service) transition(ctx context.Context, id bson.ObjectID, from, to Status, set ...bson.E) (*Event, error) {
	e, err := s.events.get(ctx, id)
	if err != nil {
		return nil, input.Wrap("id", err)
	}
	if e.Status == to {
		return e, nil
	}
	if e.Status != from {
		return nil, fmt.Errorf("%w (it is %s)", ErrNotPublished, e.Status)
	}
	res, err := s.events.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "status", Value: from}},
		bson.D{{Key: "$set", Value: append(bson.D{{Key: "status", Value: to}, {Key: "updatedAt", Value: s.now()}}, set...)}, {Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}}})
	if err != nil {
		return nil, err
	}
	if res.MatchedCount == 0 {
		return s.transition(ctx, id, from, to, set...)
	}
	s.Changed(id)
	return s.events.get(ctx, id)
}

// Get returns an event whatever its status (the brand's view).
func (s *Service) Get(ctx context.Context, id bson.ObjectID) (*Event, error) {
	return s.events.get(ctx, id)
}

// For returns an event as the member may see it: published or over, and
// not hidden from them (an explicit list they are not on). Anything else
// is ErrEventNotFound, whether it exists or not.
func (s *Service) For(ctx context.Context, memberID, id bson.ObjectID) (*Event, error) {
	e, err := s.events.get(ctx, id)
	if err != nil {
		return nil, err
	}
	if e.Status == StatusDraft || hidden(e, memberID) {
		return nil, ErrEventNotFound
	}
	return e, nil
}

func hidden(e *Event, memberID bson.ObjectID) bool {
	return len(e.Eligibility.Members) > 0 && !slices.Contains(e.Eligibility.Members, memberID)
}

// Eligible returns nil when the member may RSVP, else the reason
// (ErrTierTooLow, ErrBadgeRequired, or ErrEventNotFound for a hidden event),
// and the member's tier rank for waitlist priority.
func (s *Service) Eligible(ctx context.Context, e *Event, memberID bson.ObjectID) (int, error) {
	if hidden(e, memberID) {
		return 0, ErrEventNotFound
	}
	name, rank, err := s.Standing.Tier(ctx, memberID)
	if err != nil {
		return 0, err
	}
	if t := e.Eligibility.Tiers; len(t) > 0 && !slices.ContainsFunc(t, func(n string) bool { return strings.EqualFold(n, name) }) {
		return rank, fmt.Errorf("%w: for %s members, you are %s", ErrTierTooLow, strings.Join(t, " or "), name)
	}
	if b := e.Eligibility.BadgeID; b != nil {
		has, err := s.Standing.HasBadge(ctx, memberID, *b)
		if err != nil {
			return rank, err
		}
		if !has {
			return rank, ErrBadgeRequired
		}
	}
	return rank, nil
}

// Filter picks the events a member lists.
type Filter string

const (
	FilterUpcoming Filter = "UPCOMING" // published, not over, that the member may attend
	FilterMine     Filter = "MINE"     // the member's active RSVPs, not over
	FilterPast     Filter = "PAST"     // over, that the member answered
)

// List returns up to limit events for the member, by start then id, after
// the event after (zero: from the first), and whether more follow.
// UPCOMING lists those the member is eligible for.
func (s *Service) List(ctx context.Context, memberID bson.ObjectID, f Filter, after bson.ObjectID, limit int) ([]*Event, bool, error) {
	now := s.now()
	filter := bson.D{{Key: "status", Value: bson.D{{Key: "$in", Value: []Status{StatusPublished, StatusCancelled}}}}}
	switch f {
	case FilterUpcoming, "":
		filter = bson.D{{Key: "status", Value: StatusPublished}, {Key: "endsAt", Value: bson.D{{Key: "$gt", Value: now}}}}
	case FilterMine, FilterPast:
		var ids []bson.ObjectID
		if s.Seating != nil {
			var err error
			if ids, err = s.Seating.EventsOf(ctx, memberID); err != nil {
				return nil, false, err
			}
		}
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}})
		if f == FilterMine {
			filter = append(filter, bson.E{Key: "endsAt", Value: bson.D{{Key: "$gt", Value: now}}})
		} else {
			filter = append(filter, bson.E{Key: "endsAt", Value: bson.D{{Key: "$lte", Value: now}}})
		}
	default:
		return nil, false, input.Errorf("filter", "unknown filter %q", f)
	}
	if !after.IsZero() {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}})
	}
	// Pages run in id order (creation order); events are few per brand,
	// so a page reads at most a few hundred to find limit visible ones.
	var out []*Event
	for {
		batch, err := s.events.find(ctx, filter, 200)
		if err != nil {
			return nil, false, err
		}
		for _, e := range batch {
			if hidden(e, memberID) {
				continue
			}
			if f == FilterUpcoming || f == "" {
				if _, err := s.Eligible(ctx, e, memberID); err != nil {
					if fault.CodeOf(err) == fault.Internal {
						return nil, false, err
					}
					continue
				}
			}
			if len(out) == limit {
				return out, true, nil
			}
			out = append(out, e)
		}
		if len(batch) < 200 {
			return out, false, nil
		}
		filter = replaceAfter(filter, batch[len(batch)-1].ID)
	}
}

func replaceAfter(f bson.D, after bson.ObjectID) bson.D {
	out := bson.D{}
	for _, e := range f {
		if e.Key == "_id" {
			if d, ok := e.Value.(bson.D); ok && len(d) == 1 && d[0].Key == "$gt" {
				continue
			}
		}
		out = append(out, e)
	}
	return append(out, bson.E{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}})
}

// DoorPosition is where a page of AtTheDoor ends: the last event's start
// and id (its order); the zero value is the list's start.
type DoorPosition struct {
	StartsAt time.Time
	ID       bson.ObjectID
}

// AtTheDoor lists the events door staff may check members in to:
// published and not over (today's and upcoming), whoever may attend them
// (a tier, badge or member list limits who answers, not who works the
// door), by start, soonest first (then by id), up to limit after the
// position after (zero: from the first), and whether more follow. For
// BRAND, STAFF and the brand's backend; anyone else gets ErrNotDoorStaff.
// Backed by the index status_startsAt.
func (s *Service) AtTheDoor(ctx context.Context, p member.Principal, after DoorPosition, limit int) ([]*Event, bool, error) {
	if !WorksTheDoor(p) {
		return nil, false, ErrNotDoorStaff
	}
	filter := bson.D{{Key: "status", Value: StatusPublished}, {Key: "endsAt", Value: bson.D{{Key: "$gt", Value: s.now()}}}}
	if !after.ID.IsZero() {
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "startsAt", Value: bson.D{{Key: "$gt", Value: after.StartsAt}}}},
			bson.D{{Key: "startsAt", Value: after.StartsAt}, {Key: "_id", Value: bson.D{{Key: "$gt", Value: after.ID}}}},
		}})
	}
	return page.Find[*Event](ctx, s.events.c, filter, options.Find().SetSort(bson.D{{Key: "startsAt", Value: 1}, {Key: "_id", Value: 1}}), limit)
}

// Brand lists every event for the brand, newest first, before the id
// before (zero: from the newest).
func (s *Service) Brand(ctx context.Context, before bson.ObjectID, limit int) ([]*Event, bool, error) {
	filter := bson.D{}
	if !before.IsZero() {
		filter = bson.D{{Key: "_id", Value: bson.D{{Key: "$lt", Value: before}}}}
	}
	return page.Find[*Event](ctx, s.events.c, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}), limit)
}

type eventStore struct{ c *mongo.Collection }

const (
	indexEventStatusEnds  = "status_endsAt"
	indexEventUpdated     = "updatedAt"
	indexEventAnnounce    = "announcement_pending"
	indexEventStatusStart = "status_startsAt"
)

func (s eventStore) indexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		// Upcoming events, reminders, no-shows: by status and end.
		{Keys: bson.D{{Key: "status", Value: 1}, {Key: "endsAt", Value: 1}}, Options: options.Index().SetName(indexEventStatusEnds)},
		// Live updates across instances poll for recently changed events.
		{Keys: bson.D{{Key: "updatedAt", Value: 1}}, Options: options.Index().SetName(indexEventUpdated)},
		// Events still being announced, for Announce.
		{Keys: bson.D{{Key: "announcement.pending", Value: 1}}, Options: options.Index().SetName(indexEventAnnounce)},
		// The door's list, by start (AtTheDoor).
		{Keys: bson.D{{Key: "status", Value: 1}, {Key: "startsAt", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName(indexEventStatusStart)},
	}
}

func (s eventStore) get(ctx context.Context, id bson.ObjectID) (*Event, error) {
	var e Event
	err := s.c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&e)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrEventNotFound
	}
	if err != nil {
		return nil, err
	}
	return &e, nil
}

func (s eventStore) find(ctx context.Context, filter bson.D, limit int64) ([]*Event, error) {
	cur, err := s.c.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(limit))
	if err != nil {
		return nil, err
	}
	var out []*Event
	return out, cur.All(ctx, &out)
}
