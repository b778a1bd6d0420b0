package forum

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Moderated is what a moderation change answers when the post or thread
// changed since it was read: the state that won, for the caller to report.
var errStale = errors.New("changed since read")

// ErrStale reports a lost race; the caller reads the target again.
func ErrStale() error { return errStale }

// IsStale reports whether err is a lost moderation race.
func IsStale(err error) bool { return errors.Is(err, errStale) }

// SetPostStatus moves a post read at revision rev to status, recording
// the action: a single conditional update, so of two moderators acting on
// one post at once exactly one lands; the other gets an IsStale error.
func (s *Store) SetPostStatus(ctx context.Context, p *Post, status PostStatus, m Moderation) (*Post, error) {
	var out Post
	err := s.posts.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: p.ID}, {Key: "modRev", Value: p.ModRev}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: status}, {Key: "lastModeration", Value: m}}}, {Key: "$inc", Value: bson.D{{Key: "modRev", Value: 1}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&out)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, errStale
	}
	return &out, err
}

// ApprovePost makes a post read at rev visible and clears its flag score.
func (s *Store) ApprovePost(ctx context.Context, p *Post, m Moderation) (*Post, error) {
	var out Post
	err := s.posts.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: p.ID}, {Key: "modRev", Value: p.ModRev}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: PostVisible}, {Key: "flagScore", Value: 0}, {Key: "lastModeration", Value: m}}},
			{Key: "$inc", Value: bson.D{{Key: "modRev", Value: 1}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&out)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, errStale
	}
	return &out, err
}

// AddFlagScore adds weight to a post's flag score and, if that brings a
// visible post to threshold, hides it. hidden is true for exactly one
// caller however many flag at once: the one whose conditional update moved
// the post from VISIBLE to HIDDEN.
func (s *Store) AddFlagScore(ctx context.Context, postID bson.ObjectID, weight, threshold int64, now time.Time) (p *Post, hidden bool, err error) {
	var out Post
	err = s.posts.FindOneAndUpdate(ctx, byID(postID), bson.D{{Key: "$inc", Value: bson.D{{Key: "flagScore", Value: weight}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&out)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, false, ErrPostNotFound
	}
	if err != nil || out.FlagScore < threshold || out.Status != PostVisible {
		return &out, false, err
	}
	res, err := s.posts.UpdateOne(ctx, bson.D{{Key: "_id", Value: postID}, {Key: "status", Value: PostVisible}, {Key: "flagScore", Value: bson.D{{Key: "$gte", Value: threshold}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: PostHidden}, {Key: "lastModeration", Value: Moderation{Action: "HIDDEN_BY_FLAGS", At: now}}}},
			{Key: "$inc", Value: bson.D{{Key: "modRev", Value: 1}}}})
	if err != nil {
		return nil, false, err
	}
	out.Status = PostHidden
	return &out, res.ModifiedCount == 1, nil
}

// ThreadChange is a moderation change of a thread.
type ThreadChange struct {
	Locked  *bool
	Pinned  *bool
	SpaceID *bson.ObjectID // move
	Removed *bool
}

// ModerateThread applies c to a thread read at revision t.ModRev; IsStale
// when another change landed first. A move moves its posts too.
func (s *Store) ModerateThread(ctx context.Context, t *Thread, c ThreadChange, m Moderation) (*Thread, error) {
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
		if _, err := s.posts.UpdateMany(ctx, bson.D{{Key: "threadId", Value: t.ID}}, bson.D{{Key: "$set", Value: bson.D{{Key: "spaceId", Value: *c.SpaceID}}}}); err != nil {
			return nil, err
		}
	}
	return &out, nil
}

// HiddenSince reports whether a post of member was hidden or removed by
// moderation since since (trust: none in the last 30 days); backed by
// IndexPostAuthor.
func (s *Store) HiddenSince(ctx context.Context, memberID bson.ObjectID, since time.Time) (bool, error) {
	n, err := s.posts.CountDocuments(ctx, bson.D{{Key: "authorId", Value: memberID}, {Key: "createdAt", Value: bson.D{{Key: "$gte", Value: since}}},
		{Key: "status", Value: bson.D{{Key: "$in", Value: bson.A{PostHidden, PostRemoved}}}}}, options.Count().SetLimit(1))
	return n > 0, err
}

// PostsSince counts member's posts since since (a member's history for moderators).
func (s *Store) PostsSince(ctx context.Context, memberID bson.ObjectID, since time.Time) (int64, error) {
	return s.posts.CountDocuments(ctx, bson.D{{Key: "authorId", Value: memberID}, {Key: "createdAt", Value: bson.D{{Key: "$gte", Value: since}}}})
}

// --- limits

// SlowMode claims member's next post in a space: at most one per every
// seconds. The claim is one conditional upsert of the (space, member)
// document: when a post was claimed less than seconds ago the filter
// misses, the upsert's insert collides with the existing document, and
// the caller gets ErrSlowMode.
func (s *Store) SlowMode(ctx context.Context, spaceID, memberID bson.ObjectID, seconds int, now time.Time) error {
	if seconds <= 0 {
		return nil
	}
	return s.claim(ctx, "slow:"+spaceID.Hex()+":"+memberID.Hex(),
		bson.D{{Key: "at", Value: bson.D{{Key: "$lte", Value: now.Add(-time.Duration(seconds) * time.Second)}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "at", Value: now}}}}, ErrSlowMode)
}

// DailyPosts claims one of member's n posts of day (their local date).
func (s *Store) DailyPosts(ctx context.Context, memberID bson.ObjectID, day string, n int) error {
	return s.claim(ctx, "day:"+memberID.Hex()+":"+day,
		bson.D{{Key: "n", Value: bson.D{{Key: "$lt", Value: n}}}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}, ErrDailyPosts)
}

func (s *Store) claim(ctx context.Context, id string, cond, update bson.D, refused error) error {
	_, err := s.limits.UpdateOne(ctx, append(bson.D{{Key: "_id", Value: id}}, cond...), update, options.UpdateOne().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) {
		return refused
	}
	return err
}
