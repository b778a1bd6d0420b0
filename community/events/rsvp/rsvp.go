// Package rsvp is the answers to members-only events: a member's RSVP
// (with guests, idempotent by key, paid in points when the event has a
// price), the fair waitlist that hands freed seats out as timed offers and
// the open call, check-in at the door with a signed code, no-shows, and
// the repair of an answer a crash left half-done. Attendance enters the loyalty economy
// through the game's activity path (Activities). It owns the collection
// event_rsvps; seats are taken and given back only through the event
// catalog's conditional updates (events.Seats). Who answered, as the brand
// and the reminders read it, is community/events/attendees.
package rsvp

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/community/events"
	"github.com/regulars/regulars/community/events/rsvp/doorcode"
	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/mongoindex"
	"github.com/regulars/regulars/texts"
)

var (
	ErrRSVPNotFound = fault.New(fault.NotFound, "no RSVP for this event")
	// ErrAlreadyResponded: one RSVP per member per event; another key
	// while one is active is refused (cancel it first).
	ErrAlreadyResponded = fault.New(fault.Conflict, "you already answered this event")
	// ErrOfferLapsed: the seat offered was not claimed in time, or none was offered.
	ErrOfferLapsed = fault.New(fault.Conflict, "no seat is offered to you now")
	// ErrAlreadyCheckedIn answers a second scan; the message carries when
	// the first one was.
	ErrAlreadyCheckedIn = fault.New(fault.Conflict, "already checked in")
	ErrNotCheckable     = fault.New(fault.Conflict, "this RSVP is not confirmed")
	// ErrCheckInClosed: a check-in outside the event's window (CheckInOpens
	// before the start to the end); the message says when it opens or
	// that it closed, in the event's timezone.
	ErrCheckInClosed = fault.New(fault.Conflict, "check-in is not open")
	// ErrIdempotencyKeyReused refuses an RSVP key sent again for another
	// event or with other guests (wrapped with the field idempotencyKey).
	ErrIdempotencyKeyReused = fault.New(fault.IdempotencyKeyReused, "idempotency key already used with different input; send a new key for a new request")
)

// maxKey bounds an RSVP's idempotency key.
const maxKey = 128

// Activities records attendance in the loyalty economy: an activity keyed
// by the RSVP, so a replay counts once (points, EVENTS_ATTENDED, streak).
type Activities interface {
	RecordEventAttendance(ctx context.Context, memberID bson.ObjectID, rsvpID string, at time.Time) error
}

// Deps is what the RSVPs use of the rest of the system.
type Deps struct {
	Activities Activities
	Notify     events.Notifier
	// Payments takes event prices (nil: events are free).
	Payments Payments
	// Penalty is the program's no-show penalty (nil: none).
	Penalty PenaltyRules
	// Secret signs check-in codes (at least 32 bytes).
	Secret []byte
	Now    func() time.Time
}

// Service is the answers to the events of one catalog.
type Service struct {
	Deps
	catalog *events.Service
	seats   *events.Seats
	rsvps   rsvpStore
}

// New returns the RSVPs over db, to the events of catalog. It does not
// set catalog.Seating: the caller does, once (see events.Seating).
func New(db *mongo.Database, catalog *events.Service, d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Service{Deps: d, catalog: catalog, seats: catalog.Seats(), rsvps: rsvpStore{c: db.Collection("event_rsvps")}}
}

func (s *Service) now() time.Time { return s.Now().UTC() }

// Door is the check-in at the door (checkin.go): the codes members show
// and the door staff's scan or typed code. Service.Door returns it.
type Door struct{ svc *Service }

// Door returns the check-in at the door.
func (s *Service) Door() *Door { return &Door{svc: s} }

// Jobs is the RSVPs' background work, run by the server's jobs under the
// lease: seat offers past their deadline, no-shows, the repair
// of answers a failure left half-done, refunds of cancelled events, and
// the rsvp.changed outbox the webhooks read. Service.Jobs returns it.
type Jobs struct{ svc *Service }

// Jobs returns the RSVPs' background work.
func (s *Service) Jobs() *Jobs { return &Jobs{svc: s} }

// EnsureIndexes creates the indexes of event_rsvps; safe to repeat.
func (s *Service) EnsureIndexes(ctx context.Context) error {
	return mongoindex.Ensure(ctx, s.rsvps.c, s.rsvps.indexes()...)
}

