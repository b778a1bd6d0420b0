package forum

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/byid"
	"github.com/regulars/regulars/internal/mongoindex"
	"github.com/regulars/regulars/internal/page"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Threads keeps the threads (community_threads): their counts of posts
// and score move with the posts and reactions written (Posts.Reply,
// Reactions.Add), through the methods below.
type Threads struct {
	threads *mongo.Collection
	posts   *Posts
}

// ThreadOrder is how threads list, pinned ones first in each.
type ThreadOrder string

const (
	OrderActive ThreadOrder = "ACTIVE" // last post first
	OrderNew    ThreadOrder = "NEW"    // newest thread first
	OrderTop    ThreadOrder = "TOP"    // most posts and reactions first
)

// sortField is the field an order sorts on, after pinned.
func (o ThreadOrder) sortField() (string, error) {
	switch o {
	case OrderActive, "":
		return "lastPostAt", nil
	case OrderNew:
		return "createdAt", nil
	case OrderTop:
		return "score", nil
	}
	return "", input.Errorf("order", "must be ACTIVE, NEW or TOP")
}

// ThreadCursor is a position in a thread listing: after the thread with
// these pinned, key and id.
type ThreadCursor struct {
	Pinned int
	Key    int64 // the order's key: Unix milliseconds, or the score
	ID     bson.ObjectID
}

func (c ThreadCursor) String() string {
	return strconv.Itoa(c.Pinned) + "." + strconv.FormatInt(c.Key, 10) + "." + c.ID.Hex()
}

// ParseThreadCursor reads ThreadCursor.String.
func ParseThreadCursor(s string) (*ThreadCursor, error) {
	parts := strings.Split(s, ".")
	if len(parts) == 3 {
		p, err1 := strconv.Atoi(parts[0])
		k, err2 := strconv.ParseInt(parts[1], 10, 64)
		id, err3 := bson.ObjectIDFromHex(parts[2])
		if err1 == nil && err2 == nil && err3 == nil && (p == 0 || p == 1) {
			return &ThreadCursor{Pinned: p, Key: k, ID: id}, nil
		}
	}
	return nil, input.Errorf("after", "is not a cursor of this list")
}

// CursorOf is t's position in order.
func CursorOf(t *Thread, order ThreadOrder) ThreadCursor {
	c := ThreadCursor{Pinned: t.Pinned, ID: t.ID}
	switch order {
	case OrderNew:
		c.Key = t.CreatedAt.UnixMilli()
	case OrderTop:
		c.Key = t.Score
	default:
		c.Key = t.LastPostAt.UnixMilli()
	}
	return c
}

// --- threads and posts

// Get returns a thread.
func (s *Threads) Get(ctx context.Context, id bson.ObjectID) (*Thread, error) {
	return one[Thread](ctx, s.threads, byID(id), ErrThreadNotFound)
}

// ByID returns threads in the order of ids, nil where missing.
func (s *Threads) ByID(ctx context.Context, ids []bson.ObjectID) ([]*Thread, error) {
	return byid.Find(ctx, s.threads, ids, func(t *Thread) bson.ObjectID { return t.ID })
}

// List pages a space's threads in order, pinned first, after after
// (nil: the start): one range read of the order's index, no skip.
func (s *Threads) List(ctx context.Context, spaceID bson.ObjectID, order ThreadOrder, after *ThreadCursor, limit int) ([]*Thread, bool, error) {
	field, err := order.sortField()
	if err != nil {
		return nil, false, err
	}
	filter := bson.D{{Key: "spaceId", Value: spaceID}, {Key: "removed", Value: bson.D{{Key: "$ne", Value: true}}}}
	if after != nil {
		var key any = after.Key
		if field != "score" {
			key = time.UnixMilli(after.Key).UTC()
		}
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "pinned", Value: bson.D{{Key: "$lt", Value: after.Pinned}}}},
			bson.D{{Key: "pinned", Value: after.Pinned}, {Key: field, Value: bson.D{{Key: "$lt", Value: key}}}},
			bson.D{{Key: "pinned", Value: after.Pinned}, {Key: field, Value: key}, {Key: "_id", Value: bson.D{{Key: "$lt", Value: after.ID}}}},
		}})
	}
	sort := bson.D{{Key: "spaceId", Value: 1}, {Key: "pinned", Value: -1}, {Key: field, Value: -1}, {Key: "_id", Value: -1}}
	return page.Find[*Thread](ctx, s.threads, filter, options.Find().SetSort(sort), limit)
}

