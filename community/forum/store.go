package forum

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/byid"
	"github.com/regulars/regulars/internal/mongoindex"
	"github.com/regulars/regulars/internal/page"
)

// Store keeps the community's content in db.
type Store struct {
	spaces, threads, posts, reactions, limits *mongo.Collection
	// jobs holds the background jobs' progress (RecountReactions').
	jobs *mongo.Collection
}

// New returns the store over db.
func New(db *mongo.Database) *Store {
	return &Store{spaces: db.Collection("community_spaces"), threads: db.Collection("community_threads"),
		posts: db.Collection("community_posts"), reactions: db.Collection("community_reactions"),
		limits: db.Collection("community_limits"), jobs: db.Collection("community_jobs")}
}

// Index names, checked by the tests.
const (
	IndexThreadActive = "space_pinned_lastPostAt"
	IndexThreadNew    = "space_pinned_createdAt"
	IndexThreadTop    = "space_pinned_score"
	IndexPostNumber   = "thread_number_unique"
	IndexPostAuthor   = "author_createdAt"
	IndexReaction     = "post_member_reaction_unique"
	// IndexPostReactionsAt: posts by when their reactions last changed.
	IndexPostReactionsAt = "reactionsAt"
)

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

// EnsureIndexes creates the indexes the queries below rely on.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	threads := []mongo.IndexModel{
		// Each thread order is one range read: space, pinned first, the
		// order's key, then _id to break ties (the cursor holds all three).
		{Keys: bson.D{{Key: "spaceId", Value: 1}, {Key: "pinned", Value: -1}, {Key: "lastPostAt", Value: -1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName(IndexThreadActive)},
		{Keys: bson.D{{Key: "spaceId", Value: 1}, {Key: "pinned", Value: -1}, {Key: "createdAt", Value: -1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName(IndexThreadNew)},
		{Keys: bson.D{{Key: "spaceId", Value: 1}, {Key: "pinned", Value: -1}, {Key: "score", Value: -1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName(IndexThreadTop)},
	}
	posts := []mongo.IndexModel{
		// A post's number in its thread is claimed by this unique index;
		// a thread's posts page as one range read of it.
		{Keys: bson.D{{Key: "threadId", Value: 1}, {Key: "number", Value: 1}}, Options: options.Index().SetName(IndexPostNumber).SetUnique(true)},
		// A member's recent posts (trust: a post hidden in the last 30 days).
		{Keys: bson.D{{Key: "authorId", Value: 1}, {Key: "createdAt", Value: -1}}, Options: options.Index().SetName(IndexPostAuthor)},
	}
	// Posts whose reactions changed, in the order RecountReactions reads them.
	posts = append(posts, mongo.IndexModel{Keys: bson.D{{Key: "reactionsAt", Value: 1}, {Key: "_id", Value: 1}},
		Options: options.Index().SetName(IndexPostReactionsAt).SetSparse(true)})
	reactions := []mongo.IndexModel{
		{Keys: bson.D{{Key: "postId", Value: 1}, {Key: "memberId", Value: 1}, {Key: "reaction", Value: 1}}, Options: options.Index().SetName(IndexReaction).SetUnique(true)},
	}
	return mongoindex.EnsureAll(ctx, mongoindex.Set{C: s.threads, Models: threads}, mongoindex.Set{C: s.posts, Models: posts}, mongoindex.Set{C: s.reactions, Models: reactions})
}

// Collections are the store's collections, for tests and benchmarks that
// read invariants back.
type Collections struct{ Threads, Posts, Reactions *mongo.Collection }

// Collections returns the store's collections.
func (s *Store) Collections() Collections {
	return Collections{Threads: s.threads, Posts: s.posts, Reactions: s.reactions}
}

func one[T any](ctx context.Context, c *mongo.Collection, filter any, notFound error) (*T, error) {
	var t T
	err := c.FindOne(ctx, filter).Decode(&t)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	return &t, nil
}

func byID(id bson.ObjectID) bson.D { return bson.D{{Key: "_id", Value: id}} }

// --- spaces

// SaveSpace inserts sp, or replaces the space with its id.
func (s *Store) SaveSpace(ctx context.Context, sp *Space) error {
	_, err := s.spaces.ReplaceOne(ctx, byID(sp.ID), sp, options.Replace().SetUpsert(true))
	return err
}

// Space returns a space.
func (s *Store) Space(ctx context.Context, id bson.ObjectID) (*Space, error) {
	return one[Space](ctx, s.spaces, byID(id), ErrSpaceNotFound)
}

// Spaces pages spaces by id, oldest first, after after (zero: the start).
func (s *Store) Spaces(ctx context.Context, after bson.ObjectID, limit int) ([]*Space, bool, error) {
	filter := bson.D{}
	if !after.IsZero() {
		filter = bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}}}
	}
	return page.Find[*Space](ctx, s.spaces, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}), limit)
}