// EventsOf lists the events the member answered (events.Seating).
func (s *Service) EventsOf(ctx context.Context, memberID bson.ObjectID) ([]bson.ObjectID, error) {
	return s.rsvps.eventsOf(ctx, memberID)
}

// Status is where a member's answer stands.
type Status string

const (
	Confirmed  Status = "CONFIRMED"
	Waitlisted Status = "WAITLISTED"
	// Offered: a freed seat is held for the member until OfferedUntil;
	// ClaimSeat confirms it.
	Offered   Status = "OFFERED"
	Cancelled Status = "CANCELLED"
	Attended  Status = "ATTENDED"
	NoShow    Status = "NO_SHOW"
)

// RSVP is a member's answer to an event; one per member and event.
type RSVP struct {
	ID       string        `bson:"_id"` // event:member
	EventID  bson.ObjectID `bson:"eventId"`
	MemberID bson.ObjectID `bson:"memberId"`
	Status   Status        `bson:"status"`
	Guests   int           `bson:"guests"`
	// Seats is the member and their guests.
	Seats int `bson:"seats"`
	// Waitlist priority (waitlistOrder): fewer lapsed offers first, then
	// no no-show penalty (Penalized 0) before one (1), then higher tier,
	// then earlier joining.
	Lapses    int `bson:"lapses"`
	Penalized int `bson:"penalized"`
	// NoShowPenalty says why the RSVP is penalized (nil: it is not).
	NoShowPenalty *NoShowPenalty `bson:"noShowPenalty,omitempty"`
	TierRank      int            `bson:"tierRank"`
	JoinedAt      time.Time      `bson:"joinedAt"`
	// OfferedUntil is the claim deadline of an OFFERED seat; Offers counts
	// the offers made (each one's notification is keyed by it).
	OfferedUntil *time.Time `bson:"offeredUntil,omitempty"`
	Offers       int        `bson:"offers"`
	// Key is the idempotency key of the RSVP that made it.
	Key string `bson:"key"`
	// DoorKey is the event and the RSVP's door code, the short code typed
	// at the door (DoorCode): "<event hex>:<8 characters of randcode.Alphabet>",
	// unique (indexRSVPDoor). Empty on RSVPs made before door codes.
	DoorKey     string     `bson:"doorKey,omitempty"`
	CheckedInAt *time.Time `bson:"checkedInAt,omitempty"`
	// NoShowAt is when the RSVP was marked NO_SHOW.
	NoShowAt *time.Time `bson:"noShowAt,omitempty"`
	// Paid is the event's price charged for this answer (ledger key
	// chargeKey); RefundDue is set with the cancellation that earns it back,
	// Refunded once given back.
	Paid      int64     `bson:"paid,omitempty"`
	RefundDue bool      `bson:"refundDue,omitempty"`
	Refunded  bool      `bson:"refunded,omitempty"`
	CreatedAt time.Time `bson:"createdAt"`
	UpdatedAt time.Time `bson:"updatedAt"`
	// Changes counts the RSVP's status changes; Unannounced is set with
	// each and cleared once the rsvp.changed webhook event of that change
	// is written (Unannounced, Announced). Each status write sets both in
	// the same update (hooked), so the RSVP's own document is the outbox.
	Changes     int64 `bson:"changes,omitempty"`
	Unannounced bool  `bson:"unannounced,omitempty"`
	// Position is the place on the waitlist (1: next) when read with
	// Mine or Position; not stored.
	Position int `bson:"-"`
}

func rsvpID(eventID, memberID bson.ObjectID) string { return eventID.Hex() + ":" + memberID.Hex() }

// holds reports whether the RSVP holds seats: confirmed or offered, and
// still once the door marked it (attended, no-show): the seat was theirs,
// and giving it back would seat someone else on it.
func (r *RSVP) holds() bool {
	return r.Status == Confirmed || r.Status == Offered || r.Status == Attended || r.Status == NoShow
}

// active reports whether the RSVP still counts as an answer.
func (r *RSVP) active() bool { return r.Status != Cancelled }

