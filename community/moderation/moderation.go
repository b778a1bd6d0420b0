// Package moderation keeps what moderators work with: flags on posts and
// the review queue they feed, the log of every moderator and brand action
// (never edited), members' silences and suspensions, and the watched words
// (collections community_flags, community_review, community_log,
// community_sanctions, community_watched_words). Package community decides
// who may act and carries the actions out on the content (community/forum).
package moderation

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/mongoindex"
	"github.com/regulars/regulars/internal/page"
)

var (
	ErrAlreadyFlagged = fault.New(fault.Conflict, "you flagged this post already")
	ErrWordNotFound   = fault.New(fault.NotFound, "watched word not found")
)

// Reason is why a member flags a post.
type Reason string

const (
	ReasonSpam     Reason = "SPAM"
	ReasonAbuse    Reason = "ABUSE"
	ReasonOffTopic Reason = "OFF_TOPIC"
	ReasonOther    Reason = "OTHER" // with a text
)

// MaxNote bounds a flag's text and a moderator's reason.
const MaxNote = 500

// Flag is one member's flag on a post; unique per (post, member).
type Flag struct {
	ID       bson.ObjectID `bson:"_id"`
	PostID   bson.ObjectID `bson:"postId"`
	SpaceID  bson.ObjectID `bson:"spaceId"`
	MemberID bson.ObjectID `bson:"memberId"`
	Reason   Reason        `bson:"reason"`
	Note     string        `bson:"note,omitempty"`
	Weight   int64         `bson:"weight"`
	// Outcome is set when the post is reviewed: AGREED (hidden or
	// removed) or DISAGREED (approved); it makes the flagger's accuracy.
	Outcome   string    `bson:"outcome,omitempty"`
	CreatedAt time.Time `bson:"createdAt"`
}

// ItemStatus is where a review item stands.
type ItemStatus string

const (
	ItemPending  ItemStatus = "PENDING"
	ItemResolved ItemStatus = "RESOLVED"
)

// Item is a post in the review queue: one per post, its score the sum of
// its flags' weights. Its id is the post's.
type Item struct {
	PostID    bson.ObjectID `bson:"_id"`
	SpaceID   bson.ObjectID `bson:"spaceId"`
	AuthorID  bson.ObjectID `bson:"authorId"`
	Status    ItemStatus    `bson:"status"`
	Score     int64         `bson:"score"`
	Flags     int64         `bson:"flags"`
	Reasons   []string      `bson:"reasons"` // why it is here: flag reasons, watched words
	CreatedAt time.Time     `bson:"createdAt"`
	// Resolution is what a moderator decided.
	Resolution *Resolution `bson:"resolution,omitempty"`
}

// Resolution is the decision on an item.
type Resolution struct {
	Action string        `bson:"action"`
	By     bson.ObjectID `bson:"by"`
	At     time.Time     `bson:"at"`
}

// Store keeps moderation's collections.
type Store struct {
	flags, review, log, sanctions, words *mongo.Collection
}

// New returns the store over db.
func New(db *mongo.Database) *Store {
	return &Store{flags: db.Collection("community_flags"), review: db.Collection("community_review"),
		log: db.Collection("community_log"), sanctions: db.Collection("community_sanctions"), words: db.Collection("community_watched_words")}
}

// Index names, checked by the tests.
const (
	IndexFlagUnique   = "post_member_unique"
	IndexFlagMember   = "member_outcome"
	IndexReviewQueue  = "space_status_score"
	IndexLogAll       = "id_desc"
	IndexLogSpace     = "space_id_desc"
	IndexSanctionUniq = "member_space_unique"
	IndexWordUnique   = "word_unique"
)

