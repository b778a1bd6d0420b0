// Package push reaches members' phones when the app is closed: it keeps
// their devices (push tokens) and delivers notifications of the inbox to
// them through Firebase Cloud Messaging (Android, web) and APNs (iOS).
//
// Delivery runs from a durable outbox. The inbox stores each notification
// of a pushed kind with a push-pending mark, in the same insert (see
// inbox.SetPush), so nothing is lost between storing and pushing. Deliver
// reads the marked notifications, applies the kind's policy (Policies),
// queues one delivery per device keyed by (notification, device) and
// clears the mark; it then sends the deliveries that are due, retrying 429
// and 5xx answers with exponential backoff that honours Retry-After and
// deleting the tokens a provider reports unregistered or invalid. Every
// step is keyed or a conditional single-document update, so a rerun after
// a crash repeats nothing it finished. A send the provider accepted just
// before a crash may go out again: each push carries the notification's id
// as its collapse id (APNs apns-collapse-id, FCM's Android tag, web
// notification tag), so the phone shows it once.
//
// It owns the collections push_devices, push_deliveries and
// push_marketing_days.
package push

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"golang.org/x/text/language"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/mongoindex"
	"github.com/regulars/regulars/member"
)

// Platform is the kind of device a token belongs to.
type Platform string

const (
	PlatformIOS     Platform = "IOS"     // APNs
	PlatformAndroid Platform = "ANDROID" // FCM
	PlatformWeb     Platform = "WEB"     // FCM (web push)
)

// Platforms lists every platform.
var Platforms = []Platform{PlatformIOS, PlatformAndroid, PlatformWeb}

// Limits on a device.
const (
	// MaxToken bounds a push token, in bytes. FCM registration tokens are
	// about 150 to 250 characters and APNs device tokens 64 hex digits
	// today; neither provider promises a length, so the bound is generous.
	MaxToken      = 4096
	MaxAppVersion = 64
	MaxLocale     = 35 // the longest BCP 47 tag worth keeping
	// MaxDevices is how many devices a member keeps; registering one more
	// forgets the one seen longest ago.
	MaxDevices = 20
)

// ErrDeviceNotFound: no device with that token belongs to the member.
var ErrDeviceNotFound = fault.New(fault.NotFound, "no such device")

// Device is a phone or browser that receives a member's pushes.
type Device struct {
	// ID is the token's SHA-256 (hex): tokens are long, the key is short.
	ID         string        `bson:"_id"`
	Token      string        `bson:"token"`
	MemberID   bson.ObjectID `bson:"memberId"`
	Platform   Platform      `bson:"platform"`
	AppVersion string        `bson:"appVersion,omitempty"`
	Locale     string        `bson:"locale,omitempty"`
	// RegisteredAt is when the token was first seen; LastSeenAt when it
	// was last registered (the app registers at every start).
	RegisteredAt time.Time `bson:"registeredAt"`
	LastSeenAt   time.Time `bson:"lastSeenAt"`
}

// Registration is what the app sends at start and whenever its token changes.
type Registration struct {
	Token      string
	Platform   Platform
	AppVersion string
	Locale     string
}

// validate checks and normalises r; errors name the field.
func (r *Registration) validate() error {
	var err error
	if r.Token, err = input.Identifier("token", r.Token, MaxToken); err != nil {
		return err
	}
	switch r.Platform {
	case PlatformIOS:
		// An APNs device token is sent as hexadecimal; anything else never
		// reaches a phone.
		if _, err := hex.DecodeString(r.Token); err != nil {
			return input.Errorf("token", "an iOS (APNs) device token is hexadecimal")
		}
		r.Token = strings.ToLower(r.Token)
	case PlatformAndroid, PlatformWeb:
	default:
		return input.Errorf("platform", "unknown platform %q; one of IOS, ANDROID, WEB", r.Platform)
	}
	if r.AppVersion != "" {
		if r.AppVersion, err = input.Identifier("appVersion", r.AppVersion, MaxAppVersion); err != nil {
			return err
		}
	}
	if r.Locale != "" {
		if len(r.Locale) > MaxLocale {
			return input.Errorf("locale", "must be at most %d characters", MaxLocale)
		}
		tag, err := language.Parse(r.Locale)
		if err != nil {
			return input.Errorf("locale", "%q is not a BCP 47 language tag such as fr-CA", r.Locale)
		}
		r.Locale = tag.String()
	}
	return nil
}