// RSVP answers an event for the member: CONFIRMED when seats are free for
// them and their guests, else WAITLISTED (Position tells where). It is
// idempotent by key: the same key again returns the same RSVP as it is
// now. Another key while an RSVP is active is ErrAlreadyResponded; after a
// cancellation it answers anew. Refusals: BAD_USER_INPUT for guests over
// the event's limit, a bad key, or RSVPs not open (field eventId);
// FORBIDDEN with the reason for a member not eligible; NOT_FOUND for an
// event they may not see.
func (s *Service) RSVP(ctx context.Context, memberID, eventID bson.ObjectID, guests int, key string) (*RSVP, error) {
	key, err := input.Identifier("idempotencyKey", key, maxKey)
	if err != nil {
		return nil, err
	}
	if guests < 0 || guests > events.MaxGuests {
		return nil, input.Errorf("guests", "must be between 0 and %d", events.MaxGuests)
	}
	// A key belongs to one answer of the member: sent again for the same
	// event and guests it is a retry, answered with the RSVP as it stands;
	// with another event or other guests it is refused.
	if used, err := s.rsvps.byKey(ctx, memberID, key); err != nil && !errors.Is(err, ErrRSVPNotFound) {
		return nil, err
	} else if used != nil {
		if used.EventID != eventID || used.Guests != guests {
			return nil, input.Wrap("idempotencyKey", fmt.Errorf("%w: it answered another event or with other guests", ErrIdempotencyKeyReused))
		}
		return s.retried(ctx, used)
	}
	id := rsvpID(eventID, memberID)
	prior, err := s.rsvps.get(ctx, id)
	if err != nil && !errors.Is(err, ErrRSVPNotFound) {
		return nil, err
	}
	if prior != nil && prior.active() {
		return nil, ErrAlreadyResponded
	}
	e, err := s.catalog.For(ctx, memberID, eventID)
	if err != nil {
		return nil, input.Wrap("eventId", err)
	}
	now := s.now()
	switch {
	case e.Status == events.StatusCancelled:
		return nil, events.ErrEventCancelled
	case now.Before(e.RSVPOpensAt):
		return nil, input.Errorf("eventId", "RSVPs open at %s", e.RSVPOpensAt.Format(time.RFC3339))
	case !now.Before(e.RSVPClosesAt):
		return nil, input.Errorf("eventId", "RSVPs closed at %s", e.RSVPClosesAt.Format(time.RFC3339))
	case guests > e.GuestsPerMember:
		return nil, input.Errorf("guests", "this event allows 0 to %d guests", e.GuestsPerMember)
	}
	rank, err := s.catalog.Eligible(ctx, e, memberID)
	if err != nil {
		return nil, err
	}
	if err := s.canPay(ctx, e, memberID); err != nil {
		return nil, err
	}
	penalty, err := s.penaltyFor(ctx, memberID, eventID)
	if err != nil {
		return nil, err
	}
	if prior != nil && prior.RefundDue && !prior.Refunded {
		if err := s.refund(ctx, e, prior); err != nil { // the last answer's refund first
			return nil, err
		}
	}
	r := &RSVP{ID: id, EventID: eventID, MemberID: memberID, Status: Waitlisted, Guests: guests, Seats: 1 + guests,
		TierRank: rank, Penalized: penaltyRank(penalty), NoShowPenalty: penalty,
		JoinedAt: now, Key: key, DoorKey: doorcode.NewKey(eventID), CreatedAt: now, UpdatedAt: now, Changes: 1, Unannounced: true}
	if prior == nil {
		if _, err := s.rsvps.c.InsertOne(ctx, r); mongo.IsDuplicateKeyError(err) {
			// A concurrent answer won, or (a chance of one in 8·10^11 per
			// RSVP of the event) the door code is taken: again, with a new one.
			return s.RSVP(ctx, memberID, eventID, guests, key)
		} else if err != nil {
			return nil, err
		}
	} else {
		// Answering again after a cancellation: the cancelled RSVP is
		// taken over by this key, once. It keeps its door code (one made
		// before door codes gets one).
		door := bson.D{}
		if prior.DoorKey == "" {
			door = bson.D{{Key: "doorKey", Value: r.DoorKey}}
		}
		res, err := s.rsvps.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "status", Value: Cancelled}, {Key: "key", Value: prior.Key}},
			hooked(bson.D{{Key: "$set", Value: append(bson.D{{Key: "status", Value: Waitlisted}, {Key: "guests", Value: guests}, {Key: "seats", Value: r.Seats},
				{Key: "tierRank", Value: rank}, {Key: "lapses", Value: 0}, {Key: "penalized", Value: r.Penalized}, {Key: "noShowPenalty", Value: penalty},
				{Key: "joinedAt", Value: now}, {Key: "key", Value: key}, {Key: "updatedAt", Value: now}}, door...)},
				{Key: "$unset", Value: bson.D{{Key: "offeredUntil", Value: ""}, {Key: "checkedInAt", Value: ""}, {Key: "paid", Value: ""}, {Key: "refundDue", Value: ""}, {Key: "refunded", Value: ""}}}}))
		if err != nil {
			return nil, err
		}
		if res.MatchedCount == 0 {
			return s.RSVP(ctx, memberID, eventID, guests, key)
		}
		r.Offers, r.CreatedAt = prior.Offers, prior.CreatedAt
	}
	return s.place(ctx, e, r)
}

