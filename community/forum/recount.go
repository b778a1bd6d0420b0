package forum

import (
	"context"
	"errors"
	"maps"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// RecountSettle is how long a post's reactions stay untouched before the
// recount reads them: a reaction still between its writes (React marks,
// inserts, counts) is left alone, and instances whose clocks differ by
// less still meet the watermark.
const RecountSettle = time.Minute

// recountBatches bounds one run: at most this many batches, the rest the
// next run.
const recountBatches = 20

// recountJob is the recount's progress in community_jobs: the last post
// read, in IndexPostReactionsAt order.
type recountJob struct {
	ID    string        `bson:"_id"`
	At    time.Time     `bson:"at"`
	After bson.ObjectID `bson:"after"`
}

const recountJobID = "reaction-recount"

// RecountReactions repairs reaction counts a crash left wrong (a reaction
// written and its count not, or the other way round). It reads the posts
// whose reactions changed since its last run and at least RecountSettle
// before now, size a batch in IndexPostReactionsAt order (one range read
// each), counts each post's reaction documents (the truth: unique per
// post, member and reaction) and sets the counts that differ, on the
// condition that no reaction was counted since it read the post (a
// reaction counted meanwhile marks the post again, so the next run sees
// it). Each thread of a batch gets its posts and score recounted the same
// way. Its progress is kept in community_jobs, so a run resumes where the
// last stopped; running twice, or on two instances, changes nothing more.
// It returns the posts it repaired, as they are now.
func (s *Store) RecountReactions(ctx context.Context, now time.Time, size int) ([]*Post, error) {
	var job recountJob
	err := s.jobs.FindOne(ctx, bson.D{{Key: "_id", Value: recountJobID}}).Decode(&job)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return nil, err
	}
	upTo := now.Add(-RecountSettle)
	var repaired []*Post
	for range recountBatches {
		filter := bson.D{{Key: "reactionsAt", Value: bson.D{{Key: "$gte", Value: job.At}, {Key: "$lte", Value: upTo}}}}
		if !job.At.IsZero() {
			filter = append(filter, bson.E{Key: "$or", Value: bson.A{
				bson.D{{Key: "reactionsAt", Value: bson.D{{Key: "$gt", Value: job.At}}}},
				bson.D{{Key: "reactionsAt", Value: job.At}, {Key: "_id", Value: bson.D{{Key: "$gt", Value: job.After}}}},
			}})
		}
		cur, err := s.posts.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "reactionsAt", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(int64(size)).
			SetProjection(bson.D{{Key: "threadId", Value: 1}, {Key: "reactions", Value: 1}, {Key: "reactionsAt", Value: 1}, {Key: "reactionsRev", Value: 1}}))
		if err != nil {
			return repaired, err
		}
		var batch []*Post
		if err := cur.All(ctx, &batch); err != nil {
			return repaired, err
		}
		threads := map[bson.ObjectID]bool{}
		for _, p := range batch {
			fixed, err := s.recountPost(ctx, p)
			if err != nil {
				return repaired, err
			}
			if fixed != nil {
				repaired = append(repaired, fixed)
			}
			threads[p.ThreadID] = true
		}
		for id := range threads {
			if err := s.recountThread(ctx, id); err != nil {
				return repaired, err
			}
		}
		if len(batch) > 0 {
			last := batch[len(batch)-1]
			job = recountJob{ID: recountJobID, At: *last.ReactionsAt, After: last.ID}
			if _, err := s.jobs.ReplaceOne(ctx, bson.D{{Key: "_id", Value: recountJobID}}, job, options.Replace().SetUpsert(true)); err != nil {
				return repaired, err
			}
		}
		if len(batch) < size {
			break
		}
	}
	return repaired, nil
}

// markReactions notes on the post, before a reaction to it is written,
// that its reactions are changing (Post.ReactionsAt, ReactionsRev).
func (s *Store) markReactions(ctx context.Context, p *Post, now time.Time) error {
	_, err := s.posts.UpdateOne(ctx, byID(p.ID), bson.D{{Key: "$set", Value: bson.D{{Key: "reactionsAt", Value: now}}},
		{Key: "$inc", Value: bson.D{{Key: "reactionsRev", Value: 1}}}})
	return err
}

// recountPost sets p's counts to its reaction documents' when they
// differ and no reaction was counted since p was read; it returns the
// post repaired, or nil.
func (s *Store) recountPost(ctx context.Context, p *Post) (*Post, error) {
	cur, err := s.reactions.Aggregate(ctx, mongo.Pipeline{
		{{Key: "$match", Value: bson.D{{Key: "postId", Value: p.ID}}}},
		{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$reaction"}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
	})
	if err != nil {
		return nil, err
	}
	var rows []struct {
		Reaction Reaction `bson:"_id"`
		N        int64    `bson:"n"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return nil, err
	}
	truth := map[Reaction]int64{}
	for _, r := range rows {
		truth[r.Reaction] = r.N
	}
	stored := map[Reaction]int64{}
	for r, n := range p.Reactions {
		if n != 0 {
			stored[r] = n
		}
	}
	if maps.Equal(truth, stored) {
		return nil, nil
	}
	set := bson.D{}
	for _, r := range Reactions {
		set = append(set, bson.E{Key: "reactions." + string(r), Value: truth[r]})
	}
	var out Post
	err = s.posts.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: p.ID}, {Key: "reactionsRev", Value: p.ReactionsRev}}, bson.D{{Key: "$set", Value: set}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&out)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil // counted meanwhile: marked again, the next run sees it
	}
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// recountThread sets a thread's posts and score (posts + reactions) to
// what its posts say, unless a post or reaction was counted on the thread
// while it read them (then the thread is left as it is).
func (s *Store) recountThread(ctx context.Context, id bson.ObjectID) (err error) {
	var t Thread
	if err := s.threads.FindOne(ctx, byID(id)).Decode(&t); errors.Is(err, mongo.ErrNoDocuments) {
		return nil
	} else if err != nil {
		return err
	}
	// One range read of IndexPostNumber, the counts only (a thread of
	// 10,000 posts reads 10,000 small documents; only threads whose posts'
	// reactions changed are read).
	cur, err := s.posts.Find(ctx, bson.D{{Key: "threadId", Value: id}},
		options.Find().SetSort(bson.D{{Key: "threadId", Value: 1}, {Key: "number", Value: 1}}).SetProjection(bson.D{{Key: "reactions", Value: 1}}))
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, cur.Close(ctx)) }()
	var posts, score int64
	for cur.Next(ctx) {
		var p struct {
			Reactions map[Reaction]int64 `bson:"reactions"`
		}
		if err := cur.Decode(&p); err != nil {
			return err
		}
		posts++
		score++
		for _, n := range p.Reactions {
			score += n
		}
	}
	if err := cur.Err(); err != nil {
		return err
	}
	if posts == t.Posts && score == t.Score {
		return nil
	}
	_, err = s.threads.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "posts", Value: t.Posts}, {Key: "score", Value: t.Score}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "posts", Value: posts}, {Key: "score", Value: score}}}})
	return err
}
