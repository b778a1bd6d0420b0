// Package webhook tells the brand's systems what happens in Regulars: the
// brand registers endpoints (a URL, the event types it wants, a secret),
// and every event of those types is POSTed to it, signed, at least once.
// It owns the collections webhook_endpoints, webhook_events (the outbox)
// and webhook_deliveries.
//
// Durability. A cause (an activity, a ledger entry, a redemption, an RSVP
// change, a sign-up) emits its event on the cause's own durable path with
// Emit: the event's id is derived from the cause, and the outbox's _id is
// that id, so a path that is run again after a crash (the game's
// ResumeEffects, the rewards' sweep, the sweeps of members and RSVPs
// marked hookPending) writes it once and never twice. The delivery loop
// (Run) fans each outbox event out to the endpoints subscribed to its
// type — one delivery per (event, endpoint), under a unique key — and
// POSTs each delivery until the endpoint answers 2xx, for 24 hours, with
// exponential backoff and jitter; then the delivery is FAILED and the
// brand sees its last response. A receiver de-duplicates by the event id.
//
// Isolation. Each endpoint has at most PerEndpoint deliveries in flight and
// each attempt has a timeout, so a slow or dead endpoint holds only its own
// slots: other endpoints are served by other goroutines, and the API never
// waits for a delivery (Emit is one insert).
package webhook

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/mongoindex"
	"github.com/regulars/regulars/internal/page"
)

var (
	ErrEndpointNotFound = fault.New(fault.NotFound, "webhook not found")
	ErrDeliveryNotFound = fault.New(fault.NotFound, "webhook delivery not found")
	// ErrTooManyEndpoints refuses an endpoint past MaxEndpoints.
	ErrTooManyEndpoints = fault.New(fault.Conflict, "too many webhooks: delete one first")
)

// Type is an event type, as endpoints subscribe to it and as the payload
// names it.
type Type string

const (
	MemberCreated       Type = "member.created"
	ActivityRecorded    Type = "activity.recorded"
	TierChanged         Type = "tier.changed"
	RedemptionCreated   Type = "redemption.created"
	RedemptionFulfilled Type = "redemption.fulfilled"
	CouponRedeemed      Type = "coupon.redeemed"
	RSVPChanged         Type = "rsvp.changed"
	BadgeUnlocked       Type = "badge.unlocked"
)

// Types lists every event type an endpoint may subscribe to.
var Types = []Type{MemberCreated, ActivityRecorded, TierChanged, RedemptionCreated, RedemptionFulfilled, CouponRedeemed, RSVPChanged, BadgeUnlocked}

// Valid reports whether t is a known event type.
func (t Type) Valid() bool { return slices.Contains(Types, t) }

// Ref names an object as the GraphQL API shows it: its type name there
// (Member, Activity, Redemption…) and its database id (hex). The payload
// carries it as the API's opaque id (Deps.APIID), so a receiver can fetch
// the object with node(id:).
type Ref struct {
	Type string
	ID   string
}

// Event is what happened, as a cause emits it.
type Event struct {
	// Type is the event's type.
	Type Type
	// Cause identifies the cause, unique within the type (a ledger entry's
	// id, an activity's id, "<rsvp id>:<change number>"): the event's id is
	// derived from (Type, Cause), so emitting it again is a no-op.
	Cause string
	// At is when it happened (zero: now).
	At time.Time
	// Data is the event's object: values are strings, numbers, booleans,
	// times, Refs, and maps and slices of those.
	Data map[string]any
}

// ID is the event's id (evt_ and 32 hex digits), derived from type and cause.
func (e Event) ID() string {
	sum := sha256.Sum256([]byte(string(e.Type) + "\x00" + e.Cause))
	return "evt_" + hex.EncodeToString(sum[:16])
}

// Endpoint is a URL registered by the brand.
type Endpoint struct {
	ID     bson.ObjectID `bson:"_id"`
	URL    string        `bson:"url"`
	Events []Type        `bson:"events"`
	// Secret signs the deliveries; it is stored as given (signing needs
	// it) and shown to the brand only when it is created.
	Secret    string    `bson:"secret"`
	CreatedAt time.Time `bson:"createdAt"`
	UpdatedAt time.Time `bson:"updatedAt"`
}

