package activity

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/game/rules"
)

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
// id) along IndexDate, for a dry run of earning rules (dryrun.Activities), reading only what the rules see, into one
// reused Recorded.
func (s *Store) Scan(ctx context.Context, from, to time.Time, fn func(*rules.Recorded) error) error {
	filter := bson.D{{Key: "occurredAt", Value: bson.D{{Key: "$gte", Value: from}, {Key: "$lt", Value: to}}},
		{Key: "kind", Value: bson.D{{Key: "$ne", Value: program.ActivityRefund}}}}
	cur, err := s.c.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "occurredAt", Value: 1}, {Key: "_id", Value: 1}}).SetHint(IndexDate).
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
