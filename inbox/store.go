package inbox

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/internal/chain"
)

// Index names, checked by the tests.
const (
	indexMemberSeq    = chain.IndexSeq
	indexMemberKey    = chain.IndexKey
	indexMemberUnread = "member_readAt"
	indexCreatedAt    = "createdAt"
	indexReadAt       = "readAt"
	indexExpiresAt    = "expiresAt"
	indexPushPending  = "pushPending_id"
)

// store keeps notifications and members' preferences.
type store struct {
	notifications *mongo.Collection
	prefs         *mongo.Collection
}

func (s store) indexes() []mongo.IndexModel {
	// The chain's two unique indexes: the inbox is read by sequence per
	// member, both ways, and one cause makes one notification.
	return append(s.seq().Indexes(),
		// Unread counts.
		mongo.IndexModel{Keys: bson.D{{Key: "memberId", Value: 1}, {Key: "readAt", Value: 1}}, Options: options.Index().SetName(indexMemberUnread)},
		// Instances poll for what others stored.
		mongo.IndexModel{Keys: bson.D{{Key: "createdAt", Value: 1}}, Options: options.Index().SetName(indexCreatedAt)},
		// Cleanup.
		mongo.IndexModel{Keys: bson.D{{Key: "readAt", Value: 1}}, Options: options.Index().SetName(indexReadAt)},
		mongo.IndexModel{Keys: bson.D{{Key: "expiresAt", Value: 1}}, Options: options.Index().SetName(indexExpiresAt)},
		// The push outbox reads what is still to push (sparse: only those carry the mark).
		mongo.IndexModel{Keys: bson.D{{Key: "pushPending", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName(indexPushPending).SetSparse(true)},
	)
}

// shown filters out notifications past their expiry.
func shown(now time.Time) bson.E {
	return bson.E{Key: "$or", Value: bson.A{
		bson.D{{Key: "expiresAt", Value: nil}},
		bson.D{{Key: "expiresAt", Value: bson.D{{Key: "$gt", Value: now}}}},
	}}
}

// insert stores n under the member's next sequence number, or returns the
// notification stored earlier under the same member and key (see
// internal/chain: the number is claimed by the insert itself).
func (s store) insert(ctx context.Context, n *Notification) (existing *Notification, err error) {
	return s.seq().Insert(ctx, n.MemberID, n.Key, n, func(seq int64) { n.Seq = seq })
}

func (s store) seq() chain.Chain[Notification] { return chain.Chain[Notification]{C: s.notifications} }

func (s store) lastSeq(ctx context.Context, memberID bson.ObjectID) (int64, error) {
	return s.seq().LastSeq(ctx, memberID)
}

func (s store) byKey(ctx context.Context, memberID bson.ObjectID, key string) (*Notification, error) {
	n, err := s.seq().ByKey(ctx, memberID, key)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrNotFound
	}
	return n, err
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

// mutedOf returns the muted categories of each of the members who muted any.
func (s store) mutedOf(ctx context.Context, memberIDs []bson.ObjectID) (map[bson.ObjectID][]Category, error) {
	cur, err := s.prefs.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: memberIDs}}}})
	if err != nil {
		return nil, err
	}
	var ps []prefs
	if err := cur.All(ctx, &ps); err != nil {
		return nil, err
	}
	out := make(map[bson.ObjectID][]Category, len(ps))
	for _, p := range ps {
		out[p.MemberID] = p.Muted
	}
	return out, nil
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