// place gives a new RSVP its seats when they are free and nobody waits
// before it, else puts it on the waitlist. Both steps are conditional
// updates of the event on what the other step needs, so a member is never
// put in line while seats are free and nobody waits (the seat would go to
// whoever asks next), and never takes a seat while others wait for it: a
// seat freed by a cancellation is offered to the waitlist first.
func (s *Service) place(ctx context.Context, e *events.Event, r *RSVP) (*RSVP, error) {
	for range 100 {
		// One conditional update takes the seats: only while the count
		// still leaves room for this party at the capacity read, the
		// waitlist is empty and the RSVP holds nothing yet.
		took, err := s.seats.Take(ctx, e, r.ID, r.Seats)
		if err != nil {
			return nil, err
		}
		if took {
			s.catalog.Changed(e.ID)
			c, err := s.setStatus(ctx, r, Waitlisted, Confirmed, nil)
			if err != nil {
				return nil, err
			}
			// Again now the RSVP reads confirmed: the brand's live counts.
			s.catalog.Changed(e.ID)
			return s.pay(ctx, e, c)
		}
		// Wait in line, only while there is no room for the party at the
		// capacity read or others wait already; else take the seat.
		after, err := s.seats.Wait(ctx, e, r.ID, r.Seats)
		if err != nil {
			return nil, err
		}
		if after == nil {
			if e, err = s.catalog.Get(ctx, e.ID); err != nil {
				return nil, err
			}
			if slices.Contains(e.Holders, r.ID) {
				return s.settle(ctx, r) // it holds seats already (a concurrent retry placed it)
			}
			continue // a seat freed and nobody waits: take it
		}
		s.catalog.Changed(e.ID)
		if after.Taken < after.Capacity {
			// Seats free with people waiting (a party too large for them,
			// or one freed since): the waitlist gets them, in order.
			if err := s.Offer(ctx, e.ID); err != nil {
				return nil, err
			}
		}
		return s.settle(ctx, r)
	}
	return nil, fmt.Errorf("events: placing %s: the event keeps changing", r.ID)
}

// setStatus moves the RSVP from one status to another, once; set adds fields.
func (s *Service) setStatus(ctx context.Context, r *RSVP, from, to Status, set bson.D) (*RSVP, error) {
	set = append(bson.D{{Key: "status", Value: to}, {Key: "updatedAt", Value: s.now()}}, set...)
	var out RSVP
	err := s.rsvps.c.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: r.ID}, {Key: "status", Value: from}},
		hooked(bson.D{{Key: "$set", Value: set}}), options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&out)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return s.settle(ctx, r)
	}
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// retried answers an RSVP sent again with its key: as it stands, with a
// payment a failure left undone made now (keyed: never twice).
func (s *Service) retried(ctx context.Context, r *RSVP) (*RSVP, error) {
	r, err := s.settle(ctx, r)
	if err == nil {
		r, err = s.finish(ctx, r)
	}
	if err != nil || r.Status != Confirmed || r.Paid > 0 {
		return r, err
	}
	e, err := s.catalog.Get(ctx, r.EventID)
	if err != nil {
		return nil, err
	}
	return s.pay(ctx, e, r)
}

// settle reads the RSVP as it stands.
func (s *Service) settle(ctx context.Context, r *RSVP) (*RSVP, error) {
	return s.rsvps.get(ctx, r.ID)
}

// Position is the RSVP's place on its waitlist (1: next; 0 when not waitlisted).
func (s *Service) Position(ctx context.Context, r *RSVP) (int, error) {
	if r.Position > 0 || r.Status != Waitlisted {
		return r.Position, nil
	}
	if _, err := s.withPosition(ctx, r); err != nil {
		return 0, err
	}
	return r.Position, nil
}

func (s *Service) withPosition(ctx context.Context, r *RSVP) (*RSVP, error) {
	if r.Status != Waitlisted {
		return r, nil
	}
	n, err := s.rsvps.ahead(ctx, r)
	if err != nil {
		return nil, err
	}
	r.Position = int(n) + 1
	return r, nil
}