// secretPrefix starts a generated secret.
const secretPrefix = "whsec_"

// SecretHint is the secret masked: its last 4 characters, after the
// "whsec_" prefix of a generated one, so a brand can tell its secrets
// apart without the hint giving much of one away.
func (e *Endpoint) SecretHint() string {
	if len(e.Secret) <= 12 {
		return strings.Repeat("•", 8)
	}
	prefix := ""
	if strings.HasPrefix(e.Secret, secretPrefix) {
		prefix = secretPrefix
	}
	return prefix + "…" + e.Secret[len(e.Secret)-4:]
}

// State is where a delivery stands.
type State string

const (
	StatePending   State = "PENDING"
	StateDelivered State = "DELIVERED"
	StateFailed    State = "FAILED"
)

// Valid reports whether s is a known state.
func (s State) Valid() bool { return s == StatePending || s == StateDelivered || s == StateFailed }

// Delivery is one event to one endpoint.
type Delivery struct {
	ID         bson.ObjectID `bson:"_id"`
	Key        string        `bson:"key"` // event id/endpoint id, unique
	EndpointID bson.ObjectID `bson:"endpointId"`
	EventID    string        `bson:"eventId"`
	EventType  Type          `bson:"eventType"`
	State      State         `bson:"state"`
	Attempts   int           `bson:"attempts"`
	// NextAttemptAt is when the loop tries again (PENDING); while an
	// attempt is in flight it is the attempt's lease, after which a loop
	// that finds it still PENDING tries again (the attempt's process died).
	NextAttemptAt time.Time  `bson:"nextAttemptAt"`
	LastAttemptAt *time.Time `bson:"lastAttemptAt,omitempty"`
	// LastStatus is the HTTP status of the last answer (0: none, see LastError).
	LastStatus int `bson:"lastStatus,omitempty"`
	// LastResponse is the start of the last answer's body (MaxExcerpt bytes).
	LastResponse string     `bson:"lastResponse,omitempty"`
	LastError    string     `bson:"lastError,omitempty"`
	DeliveredAt  *time.Time `bson:"deliveredAt,omitempty"`
	CreatedAt    time.Time  `bson:"createdAt"`
	// GiveUpAt is when retries stop (created + RetryFor; moved by a redelivery).
	GiveUpAt time.Time `bson:"giveUpAt"`
}

// Bounds of the input and of the delivery.
const (
	MaxURL       = 2048
	MinSecret    = 16
	MaxSecret    = 256
	MaxEndpoints = 50
	MaxExcerpt   = 1024
	RetryFor     = 24 * time.Hour
)

// Deps is what the webhooks need of the rest of the system.
type Deps struct {
	// APIID turns a Ref into the API's opaque id (graph.APIID); nil leaves
	// "Type:hex" (tests).
	APIID func(typ, hexID string) string
	// Guard refuses private addresses (Production) at creation and at dial time.
	Guard Guard
	// PerEndpoint bounds the deliveries in flight to one endpoint (default 4);
	// Timeout bounds an attempt (default 10 s).
	PerEndpoint int
	Timeout     time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Service is the webhooks over one database.
type Service struct {
	Deps
	endpoints  *mongo.Collection
	events     *mongo.Collection
	deliveries *mongo.Collection
	client     *http.Client
	kick       chan struct{}

	mu       sync.Mutex
	inFlight map[bson.ObjectID]int
}

// New returns the webhooks over db.
func New(db *mongo.Database, d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.PerEndpoint <= 0 {
		d.PerEndpoint = 4
	}
	if d.Timeout <= 0 {
		d.Timeout = 10 * time.Second
	}
	return &Service{Deps: d, endpoints: db.Collection("webhook_endpoints"), events: db.Collection("webhook_events"),
		deliveries: db.Collection("webhook_deliveries"), client: d.Guard.client(d.Timeout), kick: make(chan struct{}, 1),
		inFlight: map[bson.ObjectID]int{}}
}

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }

const (
	indexDeliveryKey  = "key_unique"
	indexDeliveryList = "endpointId_state_id"
	indexDeliveryDue  = "endpointId_state_nextAttemptAt"
	indexEventPending = "pending"
	indexEndpointType = "events"
)

