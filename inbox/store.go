package inbox

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Index names, checked by the tests.
const (
	indexMemberSeq    = "member_seq"
	indexMemberKey    = "member_key"
	indexMemberUnread = "member_readAt"
	indexCreatedAt    = "createdAt"
	indexReadAt       = "readAt"
	indexExpiresAt    = "expiresAt"
)

// store keeps notifications and members' preferences.
type store struct {
	notifications *mongo.Collection
	prefs         *mongo.Collection
}

func (s store) indexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		// The inbox is read by sequence per member, both ways.
		{Keys: bson.D{{Key: "memberId", Value: 1}, {Key: "seq", Value: -1}},
			Options: options.Index().SetName(indexMemberSeq).SetUnique(true)},
		// One cause, one notification.
		{Keys: bson.D{{Key: "memberId", Value: 1}, {Key: "key", Value: 1}},
			Options: options.Index().SetName(indexMemberKey).SetUnique(true)},
		// Unread counts.
		{Keys: bson.D{{Key: "memberId", Value: 1}, {Key: "readAt", Value: 1}}, Options: options.Index().SetName(indexMemberUnread)},
		// Instances poll for what others stored.
		{Keys: bson.D{{Key: "createdAt", Value: 1}}, Options: options.Index().SetName(indexCreatedAt)},
		// Cleanup.
		{Keys: bson.D{{Key: "readAt", Value: 1}}, Options: options.Index().SetName(indexReadAt)},
		{Keys: bson.D{{Key: "expiresAt", Value: 1}}, Options: options.Index().SetName(indexExpiresAt)},
	}
}

// shown filters out notifications past their expiry.
func shown(now time.Time) bson.E {
	return bson.E{Key: "$or", Value: bson.A{
		bson.D{{Key: "expiresAt", Value: nil}},
		bson.D{{Key: "expiresAt", Value: bson.D{{Key: "$gt", Value: now}}}},
	}}
}