// Create stores t and its first post p (number 1).
func (s *Threads) Create(ctx context.Context, t *Thread, p *Post) error {
	t.Posts, t.Score, t.LastPostAt = 1, 1, p.CreatedAt
	if _, err := s.threads.InsertOne(ctx, t); err != nil {
		return err
	}
	return s.posts.insertFirst(ctx, p)
}

// ThreadChange is a moderation change of a thread.
type ThreadChange struct {
	Locked  *bool
	Pinned  *bool
	SpaceID *bson.ObjectID // move
	Removed *bool
}

// Moderate applies c to a thread read at revision t.ModRev; IsStale
// when another change landed first. A move moves its posts too.
func (s *Threads) Moderate(ctx context.Context, t *Thread, c ThreadChange, m Moderation) (*Thread, error) {
	set := bson.D{{Key: "lastModeration", Value: m}}
	if c.Locked != nil {
		set = append(set, bson.E{Key: "locked", Value: *c.Locked})
	}
	if c.Pinned != nil {
		pin := 0
		if *c.Pinned {
			pin = 1
		}
		set = append(set, bson.E{Key: "pinned", Value: pin})
	}
	if c.SpaceID != nil {
		set = append(set, bson.E{Key: "spaceId", Value: *c.SpaceID})
	}
	if c.Removed != nil {
		set = append(set, bson.E{Key: "removed", Value: *c.Removed})
	}
	var out Thread
	err := s.threads.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: t.ID}, {Key: "modRev", Value: t.ModRev}},
		bson.D{{Key: "$set", Value: set}, {Key: "$inc", Value: bson.D{{Key: "modRev", Value: 1}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&out)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, errStale
	}
	if err != nil {
		return nil, err
	}
	if c.SpaceID != nil {
		if err := s.posts.moveThread(ctx, t.ID, *c.SpaceID); err != nil {
			return nil, err
		}
	}
	return &out, nil
}

// recount sets a thread's posts and score (posts + reactions) to
// what its posts say, unless a post or reaction was counted on the thread
// while it read them (then the thread is left as it is).
func (s *Threads) recount(ctx context.Context, id bson.ObjectID) error {
	var t Thread
	if err := s.threads.FindOne(ctx, byID(id)).Decode(&t); errors.Is(err, mongo.ErrNoDocuments) {
		return nil
	} else if err != nil {
		return err
	}
	// One range read of IndexPostNumber, the counts only (a thread of
	// 10,000 posts reads 10,000 small documents; only threads whose posts'
	// reactions changed are read).
	posts, score, err := s.posts.tally(ctx, id)
	if err != nil {
		return err
	}
	if posts == t.Posts && score == t.Score {
		return nil
	}
	_, err = s.threads.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "posts", Value: t.Posts}, {Key: "score", Value: t.Score}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "posts", Value: posts}, {Key: "score", Value: score}}}})
	return err
}

// replied counts a reply written at at on thread id.
func (s *Threads) replied(ctx context.Context, id bson.ObjectID, at time.Time) error {
	_, err := s.threads.UpdateOne(ctx, byID(id), bson.D{
		{Key: "$inc", Value: bson.D{{Key: "posts", Value: 1}, {Key: "score", Value: 1}}},
		{Key: "$max", Value: bson.D{{Key: "lastPostAt", Value: at}}},
	})
	return err
}

// addScore moves thread id's score by n (a reaction given or taken back).
func (s *Threads) addScore(ctx context.Context, id bson.ObjectID, n int64) error {
	_, err := s.threads.UpdateOne(ctx, byID(id), bson.D{{Key: "$inc", Value: bson.D{{Key: "score", Value: n}}}})
	return err
}

// indexes: each thread order is one range read: space, pinned first, the
// order's key, then _id to break ties (the cursor holds all three).
func (s *Threads) indexes() mongoindex.Set {
	return mongoindex.Set{C: s.threads, Models: []mongo.IndexModel{
		{Keys: bson.D{{Key: "spaceId", Value: 1}, {Key: "pinned", Value: -1}, {Key: "lastPostAt", Value: -1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName(IndexThreadActive)},
		{Keys: bson.D{{Key: "spaceId", Value: 1}, {Key: "pinned", Value: -1}, {Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName(IndexThreadNew)},
		{Keys: bson.D{{Key: "spaceId", Value: 1}, {Key: "pinned", Value: -1}, {Key: "score", Value: -1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName(IndexThreadTop)},
	}}
}