// Mine returns the member's RSVP to an event, ErrRSVPNotFound if none.
func (s *Service) Mine(ctx context.Context, memberID, eventID bson.ObjectID) (*RSVP, error) {
	r, err := s.rsvps.get(ctx, rsvpID(eventID, memberID))
	if err != nil {
		return nil, err
	}
	return s.withPosition(ctx, r)
}

// CancelRSVP withdraws the member's answer, from the waitlist too. Seats it
// held go to the waitlist at once; a price paid comes back when cancelled
// up to the event's refund cutoff. Cancelling again changes nothing (but
// finishes a refund a failure left).
func (s *Service) CancelRSVP(ctx context.Context, memberID, eventID bson.ObjectID) (*RSVP, error) {
	r, err := s.rsvps.get(ctx, rsvpID(eventID, memberID))
	if err != nil {
		return nil, input.Wrap("eventId", err)
	}
	if r.Status == Attended || r.Status == NoShow {
		return nil, fmt.Errorf("%w: the event is over for you", ErrNotCheckable)
	}
	return s.cancel(ctx, r, true)
}

// cancel cancels the RSVP, hands its seats on and refunds it when due
// (refundable: a member's own cancellation before the cutoff).
func (s *Service) cancel(ctx context.Context, r *RSVP, refundable bool) (*RSVP, error) {
	e, err := s.catalog.Get(ctx, r.EventID)
	if err != nil {
		return nil, err
	}
	if r.Status == Cancelled {
		return r, s.refund(ctx, e, r)
	}
	due := refundable && r.Paid > 0 && e.Refundable(s.now())
	res, err := s.rsvps.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: r.ID}, {Key: "status", Value: r.Status}, {Key: "key", Value: r.Key}},
		hooked(bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: Cancelled}, {Key: "refundDue", Value: due}, {Key: "updatedAt", Value: s.now()}}},
			{Key: "$unset", Value: bson.D{{Key: "offeredUntil", Value: ""}}}}))
	if err != nil {
		return nil, err
	}
	if res.MatchedCount == 0 {
		now, err := s.rsvps.get(ctx, r.ID) // it changed meanwhile
		if err != nil {
			return nil, err
		}
		if now.Status == Attended || now.Status == NoShow {
			return nil, fmt.Errorf("%w: the event is over for you", ErrNotCheckable)
		}
		return s.cancel(ctx, now, refundable)
	}
	if err := s.release(ctx, r, false); err != nil {
		return nil, err
	}
	r, err = s.rsvps.get(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	return r, s.refund(ctx, e, r)
}

// release gives back the seats the RSVP holds on its event (or takes it
// off the waitlist) and hands freed seats on; requeue puts it at the end
// of the waitlist (a lapsed offer). Each step is conditional on the
// event's lists, so repeating it changes nothing.
func (s *Service) release(ctx context.Context, r *RSVP, requeue bool) error {
	if _, err := s.seats.Release(ctx, r.EventID, r.ID, r.Seats, requeue); err != nil {
		return err
	}
	if !requeue {
		if _, err := s.seats.Leave(ctx, r.EventID, r.ID); err != nil {
			return err
		}
	}
	s.catalog.Changed(r.EventID)
	return s.Offer(ctx, r.EventID)
}

// Offer offers the event's free seats to the waitlist in priority order
// (events.Seating: after the capacity was raised, too):
// fewest lapsed offers, then no no-show penalty, then highest tier, then
// earliest joining (waitlistOrder); a party
// too large for the seats left waits for more. Each offer is one
// conditional update of the event on the count it read, so racing
// promotions (a cancellation and an expiry at once) give a seat to exactly
// one member. In the open call before the start, and once RSVPs close,
// nothing is offered: free seats go to the first waitlisted member to
// claim one.
func (s *Service) Offer(ctx context.Context, eventID bson.ObjectID) error {
	for range 1000 {
		e, err := s.catalog.Get(ctx, eventID)
		if err != nil {
			return err
		}
		now := s.now()
		free := e.Capacity - e.Taken
		if e.Status != events.StatusPublished || free <= 0 || len(e.Queue) == 0 || e.OpenCallAt(now) || !now.Before(e.RSVPClosesAt) {
			return nil
		}
		next, err := s.rsvps.next(ctx, e, free)
		if err != nil || next == nil {
			return err
		}
		offered, err := s.seats.Offer(ctx, e, next.ID, next.Seats)
		if err != nil {
			return err
		}
		if !offered {
			continue // the event changed: read it again
		}
		s.catalog.Changed(eventID)
		until := now.Add(e.ClaimWindow)
		if until.After(e.RSVPClosesAt) {
			until = e.RSVPClosesAt
		}
		var out RSVP
		err = s.rsvps.c.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: next.ID}, {Key: "status", Value: Waitlisted}},
			hooked(bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: Offered}, {Key: "offeredUntil", Value: until}, {Key: "updatedAt", Value: now}}},
				{Key: "$inc", Value: bson.D{{Key: "offers", Value: 1}}}}),
			options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&out)
		if errors.Is(err, mongo.ErrNoDocuments) {
			// Cancelled meanwhile: its cancellation releases what we held
			// unless it ran before; release again (conditional) to be sure.
			// (Confirmed meanwhile by the member's retry: the seat is theirs.)
			now, err := s.rsvps.get(ctx, next.ID)
			if err != nil {
				return err
			}
			if !now.holds() {
				if err := s.releaseHold(ctx, next); err != nil {
					return err
				}
			}
			continue
		}
		if err != nil {
			return err
		}
		s.catalog.Changed(eventID) // again now the RSVP reads offered: the brand's live counts
		if err := s.notifyOffer(ctx, e, &out); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) releaseHold(ctx context.Context, r *RSVP) error {
	_, err := s.seats.Release(ctx, r.EventID, r.ID, r.Seats, false)
	return err
}