// insert stores n under the member's next sequence number, or returns the
// notification stored earlier under the same member and key. The number is
// claimed by the insert itself: the unique (memberId, seq) index refuses a
// second writer, who takes the next one. Correctness rests on unique indexes,
// not on an atomic counter update.
func (s store) insert(ctx context.Context, n *Notification) (existing *Notification, err error) {
	for {
		last, err := s.lastSeq(ctx, n.MemberID)
		if err != nil {
			return nil, err
		}
		n.Seq = last + 1
		_, err = s.notifications.InsertOne(ctx, n)
		if !mongo.IsDuplicateKeyError(err) {
			return nil, err
		}
		// Either the key is taken (one cause, one notification) or another
		// writer claimed this sequence number first and we take the next.
		if existing, err := s.byKey(ctx, n.MemberID, n.Key); !errors.Is(err, ErrNotFound) {
			return existing, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

func (s store) lastSeq(ctx context.Context, memberID bson.ObjectID) (int64, error) {
	var last Notification
	err := s.notifications.FindOne(ctx, bson.D{{Key: "memberId", Value: memberID}},
		options.FindOne().SetSort(bson.D{{Key: "memberId", Value: 1}, {Key: "seq", Value: -1}}).SetProjection(bson.D{{Key: "seq", Value: 1}}),
	).Decode(&last)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil
	}
	return last.Seq, err
}

func (s store) byKey(ctx context.Context, memberID bson.ObjectID, key string) (*Notification, error) {
	var n Notification
	err := s.notifications.FindOne(ctx, bson.D{{Key: "memberId", Value: memberID}, {Key: "key", Value: key}}).Decode(&n)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &n, nil
}

func (s store) list(ctx context.Context, memberID bson.ObjectID, before int64, limit int, now time.Time) ([]*Notification, error) {
	filter := bson.D{{Key: "memberId", Value: memberID}, shown(now)}
	if before > 0 {
		filter = append(filter, bson.E{Key: "seq", Value: bson.D{{Key: "$lt", Value: before}}})
	}
	cur, err := s.notifications.Find(ctx, filter,
		options.Find().SetSort(bson.D{{Key: "memberId", Value: 1}, {Key: "seq", Value: -1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, err
	}
	var ns []*Notification
	if err := cur.All(ctx, &ns); err != nil {
		return nil, err
	}
	return ns, nil
}

// after returns up to limit shown notifications after seq, oldest first.
func (s store) after(ctx context.Context, memberID bson.ObjectID, seq int64, limit int, now time.Time) ([]*Notification, error) {
	cur, err := s.notifications.Find(ctx, bson.D{{Key: "memberId", Value: memberID}, {Key: "seq", Value: bson.D{{Key: "$gt", Value: seq}}}, shown(now)},
		options.Find().SetSort(bson.D{{Key: "memberId", Value: 1}, {Key: "seq", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, err
	}
	var ns []*Notification
	return ns, cur.All(ctx, &ns)
}

func (s store) unread(ctx context.Context, memberID bson.ObjectID, now time.Time) (int64, error) {
	return s.notifications.CountDocuments(ctx, bson.D{{Key: "memberId", Value: memberID}, {Key: "readAt", Value: nil}, shown(now)})
}

func (s store) countOwned(ctx context.Context, memberID bson.ObjectID, ids []bson.ObjectID) (int64, error) {
	return s.notifications.CountDocuments(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}, {Key: "memberId", Value: memberID}})
}

// markRead marks the member's unread notifications read: those in ids, or
// all of them (ids nil) up to the newest there is now.
func (s store) markRead(ctx context.Context, memberID bson.ObjectID, ids []bson.ObjectID, now time.Time) error {
	filter := bson.D{{Key: "memberId", Value: memberID}, {Key: "readAt", Value: nil}}
	if ids != nil {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}})
	} else {
		last, err := s.lastSeq(ctx, memberID)
		if err != nil {
			return err
		}
		filter = append(filter, bson.E{Key: "seq", Value: bson.D{{Key: "$lte", Value: last}}})
	}
	_, err := s.notifications.UpdateMany(ctx, filter, bson.D{{Key: "$set", Value: bson.D{{Key: "readAt", Value: now}}}})
	return err
}

func (s store) delete(ctx context.Context, memberID bson.ObjectID, ids []bson.ObjectID) error {
	_, err := s.notifications.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}, {Key: "memberId", Value: memberID}})
	return err
}

type prefs struct {
	MemberID bson.ObjectID `bson:"_id"`
	Muted    []Category    `bson:"muted"`
}

func (s store) muted(ctx context.Context, memberID bson.ObjectID) ([]Category, error) {
	var p prefs
	err := s.prefs.FindOne(ctx, bson.D{{Key: "_id", Value: memberID}}).Decode(&p)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	return p.Muted, err
}

func (s store) setMuted(ctx context.Context, memberID bson.ObjectID, muted []Category) error {
	if muted == nil {
		muted = []Category{}
	}
	_, err := s.prefs.ReplaceOne(ctx, bson.D{{Key: "_id", Value: memberID}}, prefs{MemberID: memberID, Muted: muted}, options.Replace().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) { // two first saves at once; the document exists now
		_, err = s.prefs.ReplaceOne(ctx, bson.D{{Key: "_id", Value: memberID}}, prefs{MemberID: memberID, Muted: muted})
	}
	return err
}

func (s store) cleanup(ctx context.Context, readBefore, expiredBefore time.Time) (int64, error) {
	res, err := s.notifications.DeleteMany(ctx, bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "readAt", Value: bson.D{{Key: "$lt", Value: readBefore}}}},
		bson.D{{Key: "expiresAt", Value: bson.D{{Key: "$lt", Value: expiredBefore}}}},
	}}})
	if err != nil {
		return 0, err
	}
	return res.DeletedCount, nil
}
