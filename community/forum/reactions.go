package forum

import (
	"context"
	"errors"
	"maps"
	"time"

	"github.com/regulars/regulars/internal/mongoindex"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// ReactionStore keeps the reactions (community_reactions, one document per
// post, member and reaction), and the posts' and threads' counts of them.
// Its recount's progress is kept in community_jobs.
type ReactionStore struct {
	reactions, jobs *mongo.Collection
	posts           *Posts
	threads         *Threads
}

// --- reactions

type reactionDoc struct {
	PostID   bson.ObjectID `bson:"postId"`
	MemberID bson.ObjectID `bson:"memberId"`
	Reaction Reaction      `bson:"reaction"`
	At       time.Time     `bson:"at"`
}

// Add adds member's reaction to the post, once: the unique document is
// inserted, and only an insert that happened moves the post's count (and
// its thread's score). Reacting again changes nothing. It reports whether
// the reaction was new. The post is marked first (Posts.markReactions), so a
// crash between the insert and the count leaves it to Recount.
func (s *ReactionStore) Add(ctx context.Context, p *Post, memberID bson.ObjectID, r Reaction, now time.Time) (bool, error) {
	if err := s.posts.markReactions(ctx, p, now); err != nil {
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

// Remove takes member's reaction back; only a delete that happened moves
// the count. The post is marked first, as by Add.
func (s *ReactionStore) Remove(ctx context.Context, p *Post, memberID bson.ObjectID, r Reaction, now time.Time) (bool, error) {
	if err := s.posts.markReactions(ctx, p, now); err != nil {
		return false, err
	}
	res, err := s.reactions.DeleteOne(ctx, bson.D{{Key: "postId", Value: p.ID}, {Key: "memberId", Value: memberID}, {Key: "reaction", Value: r}})
	if err != nil || res.DeletedCount == 0 {
		return false, err
	}
	return true, s.count(ctx, p, r, -1, now)
}

func (s *ReactionStore) count(ctx context.Context, p *Post, r Reaction, n int64, now time.Time) error {
	if err := s.posts.countReaction(ctx, p, r, n, now); err != nil {
		return err
	}
	return s.threads.addScore(ctx, p.ThreadID, n)
}

// Mine lists the reactions member gave post.
func (s *ReactionStore) Mine(ctx context.Context, postID, memberID bson.ObjectID) ([]Reaction, error) {
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

// RecountSettle is how long a post's reactions stay untouched before the
// recount reads them: a reaction still between its writes (Add marks,
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

// Recount repairs reaction counts a crash left wrong (a reaction
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
func (s *ReactionStore) Recount(ctx context.Context, now time.Time, size int) ([]*Post, error) {
	var job recountJob
	err := s.jobs.FindOne(ctx, bson.D{{Key: "_id", Value: recountJobID}}).Decode(&job)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return nil, err
	}
	upTo := now.Add(-RecountSettle)
	var repaired []*Post
	for range recountBatches {
		batch, err := s.posts.reactionsChanged(ctx, job.At, job.After, upTo, size)
		if err != nil {
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
			if err := s.threads.recount(ctx, id); err != nil {
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

// recountPost sets p's counts to its reaction documents' when they
// differ and no reaction was counted since p was read; it returns the
// post repaired, or nil.
func (s *ReactionStore) recountPost(ctx context.Context, p *Post) (*Post, error) {
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
	return s.posts.setReactions(ctx, p, truth)
}

// indexes: a reaction is unique per post, member and reaction.
func (s *ReactionStore) indexes() mongoindex.Set {
	return mongoindex.Set{C: s.reactions, Models: []mongo.IndexModel{
		{Keys: bson.D{{Key: "postId", Value: 1}, {Key: "memberId", Value: 1}, {Key: "reaction", Value: 1}}, Options: options.Index().SetName(IndexReaction).SetUnique(true)},
	}}
}