// EnsureIndexes creates the indexes of the three collections; safe to repeat.
func (s *Service) EnsureIndexes(ctx context.Context) error {
	return mongoindex.EnsureAll(ctx,
		mongoindex.Set{C: s.endpoints, Models: []mongo.IndexModel{
			// Fan-out: the endpoints subscribed to a type.
			{Keys: bson.D{{Key: "events", Value: 1}}, Options: options.Index().SetName(indexEndpointType)},
		}},
		mongoindex.Set{C: s.events, Models: []mongo.IndexModel{
			// Events not fanned out yet; sparse: the mark is cleared after.
			{Keys: bson.D{{Key: "pending", Value: 1}, {Key: "createdAt", Value: 1}}, Options: options.Index().SetName(indexEventPending).SetSparse(true)},
			// EraseMember: a member's events.
			{Keys: bson.D{{Key: "memberId", Value: 1}}, Options: options.Index().SetName("memberId").SetSparse(true)},
		}},
		mongoindex.Set{C: s.deliveries, Models: []mongo.IndexModel{
			// One delivery per (event, endpoint), whoever fans out.
			{Keys: bson.D{{Key: "key", Value: 1}}, Options: options.Index().SetName(indexDeliveryKey).SetUnique(true)},
			// webhookDeliveries(webhookId, state): newest first.
			{Keys: bson.D{{Key: "endpointId", Value: 1}, {Key: "state", Value: 1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName(indexDeliveryList)},
			// The loop's due deliveries of an endpoint.
			{Keys: bson.D{{Key: "endpointId", Value: 1}, {Key: "state", Value: 1}, {Key: "nextAttemptAt", Value: 1}}, Options: options.Index().SetName(indexDeliveryDue)},
		}},
	)
}

// outboxEvent is an event as stored: its body is made once, so every
// attempt sends (and signs) the same bytes.
type outboxEvent struct {
	ID        string    `bson:"_id"`
	Type      Type      `bson:"type"`
	Body      string    `bson:"body"`
	CreatedAt time.Time `bson:"createdAt"`
	// Pending is set until the event is fanned out to its endpoints.
	Pending bool `bson:"pending,omitempty"`
	// MemberID is the member the event is about (its data's "member"), so
	// a deleted member's personal data can be taken out (EraseMember).
	MemberID bson.ObjectID `bson:"memberId,omitempty"`
}

// Payload is the JSON body POSTed for an event.
type Payload struct {
	ID      string         `json:"id"`
	Type    Type           `json:"type"`
	Created time.Time      `json:"created"`
	Data    map[string]any `json:"data"`
}

// Emit writes the event to the outbox, once: emitting the same (type,
// cause) again changes nothing. Call it on the cause's durable path, before
// the mark that says the cause's effects are done.
func (s *Service) Emit(ctx context.Context, e Event) error {
	if !e.Type.Valid() {
		return fmt.Errorf("webhook: unknown event type %q", e.Type)
	}
	at := e.At
	if at.IsZero() {
		at = s.now()
	}
	p := Payload{ID: e.ID(), Type: e.Type, Created: at.UTC().Truncate(time.Millisecond), Data: s.encode(e.Data).(map[string]any)}
	if p.Data == nil {
		p.Data = map[string]any{}
	}
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("webhook: %s body: %w", e.Type, err)
	}
	ev := outboxEvent{ID: p.ID, Type: e.Type, Body: string(body), CreatedAt: s.now(), Pending: true}
	if r, ok := e.Data["member"].(Ref); ok && r.Type == "Member" {
		ev.MemberID, _ = bson.ObjectIDFromHex(r.ID) // not an object id: nothing to erase by
	}
	_, err = s.events.InsertOne(ctx, ev)
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return err
	}
	s.Kick()
	return nil
}