// EnsureIndexes creates the indexes the queries below rely on.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	return mongoindex.EnsureAll(ctx,
		mongoindex.Set{C: s.flags, Models: []mongo.IndexModel{
			{Keys: bson.D{{Key: "postId", Value: 1}, {Key: "memberId", Value: 1}}, Options: options.Index().SetName(IndexFlagUnique).SetUnique(true)},
			// A flagger's accuracy: their flags by outcome.
			{Keys: bson.D{{Key: "memberId", Value: 1}, {Key: "outcome", Value: 1}}, Options: options.Index().SetName(IndexFlagMember)},
		}},
		mongoindex.Set{C: s.review, Models: []mongo.IndexModel{
			// The queue of a space by status, highest score first.
			{Keys: bson.D{{Key: "spaceId", Value: 1}, {Key: "status", Value: 1}, {Key: "score", Value: -1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName(IndexReviewQueue)},
		}},
		mongoindex.Set{C: s.log, Models: []mongo.IndexModel{
			{Keys: bson.D{{Key: "spaceId", Value: 1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName(IndexLogSpace)},
		}},
		mongoindex.Set{C: s.sanctions, Models: []mongo.IndexModel{
			{Keys: bson.D{{Key: "memberId", Value: 1}, {Key: "spaceId", Value: 1}, {Key: "kind", Value: 1}}, Options: options.Index().SetName(IndexSanctionUniq).SetUnique(true)},
		}},
		mongoindex.Set{C: s.words, Models: []mongo.IndexModel{
			{Keys: bson.D{{Key: "word", Value: 1}}, Options: options.Index().SetName(IndexWordUnique).SetUnique(true)},
		}},
	)
}

// CheckReason checks a flag's reason and note: the note is optional text
// of the human text policy (input.Text, several lines, at most MaxNote
// characters), required for OTHER. It returns the note as stored.
func CheckReason(r Reason, note string) (string, error) {
	note, err := input.Text{Max: MaxNote, Multiline: true, Optional: true}.Check("note", note)
	if err != nil {
		return "", err
	}
	switch r {
	case ReasonSpam, ReasonAbuse, ReasonOffTopic:
	case ReasonOther:
		if note == "" {
			return "", input.Errorf("note", "say what is wrong with the post")
		}
	default:
		return "", input.Errorf("reason", "must be SPAM, ABUSE, OFF_TOPIC or OTHER")
	}
	return note, nil
}

// AddFlag stores f, once per (post, member): ErrAlreadyFlagged otherwise.
func (s *Store) AddFlag(ctx context.Context, f *Flag) error {
	_, err := s.flags.InsertOne(ctx, f)
	if mongo.IsDuplicateKeyError(err) {
		return ErrAlreadyFlagged
	}
	return err
}

// Accuracy counts a member's reviewed flags: agreed and disagreed.
func (s *Store) Accuracy(ctx context.Context, memberID bson.ObjectID) (agreed, disagreed int64, err error) {
	if agreed, err = s.flags.CountDocuments(ctx, bson.D{{Key: "memberId", Value: memberID}, {Key: "outcome", Value: "AGREED"}}); err != nil {
		return 0, 0, err
	}
	disagreed, err = s.flags.CountDocuments(ctx, bson.D{{Key: "memberId", Value: memberID}, {Key: "outcome", Value: "DISAGREED"}})
	return agreed, disagreed, err
}

// Weight is a flag's weight (Discourse's): 1 + the flagger's trust level,
// 5 for staff, +1 for a flagger whose reviewed flags (at least 5) were
// mostly upheld (≥ 80%), -1 for one whose were mostly rejected (< 40%);
// never below 0.
func Weight(trust int, staff bool, agreed, disagreed int64) int64 {
	w := int64(1 + trust)
	if staff {
		w = 5
	}
	if n := agreed + disagreed; n >= 5 {
		switch {
		case agreed*10 >= n*8:
			w++
		case agreed*10 < n*4:
			w--
		}
	}
	return max(w, 0)
}

// Enqueue adds weight and reason to the post's review item, opening it
// (again) as PENDING.
func (s *Store) Enqueue(ctx context.Context, postID, spaceID, authorID bson.ObjectID, weight int64, reason string, flag bool, now time.Time) (*Item, error) {
	inc := bson.D{{Key: "score", Value: weight}}
	if flag {
		inc = append(inc, bson.E{Key: "flags", Value: 1})
	}
	var it Item
	err := s.review.FindOneAndUpdate(ctx, byID(postID), bson.D{
		{Key: "$set", Value: bson.D{{Key: "spaceId", Value: spaceID}, {Key: "authorId", Value: authorID}, {Key: "status", Value: ItemPending}}},
		{Key: "$setOnInsert", Value: bson.D{{Key: "createdAt", Value: now}}},
		{Key: "$inc", Value: inc},
		{Key: "$addToSet", Value: bson.D{{Key: "reasons", Value: reason}}},
	}, options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&it)
	if mongo.IsDuplicateKeyError(err) { // two first flags at once: the other created it
		return s.Enqueue(ctx, postID, spaceID, authorID, weight, reason, flag, now)
	}
	return &it, err
}

// Item returns the review item of a post, nil when it has none.
func (s *Store) Item(ctx context.Context, postID bson.ObjectID) (*Item, error) {
	var it Item
	err := s.review.FindOne(ctx, byID(postID)).Decode(&it)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	return &it, err
}

// Resolve closes a post's pending item with a decision, marks its flags
// agreed or disagreed, and reports whether it did: false when the post has
// no pending item (none, or resolved by someone else first).
func (s *Store) Resolve(ctx context.Context, postID bson.ObjectID, r Resolution, agreed bool) (bool, error) {
	res, err := s.review.UpdateOne(ctx, bson.D{{Key: "_id", Value: postID}, {Key: "status", Value: ItemPending}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: ItemResolved}, {Key: "resolution", Value: r}, {Key: "score", Value: 0}}}})
	if err != nil || res.ModifiedCount == 0 {
		return false, err
	}
	outcome := "DISAGREED"
	if agreed {
		outcome = "AGREED"
	}
	_, err = s.flags.UpdateMany(ctx, bson.D{{Key: "postId", Value: postID}, {Key: "outcome", Value: nil}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "outcome", Value: outcome}}}})
	return true, err
}