// notifyOffer tells the member a seat is held for them, once per offer.
func (s *Service) notifyOffer(ctx context.Context, e *events.Event, r *RSVP) error {
	if s.Notify == nil || r.OfferedUntil == nil {
		return nil
	}
	deadline := *r.OfferedUntil
	_, err := s.Notify.Send(ctx, inbox.Message{MemberID: r.MemberID, Kind: inbox.KindEventSeatOffered,
		Key: fmt.Sprintf("event-offer:%s:%d", r.ID, r.Offers), Template: texts.EventSeatOffered,
		Data:     map[string]any{"event": e.Title, "deadline": texts.At(deadline, e.Location())},
		DeepLink: "app://events/" + e.ID.Hex(), Related: &inbox.Related{Kind: inbox.RelatedEvent, ID: e.ID.Hex()}, ExpiresAt: &deadline})
	if errors.Is(err, inbox.ErrMuted) {
		return nil
	}
	return err
}

// ClaimSeat confirms the seat offered to the member, before its deadline.
// In the open call a waitlisted member takes a free seat, first come.
// Already confirmed: answers the RSVP as it is. Anything else, a claim
// after the deadline included, is ErrOfferLapsed and changes nothing.
func (s *Service) ClaimSeat(ctx context.Context, memberID, eventID bson.ObjectID) (*RSVP, error) {
	r, err := s.rsvps.get(ctx, rsvpID(eventID, memberID))
	if err != nil {
		return nil, input.Wrap("eventId", err)
	}
	now := s.now()
	switch r.Status {
	case Confirmed:
		return r, nil
	case Offered:
		var out RSVP
		err := s.rsvps.c.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: r.ID}, {Key: "status", Value: Offered},
			{Key: "offeredUntil", Value: bson.D{{Key: "$gt", Value: now}}}},
			hooked(bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: Confirmed}, {Key: "updatedAt", Value: now}}},
				{Key: "$unset", Value: bson.D{{Key: "offeredUntil", Value: ""}}}}),
			options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&out)
		if errors.Is(err, mongo.ErrNoDocuments) {
			return nil, ErrOfferLapsed
		}
		if err != nil {
			return nil, err
		}
		s.bump(ctx, eventID)
		e, err := s.catalog.Get(ctx, eventID)
		if err != nil {
			return nil, err
		}
		return s.pay(ctx, e, &out)
	case Waitlisted:
		e, err := s.catalog.Get(ctx, eventID)
		if err != nil {
			return nil, err
		}
		if !e.OpenCallAt(now) || !now.Before(e.StartsAt) || e.Status != events.StatusPublished {
			return nil, ErrOfferLapsed
		}
		claimed, err := s.seats.Claim(ctx, e, r.ID, r.Seats)
		if err != nil {
			return nil, err
		}
		if !claimed {
			return nil, ErrOfferLapsed
		}
		s.catalog.Changed(eventID)
		out, err := s.setStatus(ctx, r, Waitlisted, Confirmed, nil)
		s.catalog.Changed(eventID) // again now the RSVP reads confirmed: the brand's live counts
		if err == nil && out.Status != Confirmed {
			// Cancelled between the two: give the seat back.
			return nil, errors.Join(ErrOfferLapsed, s.releaseHold(ctx, r))
		}
		if err != nil {
			return nil, err
		}
		return s.pay(ctx, e, out)
	}
	return nil, ErrOfferLapsed
}