// tokenID is the key of a token: its SHA-256 in hex.
func tokenID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Index names, checked by the tests.
const (
	indexDeviceMember   = "memberId_lastSeenAt"
	indexDeliveryDue    = "status_nextAt"
	indexDeliveryMember = "memberId"
	indexDeliveryToken  = "tokenId"
	indexDeliveryEnded  = "endedAt"
	indexMarketingDay   = "createdAt"
)

// Service keeps devices and delivers pushes; see the package comment.
type Service struct {
	devices    *mongo.Collection
	deliveries *mongo.Collection
	marketing  *mongo.Collection
	deps       Deps
}

// Members answers what a push policy needs to know of a member.
type Members interface {
	Get(ctx context.Context, id bson.ObjectID) (*member.Member, error)
}

// Settings are the program's push rules (program.PushRules).
type Settings struct {
	// Quiet hours, local hours 0 to 23: MARKETING pushes falling from
	// QuietStart up to QuietEnd wait until QuietEnd. Equal: none.
	QuietStart, QuietEnd int
	// DailyCap bounds the MARKETING pushes a member gets per local day; 0: no cap.
	DailyCap int
	// Location is the program's timezone, for members without one.
	Location *time.Location
}

// Deps is what the service works with.
type Deps struct {
	Inbox   *inbox.Inbox
	Members Members
	// Settings reads the program's push rules at each run.
	Settings func(ctx context.Context) (Settings, error)
	// Providers send to each platform; a platform without one keeps its
	// devices but is sent nothing (its deliveries are dropped).
	Providers map[Platform]Provider
	Now       func() time.Time // nil: time.Now
}

// New returns the service over db.
func New(db *mongo.Database, deps Deps) *Service {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	return &Service{
		devices:    db.Collection("push_devices"),
		deliveries: db.Collection("push_deliveries"),
		marketing:  db.Collection("push_marketing_days"),
		deps:       deps,
	}
}

// Enabled reports whether any provider is configured.
func (s *Service) Enabled() bool { return len(s.deps.Providers) > 0 }

// EnsureIndexes creates the indexes the queries rely on; safe to repeat.
func (s *Service) EnsureIndexes(ctx context.Context) error {
	return mongoindex.EnsureAll(ctx,
		mongoindex.Set{C: s.devices, Models: []mongo.IndexModel{
			// A member's devices, least recently seen first (eviction, erasure, pushes).
			{Keys: bson.D{{Key: "memberId", Value: 1}, {Key: "lastSeenAt", Value: 1}}, Options: options.Index().SetName(indexDeviceMember)},
		}},
		mongoindex.Set{C: s.deliveries, Models: []mongo.IndexModel{
			// What is due.
			{Keys: bson.D{{Key: "status", Value: 1}, {Key: "nextAt", Value: 1}}, Options: options.Index().SetName(indexDeliveryDue)},
			// Erasure of a member; a token the provider refused.
			{Keys: bson.D{{Key: "memberId", Value: 1}}, Options: options.Index().SetName(indexDeliveryMember)},
			{Keys: bson.D{{Key: "tokenId", Value: 1}}, Options: options.Index().SetName(indexDeliveryToken)},
			// Cleanup of finished deliveries.
			{Keys: bson.D{{Key: "endedAt", Value: 1}}, Options: options.Index().SetName(indexDeliveryEnded).SetSparse(true)},
		}},
		mongoindex.Set{C: s.marketing, Models: []mongo.IndexModel{
			{Keys: bson.D{{Key: "createdAt", Value: 1}}, Options: options.Index().SetName(indexMarketingDay)},
		}},
	)
}

