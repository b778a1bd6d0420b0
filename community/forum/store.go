package forum

import (
	"context"
	"errors"

	"github.com/regulars/regulars/internal/mongoindex"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Store keeps the community's content in db: one store per collection,
// each with the indexes its queries read by. A write that moves another
// collection's counts (a reply, a reaction) goes through that collection's
// store.
type Store struct {
	Spaces    *Spaces
	Threads   *Threads
	Posts     *Posts
	Reactions *ReactionStore
	Limits    *Limits
}

// New returns the store over db.
func New(db *mongo.Database) *Store {
	threads := &Threads{threads: db.Collection("community_threads")}
	posts := &Posts{posts: db.Collection("community_posts"), threads: threads}
	threads.posts = posts
	return &Store{
		Spaces:  &Spaces{spaces: db.Collection("community_spaces")},
		Threads: threads, Posts: posts,
		Reactions: &ReactionStore{reactions: db.Collection("community_reactions"), jobs: db.Collection("community_jobs"), posts: posts, threads: threads},
		Limits:    &Limits{limits: db.Collection("community_limits")},
	}
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

// EnsureIndexes creates the indexes the stores' queries rely on.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	return mongoindex.EnsureAll(ctx, s.Threads.indexes(), s.Posts.indexes(), s.Reactions.indexes())
}

// Collections are the store's collections, for tests and benchmarks that
// read invariants back.
type Collections struct{ Threads, Posts, Reactions *mongo.Collection }

// Collections returns the store's collections.
func (s *Store) Collections() Collections {
	return Collections{Threads: s.Threads.threads, Posts: s.Posts.posts, Reactions: s.Reactions.reactions}
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