// bump tells live watchers the event changed without a seat change.
func (s *Service) bump(ctx context.Context, eventID bson.ObjectID) {
	if err := s.seats.Touch(ctx, eventID); err == nil {
		s.catalog.Changed(eventID)
	}
}

// ExpireOffers moves every seat offer past its deadline to the next member
// and puts the member who let it lapse at the end of the waitlist. The
// RSVP's own conditional update decides between a claim and the expiry,
// so a seat is never both claimed and passed on. Run by the background
// jobs; safe to repeat and to run on several instances.
func (j *Jobs) ExpireOffers(ctx context.Context) (int, error) {
	now := j.svc.now()
	cur, err := j.svc.rsvps.c.Find(ctx, bson.D{{Key: "status", Value: Offered}, {Key: "offeredUntil", Value: bson.D{{Key: "$lte", Value: now}}}},
		options.Find().SetLimit(1000))
	if err != nil {
		return 0, err
	}
	var due []*RSVP
	if err := cur.All(ctx, &due); err != nil {
		return 0, err
	}
	n := 0
	for _, r := range due {
		res, err := j.svc.rsvps.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: r.ID}, {Key: "status", Value: Offered},
			{Key: "offeredUntil", Value: bson.D{{Key: "$lte", Value: now}}}},
			hooked(bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: Waitlisted}, {Key: "joinedAt", Value: now}, {Key: "updatedAt", Value: now}}},
				{Key: "$inc", Value: bson.D{{Key: "lapses", Value: 1}}}, {Key: "$unset", Value: bson.D{{Key: "offeredUntil", Value: ""}}}}))
		if err != nil {
			return n, err
		}
		if res.MatchedCount == 0 {
			continue // claimed or cancelled meanwhile
		}
		if err := j.svc.release(ctx, r, true); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

type rsvpStore struct{ c *mongo.Collection }

const (
	indexRSVPWaitlist = "event_status_priority2"
	indexRSVPMember   = "member_event"
	indexRSVPOffered  = "status_offeredUntil"
	indexRSVPKey      = "member_key"
	indexRSVPHook     = "unannounced"
	indexRSVPDoor     = "doorKey"
)

func (s rsvpStore) indexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		// The waitlist in priority order, positions, and an event's lists by status.
		{Keys: waitlistOrder, Options: options.Index().SetName(indexRSVPWaitlist)},
		// A member's events (MINE, PAST).
		{Keys: bson.D{{Key: "memberId", Value: 1}, {Key: "eventId", Value: 1}}, Options: options.Index().SetName(indexRSVPMember)},
		// Offers past their deadline, for ExpireOffers.
		{Keys: bson.D{{Key: "status", Value: 1}, {Key: "offeredUntil", Value: 1}}, Options: options.Index().SetName(indexRSVPOffered)},
		// One answer per key and member: a key reused on another event is
		// found (and refused), even when two such answers race.
		{Keys: bson.D{{Key: "memberId", Value: 1}, {Key: "key", Value: 1}}, Options: options.Index().SetName(indexRSVPKey).SetUnique(true)},
		// Changes not yet announced to webhooks; sparse: cleared once done.
		{Keys: bson.D{{Key: "unannounced", Value: 1}, {Key: "updatedAt", Value: 1}}, Options: options.Index().SetName(indexRSVPHook).SetSparse(true)},
		// A door code names one RSVP of its event (check-in by typed code);
		// sparse: RSVPs made before door codes have none.
		{Keys: bson.D{{Key: "doorKey", Value: 1}}, Options: options.Index().SetName(indexRSVPDoor).SetUnique(true).SetSparse(true)},
	}
}

// hooked adds to an RSVP's status update the mark of a change to announce
// (RSVP.Changes, RSVP.Unannounced), in the same single-document update.
func hooked(update bson.D) bson.D {
	out := make(bson.D, 0, len(update)+1)
	inc := false
	for _, op := range update {
		switch op.Key {
		case "$set":
			op.Value = append(slices.Clone(op.Value.(bson.D)), bson.E{Key: "unannounced", Value: true})
		case "$inc":
			op.Value = append(slices.Clone(op.Value.(bson.D)), bson.E{Key: "changes", Value: 1})
			inc = true
		}
		out = append(out, op)
	}
	if !inc {
		out = append(out, bson.E{Key: "$inc", Value: bson.D{{Key: "changes", Value: 1}}})
	}
	return out
}

