package forum

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/regulars/regulars/internal/byid"
	"github.com/regulars/regulars/internal/mongoindex"
	"github.com/regulars/regulars/internal/page"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Posts keeps the posts (community_posts).
type Posts struct {
	posts   *mongo.Collection
	threads *Threads
}

// Get returns a post.
func (s *Posts) Get(ctx context.Context, id bson.ObjectID) (*Post, error) {
	return one[Post](ctx, s.posts, byID(id), ErrPostNotFound)
}

// ByID returns posts in the order of ids, nil where missing.
func (s *Posts) ByID(ctx context.Context, ids []bson.ObjectID) ([]*Post, error) {
	return byid.Find(ctx, s.posts, ids, func(p *Post) bson.ObjectID { return p.ID })
}

// Openings returns the first post (number 1) of each thread, in the
// order of threadIDs, nil where missing: one read of IndexPostNumber.
func (s *Posts) Openings(ctx context.Context, threadIDs []bson.ObjectID) ([]*Post, error) {
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

// Reply stores p as the next post of its thread, unless the thread is
// locked (ErrLocked). Its number is claimed by a unique insert: of
// concurrent replies each gets its own, with no gaps but failures.
func (s *Posts) Reply(ctx context.Context, p *Post) error {
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
		return s.threads.replied(ctx, p.ThreadID, p.CreatedAt)
	}
	return ErrContended
}

// List pages a thread's posts oldest first, numbered after after (0: the
// start): one range read of IndexPostNumber. Cursors are post numbers, so
// they stay put while replies arrive.
func (s *Posts) List(ctx context.Context, threadID bson.ObjectID, after int64, limit int) ([]*Post, bool, error) {
	return page.Find[*Post](ctx, s.posts, bson.D{{Key: "threadId", Value: threadID}, {Key: "number", Value: bson.D{{Key: "$gt", Value: after}}}},
		options.Find().SetSort(bson.D{{Key: "threadId", Value: 1}, {Key: "number", Value: 1}}).SetHint(IndexPostNumber), limit)
}

// Edit replaces the body and images of the author's post, keeping the
// version it replaces in its history, within window of its creation.
func (s *Posts) Edit(ctx context.Context, postID, author bson.ObjectID, t Text, window time.Duration, now time.Time) (*Post, error) {
	p, err := s.Get(ctx, postID)
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
func (s *Posts) DeleteOwn(ctx context.Context, postID, author bson.ObjectID) (*Post, error) {
	var p Post
	err := s.posts.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: postID}, {Key: "authorId", Value: author},
		{Key: "status", Value: bson.D{{Key: "$nin", Value: bson.A{PostDeleted, PostRemoved}}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: PostDeleted}}}}, options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&p)
	if errors.Is(err, mongo.ErrNoDocuments) {
		cur, err := s.Get(ctx, postID)
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

// Moderated is what a moderation change answers when the post or thread
// changed since it was read: the state that won, for the caller to report.
var errStale = errors.New("changed since read")

// ErrStale reports a lost race; the caller reads the target again.
func ErrStale() error { return errStale }

// IsStale reports whether err is a lost moderation race.
func IsStale(err error) bool { return errors.Is(err, errStale) }

// SetStatus moves a post read at revision rev to status, recording
// the action: a single conditional update, so of two moderators acting on
// one post at once exactly one lands; the other gets an IsStale error.
func (s *Posts) SetStatus(ctx context.Context, p *Post, status PostStatus, m Moderation) (*Post, error) {
	var out Post
	err := s.posts.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: p.ID}, {Key: "modRev", Value: p.ModRev}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: status}, {Key: "lastModeration", Value: m}}}, {Key: "$inc", Value: bson.D{{Key: "modRev", Value: 1}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&out)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, errStale
	}
	return &out, err
}

