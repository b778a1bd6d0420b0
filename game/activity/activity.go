// Package activity keeps what members did, as the brand (or the app, or
// the community) reported it: the activities collection, one document per
// (kind, externalId), with the member snapshot the earning rules saw and a
// mark while the activity's effects are pending. Package game records
// activities and carries out their effects; this package only stores and
// finds them. It imports the program (kinds) and the rules (snapshots).
package activity

import (
	"context"
	"errors"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/game/rules"
	"github.com/regulars/regulars/internal/byid"
	"github.com/regulars/regulars/internal/mongoindex"
)

var (
	ErrNotFound = fault.New(fault.NotFound, "activity not found")
	// ErrDuplicate is an insert of an activity whose (kind, externalId), or
	// check-in day, is recorded already.
	ErrDuplicate = fault.New(fault.Conflict, "activity already recorded")
)

// LineItem is one line of a purchase.
type LineItem struct {
	SKU        string `bson:"sku"`
	Category   string `bson:"category,omitempty"`
	Quantity   int64  `bson:"quantity"`
	PriceMinor int64  `bson:"priceMinor"`
}

// Activity is one thing a member did, as the brand reported it. (Kind,
// ExternalID) is unique: reporting it again changes nothing.
type Activity struct {
	ID          bson.ObjectID        `bson:"_id"`
	Kind        program.ActivityKind `bson:"kind"`
	ExternalID  string               `bson:"externalId"`
	MemberID    bson.ObjectID        `bson:"memberId"`
	AmountMinor int64                `bson:"amountMinor,omitempty"`
	Currency    string               `bson:"currency,omitempty"`
	OccurredAt  time.Time            `bson:"occurredAt"`
	// RefundOf is the purchase a refund takes back.
	RefundOf  *bson.ObjectID `bson:"refundOf,omitempty"`
	Items     []LineItem     `bson:"items,omitempty"`
	CreatedAt time.Time      `bson:"createdAt"`
	// EffectsPending is set when the activity is recorded and cleared once
	// all its effects are carried out; game.Jobs.ResumeEffects finishes
	// the ones a failure or a crash left pending.
	EffectsPending bool `bson:"effectsPending,omitempty"`
	// CheckInDay keys a check-in to its member's calendar day
	// ("<member id>:<zone>:YYYY-MM-DD", in the member's timezone when it
	// occurred), unique: one check-in a day, whether the app or the brand
	// reports it. The zone is part of it as in the app's keys
	// (game.Service.CheckIn), so a move across zones neither merges nor
	// splits a lived day.
	CheckInDay string `bson:"checkInDay,omitempty"`
	// Fingerprint is a digest of the input that makes the activity
	// (game.ActivityInput); a replay of its (kind, externalId) must bring
	// the same. Empty on activities stored before it existed.
	Fingerprint string `bson:"fingerprint,omitempty"`
	// RuleSnapshot is the member as the earning rules saw them when the
	// activity was first evaluated (rules.Snapshot); nil while no rule of
	// its kind was active.
	RuleSnapshot *rules.Snapshot `bson:"ruleSnapshot,omitempty"`
	// Tier is, on a purchase, the member's tier its own entry's built-in
	// rules (the tier multiplier) were evaluated in: the tier of the
	// ledger head the entry was appended to, before any move the purchase
	// itself causes. It is written with the activity (from the head read
	// before the insert) and corrected in the rare case the entry was
	// appended to a later head (SetTier; a crash between that append and
	// the correction leaves the tier read before). A dry run replays a purchase
	// without a snapshot in it. Empty when the member had no tier yet,
	// and on purchases recorded before it existed.
	Tier string `bson:"tier,omitempty"`
}

// ForRules is what the earning rules see of a.
func (a *Activity) ForRules() rules.Activity {
	ra := rules.Activity{ID: a.ID, ExternalID: a.ExternalID, Kind: a.Kind, AmountMinor: a.AmountMinor, OccurredAt: a.OccurredAt}
	if len(a.Items) > 0 {
		ra.Items = make([]rules.Item, len(a.Items))
		for i, it := range a.Items {
			ra.Items[i] = rules.Item{SKU: it.SKU, Category: it.Category, Quantity: it.Quantity, PriceMinor: it.PriceMinor}
		}
	}
	return ra
}