// --- threads and posts

// Thread returns a thread.
func (s *Store) Thread(ctx context.Context, id bson.ObjectID) (*Thread, error) {
	return one[Thread](ctx, s.threads, byID(id), ErrThreadNotFound)
}

// ThreadsByID returns threads in the order of ids, nil where missing.
func (s *Store) ThreadsByID(ctx context.Context, ids []bson.ObjectID) ([]*Thread, error) {
	return byid.Find(ctx, s.threads, ids, func(t *Thread) bson.ObjectID { return t.ID })
}

// Post returns a post.
func (s *Store) Post(ctx context.Context, id bson.ObjectID) (*Post, error) {
	return one[Post](ctx, s.posts, byID(id), ErrPostNotFound)
}

// PostsByID returns posts in the order of ids, nil where missing.
func (s *Store) PostsByID(ctx context.Context, ids []bson.ObjectID) ([]*Post, error) {
	return byid.Find(ctx, s.posts, ids, func(p *Post) bson.ObjectID { return p.ID })
}

// OpeningPosts returns the first post (number 1) of each thread, in the
// order of threadIDs, nil where missing: one read of IndexPostNumber.
func (s *Store) OpeningPosts(ctx context.Context, threadIDs []bson.ObjectID) ([]*Post, error) {
	out := make([]*Post, len(threadIDs))
	if len(threadIDs) == 0 {
		return out, nil
	}
	cur, err := s.posts.Find(ctx, bson.D{{Key: "threadId", Value: bson.D{{Key: "$in", Value: threadIDs}}}, {Key: "number", Value: 1}},
		options.Find().SetHint(IndexPostNumber))
	if err != nil {
		return nil, err
	}
	var found []*Post
	if err := cur.All(ctx, &found); err != nil {
		return nil, err
	}
	byThread := make(map[bson.ObjectID]*Post, len(found))
	for _, p := range found {
		byThread[p.ThreadID] = p
	}
	for i, id := range threadIDs {
		out[i] = byThread[id]
	}
	return out, nil
}

// CreateThread stores t and its first post p (number 1).
func (s *Store) CreateThread(ctx context.Context, t *Thread, p *Post) error {
	t.Posts, t.Score, t.LastPostAt = 1, 1, p.CreatedAt
	if _, err := s.threads.InsertOne(ctx, t); err != nil {
		return err
	}
	p.Number = 1
	_, err := s.posts.InsertOne(ctx, p)
	return err
}

// Reply stores p as the next post of its thread, unless the thread is
// locked (ErrLocked). Its number is claimed by a unique insert: of
// concurrent replies each gets its own, with no gaps but failures.
func (s *Store) Reply(ctx context.Context, p *Post) error {
	for range maxPostsTrip {
		var last struct {
			Number int64 `bson:"number"`
		}
		err := s.posts.FindOne(ctx, bson.D{{Key: "threadId", Value: p.ThreadID}},
			options.FindOne().SetSort(bson.D{{Key: "threadId", Value: 1}, {Key: "number", Value: -1}}).SetProjection(bson.D{{Key: "number", Value: 1}})).Decode(&last)
		if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
			return err
		}
		p.Number = last.Number + 1
		_, err = s.posts.InsertOne(ctx, p)
		if mongo.IsDuplicateKeyError(err) {
			if err := ctx.Err(); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		_, err = s.threads.UpdateOne(ctx, byID(p.ThreadID), bson.D{
			{Key: "$inc", Value: bson.D{{Key: "posts", Value: 1}, {Key: "score", Value: 1}}},
			{Key: "$max", Value: bson.D{{Key: "lastPostAt", Value: p.CreatedAt}}},
		})
		return err
	}
	return ErrContended
}

// Posts pages a thread's posts oldest first, numbered after after (0: the
// start): one range read of IndexPostNumber. Cursors are post numbers, so
// they stay put while replies arrive.
func (s *Store) Posts(ctx context.Context, threadID bson.ObjectID, after int64, limit int) ([]*Post, bool, error) {
	return page.Find[*Post](ctx, s.posts, bson.D{{Key: "threadId", Value: threadID}, {Key: "number", Value: bson.D{{Key: "$gt", Value: after}}}},
		options.Find().SetSort(bson.D{{Key: "threadId", Value: 1}, {Key: "number", Value: 1}}).SetHint(IndexPostNumber), limit)
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

// Threads pages a space's threads in order, pinned first, after after
// (nil: the start): one range read of the order's index, no skip.
func (s *Store) Threads(ctx context.Context, spaceID bson.ObjectID, order ThreadOrder, after *ThreadCursor, limit int) ([]*Thread, bool, error) {
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

// Edit replaces the body and images of the author's post, keeping the
// version it replaces in its history, within window of its creation.
func (s *Store) Edit(ctx context.Context, postID, author bson.ObjectID, t Text, window time.Duration, now time.Time) (*Post, error) {
	p, err := s.Post(ctx, postID)
	if err != nil {
		return nil, err
	}
	switch {
	case p.AuthorID != author:
		return nil, ErrNotAuthor
	case p.Status == PostDeleted || p.Status == PostRemoved:
		return nil, ErrGone
	case now.Sub(p.CreatedAt) > window:
		return nil, ErrEditWindow
	}
	var updated Post
	// Made on the body read, so two edits at once keep both versions.
	err = s.posts.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: postID}, {Key: "body", Value: p.Body}, {Key: "editedAt", Value: p.EditedAt}},
		bson.D{
			{Key: "$set", Value: bson.D{{Key: "body", Value: t.Body}, {Key: "images", Value: t.Images}, {Key: "editedAt", Value: now}}},
			{Key: "$push", Value: bson.D{{Key: "history", Value: Edit{Body: p.Body, Images: p.Images, EditedAt: now}}}},
		}, options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&updated)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrEditRace
	}
	return &updated, err
}

