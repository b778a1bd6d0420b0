package game

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/game/rules"
)

// ruleHistory is the recorded activities as the earning rules read them
// (ruleset.History): explanations and the dry run.
type ruleHistory struct{ s *Service }

// Explained is activity id with the snapshot recorded for it, or, for an
// activity recorded while no brand rule of its kind was active, the
// member as they are now (tier, badges) with what the activity's own
// records say: a purchase's position by date and previous purchase as
// counted now, and whether its entry paid the first-purchase bonus.
// Errors: ErrActivityNotFound.
func (h ruleHistory) Explained(ctx context.Context, id bson.ObjectID) (*rules.Recorded, error) {
	a, err := h.s.acts.byID(ctx, id)
	if err != nil {
		return nil, err
	}
	x := &rules.Recorded{Activity: ruleActivity(a), MemberID: a.MemberID, Snapshotted: a.RuleSnapshot != nil}
	if a.RuleSnapshot != nil {
		x.Snapshot = *a.RuleSnapshot
		return x, nil
	}
	st, _, err := h.s.ledger.Head(ctx, a.MemberID)
	if err != nil {
		return nil, err
	}
	x.Snapshot.Tier = st.Tier.Name
	if x.Snapshot.Badges, err = h.s.engagement.HeldBadges(ctx, a.MemberID); err != nil {
		return nil, err
	}
	if a.Kind != program.ActivityPurchase {
		return x, nil
	}
	m, err := h.s.members.Get(ctx, a.MemberID)
	if err != nil {
		return nil, err
	}
	if !a.OccurredAt.Before(joinedFrom(m)) {
		n, err := h.s.acts.purchasesBefore(ctx, a, joinedFrom(m))
		if err != nil {
			return nil, err
		}
		x.Snapshot.Purchase = n + 1
	}
	prev, err := h.s.acts.previousPurchase(ctx, a)
	if err != nil {
		return nil, err
	}
	if prev != nil {
		x.Snapshot.LastPurchaseAt = &prev.OccurredAt
	}
	e, err := h.s.ledger.ByKey(ctx, a.MemberID, "act:"+a.ID.Hex())
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return nil, err
	}
	for _, l := range entryLines(e) {
		x.Snapshot.First = x.Snapshot.First || l.Rule == rules.RuleFirstPurchase
	}
	return x, nil
}

// replayed is what a dry run reads of an activity (the projection).
type replayed struct {
	ID           bson.ObjectID        `bson:"_id"`
	Kind         program.ActivityKind `bson:"kind"`
	ExternalID   string               `bson:"externalId"`
	MemberID     bson.ObjectID        `bson:"memberId"`
	AmountMinor  int64                `bson:"amountMinor"`
	OccurredAt   time.Time            `bson:"occurredAt"`
	Items        []LineItem           `bson:"items"`
	RuleSnapshot *rules.Snapshot      `bson:"ruleSnapshot"`
}

// scanBatch is how many activities one round trip of a dry run brings
// (well under the 16 MB a batch may hold: an activity is a few hundred
// bytes).
const scanBatch = 10_000

// Scan streams the activities of [from, to) but refunds by (occurredAt,
// id) along indexActivityDate, reading only what the rules see, into one
// reused Recorded.
func (h ruleHistory) Scan(ctx context.Context, from, to time.Time, fn func(*rules.Recorded) error) error {
	filter := bson.D{{Key: "occurredAt", Value: bson.D{{Key: "$gte", Value: from}, {Key: "$lt", Value: to}}},
		{Key: "kind", Value: bson.D{{Key: "$ne", Value: program.ActivityRefund}}}}
	cur, err := h.s.acts.c.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "occurredAt", Value: 1}, {Key: "_id", Value: 1}}).SetHint(indexActivityDate).
		SetProjection(bson.D{{Key: "kind", Value: 1}, {Key: "externalId", Value: 1}, {Key: "memberId", Value: 1}, {Key: "amountMinor", Value: 1},
			{Key: "occurredAt", Value: 1}, {Key: "items", Value: 1}, {Key: "ruleSnapshot", Value: 1}}).SetBatchSize(scanBatch))
	if err != nil {
		return err
	}
	defer func() { _ = cur.Close(context.WithoutCancel(ctx)) }()
	var x rules.Recorded
	var a replayed
	for cur.Next(ctx) {
		a = replayed{Items: a.Items[:0]}
		if err := cur.Decode(&a); err != nil {
			return err
		}
		x.Activity = rules.Activity{ID: a.ID, ExternalID: a.ExternalID, Kind: a.Kind, AmountMinor: a.AmountMinor, OccurredAt: a.OccurredAt, Items: x.Activity.Items[:0]}
		for _, it := range a.Items {
			x.Activity.Items = append(x.Activity.Items, rules.Item{SKU: it.SKU, Category: it.Category, Quantity: it.Quantity, PriceMinor: it.PriceMinor})
		}
		x.MemberID, x.Snapshotted = a.MemberID, a.RuleSnapshot != nil
		if a.RuleSnapshot != nil {
			x.Snapshot = *a.RuleSnapshot
		}
		if err := fn(&x); err != nil {
			return err
		}
	}
	return cur.Err()
}

// entryLines are e's lines; none without an entry.
func entryLines(e *ledger.Entry) []ledger.Line {
	if e == nil {
		return nil
	}
	return e.Lines
}
