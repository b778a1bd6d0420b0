package inbox

import (
	"context"

	"github.com/regulars/regulars/internal/byid"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// ByID returns the member's shown notifications with the given ids, in the
// order of ids; nil for one that is missing, expired or another member's,
// so a notification is found exactly when List would show it. One query.
func (in *Inbox) ByID(ctx context.Context, memberID bson.ObjectID, ids []bson.ObjectID) ([]*Notification, error) {
	cur, err := in.store.notifications.Find(ctx, bson.D{
		{Key: "memberId", Value: memberID}, {Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}, shown(in.now()),
	})
	if err != nil {
		return nil, err
	}
	var found []*Notification
	if err := cur.All(ctx, &found); err != nil {
		return nil, err
	}
	return byid.Order(ids, found, func(n *Notification) bson.ObjectID { return n.ID }), nil
}

// ReadableBy reports whether the signed-in member memberID may read n:
// the member it was sent to only (the brand reads no member's inbox).
func (n *Notification) ReadableBy(memberID bson.ObjectID) bool {
	return !memberID.IsZero() && n.MemberID == memberID
}