// encode turns Refs into the API's ids, walking maps and slices.
func (s *Service) encode(v any) any {
	switch x := v.(type) {
	case Ref:
		if s.APIID == nil {
			return x.Type + ":" + x.ID
		}
		return s.APIID(x.Type, x.ID)
	case *Ref:
		if x == nil {
			return nil
		}
		return s.encode(*x)
	case map[string]any:
		if x == nil {
			return map[string]any(nil)
		}
		out := make(map[string]any, len(x))
		for k, v := range x {
			out[k] = s.encode(v)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, v := range x {
			out[i] = s.encode(v)
		}
		return out
	case []Ref:
		out := make([]any, len(x))
		for i, v := range x {
			out[i] = s.encode(v)
		}
		return out
	}
	return v
}

// EndpointInput is an endpoint as the brand registers or changes it; in
// an update a nil field stays as it is.
type EndpointInput struct {
	URL    *string
	Events []string
	Secret *string
}

// check validates in (events nil: unchanged) and returns the clean values.
func (s *Service) check(ctx context.Context, in EndpointInput) (url string, types []Type, err error) {
	if in.URL != nil {
		if url, err = s.Guard.CheckURL(ctx, "url", *in.URL); err != nil {
			return "", nil, err
		}
	}
	if in.Events != nil {
		if len(in.Events) == 0 {
			return "", nil, input.Errorf("events", "name at least one event type")
		}
		if len(in.Events) > len(Types) {
			return "", nil, input.Errorf("events", "at most %d event types", len(Types))
		}
		for i, t := range in.Events {
			if !Type(t).Valid() {
				return "", nil, input.Errorf(fmt.Sprintf("events[%d]", i), "unknown event type %q; known: %s", t, typeList())
			}
			if !slices.Contains(types, Type(t)) {
				types = append(types, Type(t))
			}
		}
	}
	if in.Secret != nil {
		sec, err := input.Identifier("secret", *in.Secret, MaxSecret)
		if err != nil {
			return "", nil, err
		}
		if len(sec) < MinSecret {
			return "", nil, input.Errorf("secret", "must be at least %d characters", MinSecret)
		}
		*in.Secret = sec
	}
	return url, types, nil
}

func typeList() string {
	out := make([]string, len(Types))
	for i, t := range Types {
		out[i] = string(t)
	}
	return strings.Join(out, ", ")
}

// Create registers an endpoint. Without a secret one is made
// ("whsec_" and 32 random characters); the endpoint returned carries it,
// the only time it is shown. Bad input is refused naming the field
// (url, events[i], secret), nothing written.
func (s *Service) Create(ctx context.Context, in EndpointInput) (*Endpoint, error) {
	if in.URL == nil {
		return nil, input.Errorf("url", "is required")
	}
	if in.Events == nil {
		in.Events = []string{}
	}
	url, types, err := s.check(ctx, in)
	if err != nil {
		return nil, err
	}
	secret := secretPrefix + rand.Text()
	if in.Secret != nil {
		secret = *in.Secret
	}
	n, err := s.endpoints.CountDocuments(ctx, bson.D{})
	if err != nil {
		return nil, err
	}
	if n >= MaxEndpoints {
		return nil, ErrTooManyEndpoints
	}
	now := s.now()
	e := &Endpoint{ID: bson.NewObjectID(), URL: url, Events: types, Secret: secret, CreatedAt: now, UpdatedAt: now}
	if _, err := s.endpoints.InsertOne(ctx, e); err != nil {
		return nil, err
	}
	return e, nil
}

// Update changes an endpoint's URL, events or secret (nil: unchanged).
// Deliveries not yet made go to the new URL, signed with the new secret.
func (s *Service) Update(ctx context.Context, id bson.ObjectID, in EndpointInput) (*Endpoint, error) {
	url, types, err := s.check(ctx, in)
	if err != nil {
		return nil, err
	}
	set := bson.D{{Key: "updatedAt", Value: s.now()}}
	if in.URL != nil {
		set = append(set, bson.E{Key: "url", Value: url})
	}
	if in.Events != nil {
		set = append(set, bson.E{Key: "events", Value: types})
	}
	if in.Secret != nil {
		set = append(set, bson.E{Key: "secret", Value: *in.Secret})
	}
	var e Endpoint
	err = s.endpoints.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: set}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&e)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, input.Wrap("id", ErrEndpointNotFound)
	}
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// Delete removes an endpoint and its deliveries; deliveries in flight
// finish, and none is tried again.
func (s *Service) Delete(ctx context.Context, id bson.ObjectID) error {
	res, err := s.endpoints.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return err
	}
	if res.DeletedCount == 0 {
		return input.Wrap("id", ErrEndpointNotFound)
	}
	_, err = s.deliveries.DeleteMany(ctx, bson.D{{Key: "endpointId", Value: id}})
	return err
}