// Store keeps the activities (collection activities).
type Store struct {
	c         *mongo.Collection
	maxScan   int // MaxScan; tests lower it
	readEvery int // scanBatch; tests lower it
}

// New returns the activities kept in db.
func New(db *mongo.Database) *Store {
	return &Store{c: db.Collection("activities"), maxScan: MaxScan, readEvery: scanBatch}
}

const (
	IndexExternal = "kind_externalId"
	IndexMember   = "member_kind_occurredAt"
	IndexPending  = "effectsPending_createdAt"
	IndexCheckIn  = "checkInDay_unique"
	IndexDate     = "occurredAt_id"
)

// EnsureIndexes creates the indexes the activities' queries rely on; safe
// to repeat.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	return mongoindex.Ensure(ctx, s.c,
		// Idempotency: one activity per (kind, externalId).
		mongo.IndexModel{Keys: bson.D{{Key: "kind", Value: 1}, {Key: "externalId", Value: 1}}, Options: options.Index().SetName(IndexExternal).SetUnique(true)},
		// A member's activities of a kind by date: the last purchase, and
		// PurchasesBefore (a purchase's position for escalation).
		mongo.IndexModel{Keys: bson.D{{Key: "memberId", Value: 1}, {Key: "kind", Value: 1}, {Key: "occurredAt", Value: -1}}, Options: options.Index().SetName(IndexMember)},
		// Activities whose effects are still pending, for Pending; sparse:
		// the mark is cleared once they are carried out.
		mongo.IndexModel{Keys: bson.D{{Key: "effectsPending", Value: 1}, {Key: "createdAt", Value: 1}}, Options: options.Index().SetName(IndexPending).SetSparse(true)},
		// One check-in per member per local day, whoever reports it; sparse:
		// only check-ins have the key.
		mongo.IndexModel{Keys: bson.D{{Key: "checkInDay", Value: 1}}, Options: options.Index().SetName(IndexCheckIn).SetUnique(true).SetSparse(true)},
		// Every member's activities of a range by date: a dry run of
		// earning rules streams them in this order (Scan).
		mongo.IndexModel{Keys: bson.D{{Key: "occurredAt", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName(IndexDate)},
	)
}

// Insert stores a new activity. Errors: ErrDuplicate when its (kind,
// externalId) or check-in day is taken.
func (s *Store) Insert(ctx context.Context, a *Activity) error {
	_, err := s.c.InsertOne(ctx, a)
	if mongo.IsDuplicateKeyError(err) {
		return ErrDuplicate
	}
	return err
}

// Delete takes activity id back out (refused on checks only the ledger
// could make).
func (s *Store) Delete(ctx context.Context, id bson.ObjectID) error {
	_, err := s.c.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	return err
}

// Done clears activity id's EffectsPending mark.
func (s *Store) Done(ctx context.Context, id bson.ObjectID) error {
	_, err := s.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$unset", Value: bson.D{{Key: "effectsPending", Value: ""}}}})
	return err
}

// Pending lists up to limit activities recorded before `before` whose
// effects are still pending, oldest first. Backed by IndexPending.
func (s *Store) Pending(ctx context.Context, before time.Time, limit int64) ([]*Activity, error) {
	cur, err := s.c.Find(ctx, bson.D{{Key: "effectsPending", Value: true}, {Key: "createdAt", Value: bson.D{{Key: "$lt", Value: before}}}},
		options.Find().SetSort(bson.D{{Key: "effectsPending", Value: 1}, {Key: "createdAt", Value: 1}}).SetLimit(limit))
	if err != nil {
		return nil, err
	}
	var pending []*Activity
	return pending, cur.All(ctx, &pending)
}