// QueueCursor is a position in the queue: after the item with this score and id.
type QueueCursor struct {
	Score int64
	ID    bson.ObjectID
}

// Queue pages a space's items of status, highest score first, after
// after: one range read of IndexReviewQueue.
func (s *Store) Queue(ctx context.Context, spaceID bson.ObjectID, status ItemStatus, after *QueueCursor, limit int) ([]*Item, bool, error) {
	filter := bson.D{{Key: "spaceId", Value: spaceID}, {Key: "status", Value: status}}
	if after != nil {
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "score", Value: bson.D{{Key: "$lt", Value: after.Score}}}},
			bson.D{{Key: "score", Value: after.Score}, {Key: "_id", Value: bson.D{{Key: "$lt", Value: after.ID}}}},
		}})
	}
	return page.Find[*Item](ctx, s.review, filter, options.Find().SetSort(bson.D{{Key: "spaceId", Value: 1}, {Key: "status", Value: 1}, {Key: "score", Value: -1}, {Key: "_id", Value: -1}}), limit)
}

// Flags lists a post's flags, oldest first (at most 100: a queue item shows them).
func (s *Store) Flags(ctx context.Context, postID bson.ObjectID) ([]*Flag, error) {
	cur, err := s.flags.Find(ctx, bson.D{{Key: "postId", Value: postID}}, options.Find().SetSort(bson.D{{Key: "postId", Value: 1}, {Key: "memberId", Value: 1}}).SetLimit(100))
	if err != nil {
		return nil, err
	}
	var out []*Flag
	return out, cur.All(ctx, &out)
}

func byID(id any) bson.D { return bson.D{{Key: "_id", Value: id}} }