// Endpoint returns one endpoint.
func (s *Service) Endpoint(ctx context.Context, id bson.ObjectID) (*Endpoint, error) {
	var e Endpoint
	err := s.endpoints.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&e)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrEndpointNotFound
	}
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// Endpoints lists the endpoints newest first, limit after the one with
// id after (zero: from the start); more says whether others follow.
func (s *Service) Endpoints(ctx context.Context, after bson.ObjectID, limit int) ([]*Endpoint, bool, error) {
	filter := bson.D{}
	if !after.IsZero() {
		filter = bson.D{{Key: "_id", Value: bson.D{{Key: "$lt", Value: after}}}}
	}
	return page.Find[*Endpoint](ctx, s.endpoints, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}), limit)
}

// Deliveries lists an endpoint's deliveries newest first, of one state
// ("" : all), limit after the one with id after.
func (s *Service) Deliveries(ctx context.Context, endpointID bson.ObjectID, state State, after bson.ObjectID, limit int) ([]*Delivery, bool, error) {
	if _, err := s.Endpoint(ctx, endpointID); err != nil {
		return nil, false, input.Wrap("webhookId", err)
	}
	filter := bson.D{{Key: "endpointId", Value: endpointID}}
	if state != "" {
		filter = append(filter, bson.E{Key: "state", Value: state})
	}
	if !after.IsZero() {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$lt", Value: after}}})
	}
	return page.Find[*Delivery](ctx, s.deliveries, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}), limit)
}

// Delivery returns one delivery.
func (s *Service) Delivery(ctx context.Context, id bson.ObjectID) (*Delivery, error) {
	var d Delivery
	err := s.deliveries.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrDeliveryNotFound
	}
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// Redeliver sends a delivery again now, whatever its state: it becomes
// PENDING with another RetryFor of retries. The receiver gets the same
// event id (and de-duplicates it if it had it).
func (s *Service) Redeliver(ctx context.Context, id bson.ObjectID) (*Delivery, error) {
	now := s.now()
	var d Delivery
	err := s.deliveries.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: StatePending}, {Key: "nextAttemptAt", Value: now}, {Key: "giveUpAt", Value: now.Add(RetryFor)}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, input.Wrap("deliveryId", ErrDeliveryNotFound)
	}
	if err != nil {
		return nil, err
	}
	s.Kick()
	return &d, nil
}

// Kick wakes the delivery loop (an event was emitted, a delivery is due).
func (s *Service) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// personal lists the data fields that say who a member is; EraseMember
// takes them out of a deleted member's events.
var personal = []string{"email", "displayName", "timezone", "birthday", "avatarUrl"}

// EraseMember takes a deleted member's personal data out of the events
// about them (member.created carries their email and name): a delivery
// still to come, or a redelivery, sends the event without it. Ids and
// amounts stay, as the brand's accounting keeps them. Safe to repeat.
func (s *Service) EraseMember(ctx context.Context, memberID bson.ObjectID) error {
	cur, err := s.events.Find(ctx, bson.D{{Key: "memberId", Value: memberID}})
	if err != nil {
		return err
	}
	var evs []outboxEvent
	if err := cur.All(ctx, &evs); err != nil {
		return err
	}
	for _, ev := range evs {
		var p Payload
		if err := json.Unmarshal([]byte(ev.Body), &p); err != nil {
			return fmt.Errorf("webhook: event %s: %w", ev.ID, err)
		}
		changed := false
		for _, k := range personal {
			if _, ok := p.Data[k]; ok {
				delete(p.Data, k)
				changed = true
			}
		}
		if !changed {
			continue
		}
		body, err := json.Marshal(p)
		if err != nil {
			return err
		}
		if _, err := s.events.UpdateOne(ctx, bson.D{{Key: "_id", Value: ev.ID}}, bson.D{{Key: "$set", Value: bson.D{{Key: "body", Value: string(body)}}}}); err != nil {
			return err
		}
	}
	return nil
}