// announceSettle is how long an RSVP's change stays unannounced at least:
// a new RSVP is written waitlisted, then placed (confirmed when a seat is
// free) a moment later, and the brand's systems should hear of the
// answer the member got, not of the step between.
const announceSettle = 2 * time.Second

// Unannounced lists up to limit RSVPs whose last status change, made at
// least announceSettle ago, the webhooks have not been told of
// (rsvp.changed), oldest change first.
func (j *Jobs) Unannounced(ctx context.Context, limit int) ([]*RSVP, error) {
	cur, err := j.svc.rsvps.c.Find(ctx, bson.D{{Key: "unannounced", Value: true}, {Key: "updatedAt", Value: bson.D{{Key: "$lte", Value: j.svc.now().Add(-announceSettle)}}}},
		options.Find().SetSort(bson.D{{Key: "unannounced", Value: 1}, {Key: "updatedAt", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, err
	}
	var out []*RSVP
	return out, cur.All(ctx, &out)
}

// Announced clears r's mark once the event of its change number r.Changes
// is written; a change made since keeps it (its own event is still due).
func (j *Jobs) Announced(ctx context.Context, r *RSVP) error {
	_, err := j.svc.rsvps.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: r.ID}, {Key: "changes", Value: r.Changes}},
		bson.D{{Key: "$unset", Value: bson.D{{Key: "unannounced", Value: ""}}}})
	return err
}

func (s rsvpStore) get(ctx context.Context, id string) (*RSVP, error) {
	var r RSVP
	err := s.c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&r)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrRSVPNotFound
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// byKey is the member's RSVP made with key, ErrRSVPNotFound if none.
func (s rsvpStore) byKey(ctx context.Context, memberID bson.ObjectID, key string) (*RSVP, error) {
	var r RSVP
	err := s.c.FindOne(ctx, bson.D{{Key: "memberId", Value: memberID}, {Key: "key", Value: key}}).Decode(&r)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrRSVPNotFound
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// next is the first waitlisted RSVP on the event's queue whose party fits
// in free seats.
func (s rsvpStore) next(ctx context.Context, e *events.Event, free int) (*RSVP, error) {
	cur, err := s.c.Find(ctx, bson.D{{Key: "eventId", Value: e.ID}, {Key: "status", Value: Waitlisted}, {Key: "seats", Value: bson.D{{Key: "$lte", Value: free}}}},
		options.Find().SetSort(waitlistOrder).SetLimit(50))
	if err != nil {
		return nil, err
	}
	var rs []*RSVP
	if err := cur.All(ctx, &rs); err != nil {
		return nil, err
	}
	for _, r := range rs {
		if slices.Contains(e.Queue, r.ID) {
			return r, nil
		}
	}
	return nil, nil
}

// ahead counts the waitlisted RSVPs before r in priority order.
func (s rsvpStore) ahead(ctx context.Context, r *RSVP) (int64, error) {
	return s.c.CountDocuments(ctx, bson.D{{Key: "eventId", Value: r.EventID}, {Key: "status", Value: Waitlisted}, orderedFrom(r, false)})
}

// eventsOf lists the events the member answered (at most 1,000, newest first).
func (s rsvpStore) eventsOf(ctx context.Context, memberID bson.ObjectID) ([]bson.ObjectID, error) {
	cur, err := s.c.Find(ctx, bson.D{{Key: "memberId", Value: memberID}, {Key: "status", Value: bson.D{{Key: "$ne", Value: Cancelled}}}},
		options.Find().SetProjection(bson.D{{Key: "eventId", Value: 1}}).SetSort(bson.D{{Key: "memberId", Value: 1}, {Key: "eventId", Value: -1}}).SetLimit(1000))
	if err != nil {
		return nil, err
	}
	var rows []struct {
		EventID bson.ObjectID `bson:"eventId"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return nil, err
	}
	ids := make([]bson.ObjectID, len(rows))
	for i, r := range rows {
		ids[i] = r.EventID
	}
	return ids, nil
}

// byDoorKey is the RSVP of a door key (RSVP.DoorKey), ErrRSVPNotFound if none.
func (s rsvpStore) byDoorKey(ctx context.Context, key string) (*RSVP, error) {
	var r RSVP
	err := s.c.FindOne(ctx, bson.D{{Key: "doorKey", Value: key}}).Decode(&r)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrRSVPNotFound
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}