// Register records the device of memberID: a known token moves to this
// member (the last to register it) and is refreshed. Bad input refuses
// with the field named and writes nothing. A member past MaxDevices
// forgets the device seen longest ago.
func (s *Service) Register(ctx context.Context, memberID bson.ObjectID, r Registration) (*Device, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	now := s.deps.Now().UTC()
	id := tokenID(r.Token)
	filter := bson.D{{Key: "_id", Value: id}}
	update := bson.D{
		{Key: "$set", Value: bson.D{{Key: "token", Value: r.Token}, {Key: "memberId", Value: memberID}, {Key: "platform", Value: r.Platform},
			{Key: "appVersion", Value: r.AppVersion}, {Key: "locale", Value: r.Locale}, {Key: "lastSeenAt", Value: now}}},
		{Key: "$setOnInsert", Value: bson.D{{Key: "registeredAt", Value: now}}},
	}
	var d Device
	after := options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)
	err := s.devices.FindOneAndUpdate(ctx, filter, update, after).Decode(&d)
	if mongo.IsDuplicateKeyError(err) { // two first registrations at once; the document exists now
		err = s.devices.FindOneAndUpdate(ctx, filter, update, after).Decode(&d)
	}
	if err != nil {
		return nil, err
	}
	if err := s.evict(ctx, memberID); err != nil {
		return nil, err
	}
	return &d, nil
}

// evict forgets the member's devices seen longest ago past MaxDevices.
func (s *Service) evict(ctx context.Context, memberID bson.ObjectID) error {
	cur, err := s.devices.Find(ctx, bson.D{{Key: "memberId", Value: memberID}},
		options.Find().SetSort(bson.D{{Key: "memberId", Value: 1}, {Key: "lastSeenAt", Value: -1}}).SetSkip(MaxDevices).
			SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return err
	}
	var old []Device
	if err := cur.All(ctx, &old); err != nil || len(old) == 0 {
		return err
	}
	ids := make([]string, len(old))
	for i, d := range old {
		ids[i] = d.ID
	}
	_, err = s.devices.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}, {Key: "memberId", Value: memberID}})
	return err
}

// Unregister forgets the member's device with token (the app signs out or
// the user turns notifications off): ErrDeviceNotFound, naming token, for
// a token that is not the member's.
func (s *Service) Unregister(ctx context.Context, memberID bson.ObjectID, token string) error {
	token, err := input.Identifier("token", token, MaxToken)
	if err != nil {
		return err
	}
	// iOS tokens are stored lower-case; the app may send them either way.
	ids := []string{tokenID(token), tokenID(strings.ToLower(token))}
	res, err := s.devices.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}, {Key: "memberId", Value: memberID}})
	if err != nil {
		return err
	}
	if res.DeletedCount == 0 {
		return input.Wrap("token", ErrDeviceNotFound)
	}
	return nil
}

// Devices returns the member's devices, most recently seen first (at most MaxDevices).
func (s *Service) Devices(ctx context.Context, memberID bson.ObjectID) ([]*Device, error) {
	cur, err := s.devices.Find(ctx, bson.D{{Key: "memberId", Value: memberID}},
		options.Find().SetSort(bson.D{{Key: "memberId", Value: 1}, {Key: "lastSeenAt", Value: -1}}).SetLimit(MaxDevices))
	if err != nil {
		return nil, err
	}
	ds := []*Device{}
	return ds, cur.All(ctx, &ds)
}

// EraseMember removes the member's devices, the pushes not yet sent to
// them and the record of past ones (account deletion). Safe to repeat.
func (s *Service) EraseMember(ctx context.Context, memberID bson.ObjectID) error {
	if _, err := s.devices.DeleteMany(ctx, bson.D{{Key: "memberId", Value: memberID}}); err != nil {
		return err
	}
	if _, err := s.deliveries.DeleteMany(ctx, bson.D{{Key: "memberId", Value: memberID}}); err != nil {
		return err
	}
	_, err := s.marketing.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$regex", Value: "^" + memberID.Hex() + ":"}}}})
	return err
}

// forgetToken deletes a token the provider refused and the deliveries
// still waiting for it.
func (s *Service) forgetToken(ctx context.Context, id string) error {
	if _, err := s.devices.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
		return err
	}
	_, err := s.deliveries.UpdateMany(ctx, bson.D{{Key: "tokenId", Value: id}, {Key: "status", Value: statusPending}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: statusDropped}, {Key: "lastError", Value: "token unregistered"},
			{Key: "endedAt", Value: s.deps.Now().UTC()}}}})
	return err
}

var errNoProvider = errors.New("no provider for this platform")
