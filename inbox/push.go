package inbox

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// PushPending returns up to limit notifications still marked for push
// (SetPush) with ids after `after`, oldest first: the push outbox's queue.
// Expired ones are included; the caller decides what to do with them.
func (in *Inbox) PushPending(ctx context.Context, after bson.ObjectID, limit int) ([]*Notification, error) {
	cur, err := in.store.notifications.Find(ctx,
		bson.D{{Key: "pushPending", Value: true}, {Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}}},
		options.Find().SetSort(bson.D{{Key: "pushPending", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, err
	}
	var ns []*Notification
	return ns, cur.All(ctx, &ns)
}

// PushDone clears the push mark of notification id; safe to repeat.
func (in *Inbox) PushDone(ctx context.Context, id bson.ObjectID) error {
	_, err := in.store.notifications.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "pushPending", Value: true}},
		bson.D{{Key: "$unset", Value: bson.D{{Key: "pushPending", Value: ""}}}})
	return err
}