// DeleteOwn soft-deletes the author's post: its words stay stored for
// moderators, readers see that it was deleted.
func (s *Store) DeleteOwn(ctx context.Context, postID, author bson.ObjectID) (*Post, error) {
	var p Post
	err := s.posts.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: postID}, {Key: "authorId", Value: author},
		{Key: "status", Value: bson.D{{Key: "$nin", Value: bson.A{PostDeleted, PostRemoved}}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: PostDeleted}}}}, options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&p)
	if errors.Is(err, mongo.ErrNoDocuments) {
		cur, err := s.Post(ctx, postID)
		switch {
		case err != nil:
			return nil, err
		case cur.AuthorID != author:
			return nil, ErrNotAuthor
		}
		return nil, ErrGone
	}
	return &p, err
}

// --- reactions

type reactionDoc struct {
	PostID   bson.ObjectID `bson:"postId"`
	MemberID bson.ObjectID `bson:"memberId"`
	Reaction Reaction      `bson:"reaction"`
	At       time.Time     `bson:"at"`
}

// React adds member's reaction to the post, once: the unique document is
// inserted, and only an insert that happened moves the post's count (and
// its thread's score). Reacting again changes nothing. It reports whether
// the reaction was new. The post is marked first (markReactions), so a
// crash between the insert and the count leaves it to RecountReactions.
func (s *Store) React(ctx context.Context, p *Post, memberID bson.ObjectID, r Reaction, now time.Time) (bool, error) {
	if err := s.markReactions(ctx, p, now); err != nil {
		return false, err
	}
	_, err := s.reactions.InsertOne(ctx, reactionDoc{PostID: p.ID, MemberID: memberID, Reaction: r, At: now})
	if mongo.IsDuplicateKeyError(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, s.count(ctx, p, r, 1, now)
}

// Unreact takes member's reaction back; only a delete that happened moves
// the count. The post is marked first, as by React.
func (s *Store) Unreact(ctx context.Context, p *Post, memberID bson.ObjectID, r Reaction, now time.Time) (bool, error) {
	if err := s.markReactions(ctx, p, now); err != nil {
		return false, err
	}
	res, err := s.reactions.DeleteOne(ctx, bson.D{{Key: "postId", Value: p.ID}, {Key: "memberId", Value: memberID}, {Key: "reaction", Value: r}})
	if err != nil || res.DeletedCount == 0 {
		return false, err
	}
	return true, s.count(ctx, p, r, -1, now)
}

func (s *Store) count(ctx context.Context, p *Post, r Reaction, n int64, now time.Time) error {
	// Marked again with the count: a count that lands after a recount
	// read the post brings it back to the next one.
	if _, err := s.posts.UpdateOne(ctx, byID(p.ID), bson.D{{Key: "$inc", Value: bson.D{{Key: "reactions." + string(r), Value: n}, {Key: "reactionsRev", Value: 1}}},
		{Key: "$set", Value: bson.D{{Key: "reactionsAt", Value: now}}}}); err != nil {
		return err
	}
	_, err := s.threads.UpdateOne(ctx, byID(p.ThreadID), bson.D{{Key: "$inc", Value: bson.D{{Key: "score", Value: n}}}})
	return err
}

// MyReactions lists the reactions member gave post.
func (s *Store) MyReactions(ctx context.Context, postID, memberID bson.ObjectID) ([]Reaction, error) {
	cur, err := s.reactions.Find(ctx, bson.D{{Key: "postId", Value: postID}, {Key: "memberId", Value: memberID}})
	if err != nil {
		return nil, err
	}
	var docs []reactionDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	out := make([]Reaction, len(docs))
	for i, d := range docs {
		out[i] = d.Reaction
	}
	return out, nil
}

// ValidReaction reports whether r is one of Reactions.
func ValidReaction(r Reaction) bool {
	for _, x := range Reactions {
		if x == r {
			return true
		}
	}
	return false
}
