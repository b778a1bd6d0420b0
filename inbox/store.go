package inbox

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Index names, checked by the tests.
const (
	indexMemberSeq = "member_seq"
	indexMemberKey = "member_key"
)

// store keeps notifications.
type store struct {
	notifications *mongo.Collection
}

func (s store) indexes() []mongo.IndexModel {
	return []mongo.IndexModel{
		// The inbox is read newest first per member.
		{Keys: bson.D{{Key: "memberId", Value: 1}, {Key: "seq", Value: -1}},
			Options: options.Index().SetName(indexMemberSeq).SetUnique(true)},
		// One cause, one notification.
		{Keys: bson.D{{Key: "memberId", Value: 1}, {Key: "key", Value: 1}},
			Options: options.Index().SetName(indexMemberKey).SetUnique(true)},
	}
}

// errKeyTaken says a notification with the same member and key exists.
var errKeyTaken = errors.New("notification key taken")

// insert stores n under the member's next sequence number. The number is
// claimed by the insert itself: the unique (memberId, seq) index refuses a
// second writer, who takes the next one. Correctness rests on unique indexes,
// not on an atomic counter update.
func (s store) insert(ctx context.Context, n *Notification) error {
	for {
		last, err := s.lastSeq(ctx, n.MemberID)
		if err != nil {
			return err
		}
		n.Seq = last + 1
		_, err = s.notifications.InsertOne(ctx, n)
		if !mongo.IsDuplicateKeyError(err) {
			return err
		}
		// Either the key is taken (one cause, one notification) or another
		// writer claimed this sequence number first and we take the next.
		if _, err := s.byKey(ctx, n.MemberID, n.Key); err == nil {
			return errKeyTaken
		}
		if err := ctx.Err(); err != nil {
			return err
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

func (s store) list(ctx context.Context, memberID bson.ObjectID, before int64, limit int) ([]*Notification, error) {
	filter := bson.D{{Key: "memberId", Value: memberID}}
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