// Approve makes a post read at rev visible and clears its flag score.
func (s *Posts) Approve(ctx context.Context, p *Post, m Moderation) (*Post, error) {
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
func (s *Posts) AddFlagScore(ctx context.Context, postID bson.ObjectID, weight, threshold int64, now time.Time) (p *Post, hidden bool, err error) {
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

// HiddenSince reports whether a post of member was hidden or removed by
// moderation since since (trust: none in the last 30 days); backed by
// IndexPostAuthor.
func (s *Posts) HiddenSince(ctx context.Context, memberID bson.ObjectID, since time.Time) (bool, error) {
	n, err := s.posts.CountDocuments(ctx, bson.D{{Key: "authorId", Value: memberID}, {Key: "createdAt", Value: bson.D{{Key: "$gte", Value: since}}},
		{Key: "status", Value: bson.D{{Key: "$in", Value: bson.A{PostHidden, PostRemoved}}}}}, options.Count().SetLimit(1))
	return n > 0, err
}

// CountSince counts member's posts since since (a member's history for moderators).
func (s *Posts) CountSince(ctx context.Context, memberID bson.ObjectID, since time.Time) (int64, error) {
	return s.posts.CountDocuments(ctx, bson.D{{Key: "authorId", Value: memberID}, {Key: "createdAt", Value: bson.D{{Key: "$gte", Value: since}}}})
}

// ForgetMentions rewrites "@name" as "@former-member" in the posts that
// mention a deleted member (their bodies and earlier versions), so their
// name does not outlive their account. Their own posts stay, shown as from
// a former member (their account's name is erased). Safe to repeat.
func (s *Posts) ForgetMentions(ctx context.Context, memberID bson.ObjectID, name string) error {
	if name == "" {
		return nil
	}
	cur, err := s.posts.Find(ctx, bson.D{{Key: "mentions", Value: memberID}})
	if err != nil {
		return err
	}
	var ps []*Post
	if err := cur.All(ctx, &ps); err != nil {
		return err
	}
	forget := func(body string) string { return strings.ReplaceAll(body, "@"+name, "@former-member") }
	for _, p := range ps {
		set := bson.D{{Key: "body", Value: forget(p.Body)}}
		for i, e := range p.History {
			set = append(set, bson.E{Key: "history." + strconv.Itoa(i) + ".body", Value: forget(e.Body)})
		}
		if _, err := s.posts.UpdateOne(ctx, bson.D{{Key: "_id", Value: p.ID}}, bson.D{{Key: "$set", Value: set}}); err != nil {
			return err
		}
	}
	return nil
}

// markReactions notes on the post, before a reaction to it is written,
// that its reactions are changing (Post.ReactionsAt, ReactionsRev).
func (s *Posts) markReactions(ctx context.Context, p *Post, now time.Time) error {
	_, err := s.posts.UpdateOne(ctx, byID(p.ID), bson.D{{Key: "$set", Value: bson.D{{Key: "reactionsAt", Value: now}}},
		{Key: "$inc", Value: bson.D{{Key: "reactionsRev", Value: 1}}}})
	return err
}

// countReaction moves p's count of reaction r by n, marking it again (a
// count that lands after a recount read the post brings it back to the
// next one).
func (s *Posts) countReaction(ctx context.Context, p *Post, r Reaction, n int64, now time.Time) error {
	_, err := s.posts.UpdateOne(ctx, byID(p.ID), bson.D{{Key: "$inc", Value: bson.D{{Key: "reactions." + string(r), Value: n}, {Key: "reactionsRev", Value: 1}}},
		{Key: "$set", Value: bson.D{{Key: "reactionsAt", Value: now}}}})
	return err
}

// reactionsChanged returns the next size posts whose reactions changed
// after (at, after) and at or before upTo, in IndexPostReactionsAt order.
func (s *Posts) reactionsChanged(ctx context.Context, at time.Time, after bson.ObjectID, upTo time.Time, size int) ([]*Post, error) {
	filter := bson.D{{Key: "reactionsAt", Value: bson.D{{Key: "$gte", Value: at}, {Key: "$lte", Value: upTo}}}}
	if !at.IsZero() {
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "reactionsAt", Value: bson.D{{Key: "$gt", Value: at}}}},
			bson.D{{Key: "reactionsAt", Value: at}, {Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}}},
		}})
	}
	cur, err := s.posts.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "reactionsAt", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(int64(size)).
		SetProjection(bson.D{{Key: "threadId", Value: 1}, {Key: "reactions", Value: 1}, {Key: "reactionsAt", Value: 1}, {Key: "reactionsRev", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var batch []*Post
	if err := cur.All(ctx, &batch); err != nil {
		return nil, err
	}
	return batch, nil
}

// setReactions sets p's reaction counts, on the condition that none was
// counted since p was read (nil, nil otherwise).
func (s *Posts) setReactions(ctx context.Context, p *Post, counts map[Reaction]int64) (*Post, error) {
	set := bson.D{}
	for _, r := range Reactions {
		set = append(set, bson.E{Key: "reactions." + string(r), Value: counts[r]})
	}
	var out Post
	err := s.posts.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: p.ID}, {Key: "reactionsRev", Value: p.ReactionsRev}}, bson.D{{Key: "$set", Value: set}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&out)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil // counted meanwhile: marked again, the next run sees it
	}
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// insertFirst stores p as its thread's first post (number 1).
func (s *Posts) insertFirst(ctx context.Context, p *Post) error {
	p.Number = 1
	_, err := s.posts.InsertOne(ctx, p)
	return err
}

// moveThread moves the posts of thread id to space.
func (s *Posts) moveThread(ctx context.Context, id, space bson.ObjectID) error {
	_, err := s.posts.UpdateMany(ctx, bson.D{{Key: "threadId", Value: id}}, bson.D{{Key: "$set", Value: bson.D{{Key: "spaceId", Value: space}}}})
	return err
}

// tally counts thread id's posts and their score (one per post and per
// reaction), by one read of IndexPostNumber.
func (s *Posts) tally(ctx context.Context, id bson.ObjectID) (posts, score int64, err error) {
	cur, err := s.posts.Find(ctx, bson.D{{Key: "threadId", Value: id}},
		options.Find().SetSort(bson.D{{Key: "threadId", Value: 1}, {Key: "number", Value: 1}}).SetProjection(bson.D{{Key: "reactions", Value: 1}}))
	if err != nil {
		return 0, 0, err
	}
	defer func() { err = errors.Join(err, cur.Close(ctx)) }()
	for cur.Next(ctx) {
		var p struct {
			Reactions map[Reaction]int64 `bson:"reactions"`
		}
		if err := cur.Decode(&p); err != nil {
			return 0, 0, err
		}
		posts++
		score++
		for _, n := range p.Reactions {
			score += n
		}
	}
	return posts, score, cur.Err()
}

func (s *Posts) indexes() mongoindex.Set {
	return mongoindex.Set{C: s.posts, Models: []mongo.IndexModel{
		// A post's number in its thread is claimed by this unique index;
		// a thread's posts page as one range read of it.
		{Keys: bson.D{{Key: "threadId", Value: 1}, {Key: "number", Value: 1}}, Options: options.Index().SetName(IndexPostNumber).SetUnique(true)},
		// A member's recent posts (trust: a post hidden in the last 30 days).
		{Keys: bson.D{{Key: "authorId", Value: 1}, {Key: "createdAt", Value: -1}}, Options: options.Index().SetName(IndexPostAuthor)},
		// Posts whose reactions changed, in the order ReactionStore.Recount
		// reads them.
		{Keys: bson.D{{Key: "reactionsAt", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName(IndexPostReactionsAt).SetSparse(true)},
	}}
}