// KeepSnapshot records snap as a's rule snapshot unless one is recorded
// already, and returns the one that stands: the first to record it wins,
// a racing attempt reads that one.
func (s *Store) KeepSnapshot(ctx context.Context, a *Activity, snap *rules.Snapshot) (*rules.Snapshot, error) {
	res, err := s.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: a.ID}, {Key: "ruleSnapshot", Value: bson.D{{Key: "$exists", Value: false}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "ruleSnapshot", Value: snap}}}})
	if err != nil {
		return nil, err
	}
	if res.ModifiedCount == 0 {
		stored, err := s.ByID(ctx, a.ID)
		if err != nil {
			return nil, err
		}
		if stored.RuleSnapshot != nil {
			snap = stored.RuleSnapshot
		}
	}
	return snap, nil
}

// SetTier records tier as purchase id's Tier (Activity.Tier): the tier
// its entry was in fact appended in, when that is not the one recorded.
func (s *Store) SetTier(ctx context.Context, id bson.ObjectID, tier string) error {
	up := bson.D{{Key: "$set", Value: bson.D{{Key: "tier", Value: tier}}}}
	if tier == "" {
		up = bson.D{{Key: "$unset", Value: bson.D{{Key: "tier", Value: ""}}}}
	}
	_, err := s.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, up)
	return err
}

// ByIDs returns activities in the order of ids; missing ones are nil (one
// query on _id, for graph's node and nodes).
func (s *Store) ByIDs(ctx context.Context, ids []bson.ObjectID) ([]*Activity, error) {
	return byid.Find(ctx, s.c, ids, func(a *Activity) bson.ObjectID { return a.ID })
}

// ByID is activity id. Errors: ErrNotFound.
func (s *Store) ByID(ctx context.Context, id bson.ObjectID) (*Activity, error) {
	return s.one(ctx, bson.D{{Key: "_id", Value: id}})
}

// ByExternalID is the activity of kind reported as externalID. Errors:
// ErrNotFound.
func (s *Store) ByExternalID(ctx context.Context, kind program.ActivityKind, externalID string) (*Activity, error) {
	return s.one(ctx, bson.D{{Key: "kind", Value: kind}, {Key: "externalId", Value: externalID}})
}

// ByCheckInDay is the check-in of day (Activity.CheckInDay). Errors:
// ErrNotFound.
func (s *Store) ByCheckInDay(ctx context.Context, day string) (*Activity, error) {
	return s.one(ctx, bson.D{{Key: "checkInDay", Value: day}})
}

// Purchase returns the purchase the brand's backend reported for memberID
// with externalID, or nil if none was reported (yet) or it is another
// member's: the purchase an offer's coupon used on that order links to.
func (s *Store) Purchase(ctx context.Context, memberID bson.ObjectID, externalID string) (*Activity, error) {
	a, err := s.ByExternalID(ctx, program.ActivityPurchase, externalID)
	if errors.Is(err, ErrNotFound) || (err == nil && a.MemberID != memberID) {
		return nil, nil // not reported yet, or another member's order: no link
	}
	return a, err
}

// LastOfKind is a member's latest activity of kind by date. Errors:
// ErrNotFound.
func (s *Store) LastOfKind(ctx context.Context, memberID bson.ObjectID, kind program.ActivityKind) (*Activity, error) {
	return s.one(ctx, bson.D{{Key: "memberId", Value: memberID}, {Key: "kind", Value: kind}},
		options.FindOne().SetSort(bson.D{{Key: "memberId", Value: 1}, {Key: "kind", Value: 1}, {Key: "occurredAt", Value: -1}}))
}

// LastPurchase is when the member last bought (zero: never).
func (s *Store) LastPurchase(ctx context.Context, memberID bson.ObjectID) (time.Time, error) {
	a, err := s.LastOfKind(ctx, memberID, program.ActivityPurchase)
	if errors.Is(err, ErrNotFound) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	return a.OccurredAt, nil
}

// PurchasesBefore counts the member's recorded purchases dated from `from`
// that come before a by date: dated earlier, or at the same instant with a
// smaller id. Backed by IndexMember.
func (s *Store) PurchasesBefore(ctx context.Context, a *Activity, from time.Time) (int64, error) {
	return s.c.CountDocuments(ctx, bson.D{
		{Key: "memberId", Value: a.MemberID},
		{Key: "kind", Value: program.ActivityPurchase},
		{Key: "occurredAt", Value: bson.D{{Key: "$gte", Value: from}, {Key: "$lte", Value: a.OccurredAt}}},
		{Key: "$or", Value: earlier(a)},
	})
}

// PreviousPurchase is the member's latest purchase dated before a (at the
// same instant: recorded earlier), nil if none. Backed by IndexMember.
func (s *Store) PreviousPurchase(ctx context.Context, a *Activity) (*Activity, error) {
	prev, err := s.one(ctx, bson.D{
		{Key: "memberId", Value: a.MemberID},
		{Key: "kind", Value: program.ActivityPurchase},
		{Key: "occurredAt", Value: bson.D{{Key: "$lte", Value: a.OccurredAt}}},
		{Key: "_id", Value: bson.D{{Key: "$ne", Value: a.ID}}},
		{Key: "$or", Value: earlier(a)},
	}, options.FindOne().SetSort(bson.D{{Key: "memberId", Value: 1}, {Key: "kind", Value: 1}, {Key: "occurredAt", Value: -1}}))
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return prev, err
}

// earlier matches what comes before a by date: dated earlier, or at the
// same instant with a smaller id.
func earlier(a *Activity) bson.A {
	return bson.A{
		bson.D{{Key: "occurredAt", Value: bson.D{{Key: "$lt", Value: a.OccurredAt}}}},
		bson.D{{Key: "_id", Value: bson.D{{Key: "$lt", Value: a.ID}}}},
	}
}

func (s *Store) one(ctx context.Context, filter bson.D, opts ...options.Lister[options.FindOneOptions]) (*Activity, error) {
	var a Activity
	err := s.c.FindOne(ctx, filter, opts...).Decode(&a)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// Before is a member's purchases dated before a date: how many count
// (dated from the member's JoinedFrom) and when the last one was.
type Before struct {
	Counted int64
	Last    time.Time
}

// beforeBatch is how many members one read of PurchasesBeforeRange asks for.
const beforeBatch = 10_000

// PurchasesBeforeRange is, for each of members (with when their purchases
// start to count: rules.JoinedFrom), their purchases dated before from:
// one read per 10,000 members by IndexMember, of each purchase's member
// and date only (the embedded database cannot group by $min or $max).
// Members with none are left out.
func (s *Store) PurchasesBeforeRange(ctx context.Context, members map[bson.ObjectID]time.Time, from time.Time) (map[bson.ObjectID]Before, error) {
	ids := make([]bson.ObjectID, 0, len(members))
	for id := range members {
		ids = append(ids, id)
	}
	out := make(map[bson.ObjectID]Before)
	for batch := range slices.Chunk(ids, beforeBatch) {
		cur, err := s.c.Find(ctx, bson.D{{Key: "memberId", Value: bson.D{{Key: "$in", Value: batch}}},
			{Key: "kind", Value: program.ActivityPurchase}, {Key: "occurredAt", Value: bson.D{{Key: "$lt", Value: from}}}},
			options.Find().SetHint(IndexMember).SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: "memberId", Value: 1}, {Key: "occurredAt", Value: 1}}))
		if err != nil {
			return nil, err
		}
		var row struct {
			MemberID   bson.ObjectID `bson:"memberId"`
			OccurredAt time.Time     `bson:"occurredAt"`
		}
		for cur.Next(ctx) {
			if err := cur.Decode(&row); err != nil {
				_ = cur.Close(context.WithoutCancel(ctx))
				return nil, err
			}
			b := out[row.MemberID]
			if !row.OccurredAt.Before(members[row.MemberID]) {
				b.Counted++
			}
			if row.OccurredAt.After(b.Last) {
				b.Last = row.OccurredAt.UTC()
			}
			out[row.MemberID] = b
		}
		if err := cur.Err(); err != nil {
			return nil, err
		}
		_ = cur.Close(context.WithoutCancel(ctx))
	}
	return out, nil
}
