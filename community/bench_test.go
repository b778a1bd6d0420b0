package community_test

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/community"
	"github.com/regulars/regulars/community/feed"
	"github.com/regulars/regulars/community/forum"
	"github.com/regulars/regulars/internal/testkit"
)

// BenchmarkThreadPages pages a thread of 10,000 posts, 50 a page, from the
// first to the last: each page is one range read of the thread_number
// index (the query hints it, so it fails where the index is missing).
func BenchmarkThreadPages(b *testing.B) {
	db := testkit.Database(b)
	store := forum.New(db)
	testkit.EnsureIndexes(b, store.EnsureIndexes)
	ctx := context.Background()
	thread, author := bson.NewObjectID(), bson.NewObjectID()
	const posts, pageSize = 10_000, 50
	docs := make([]any, 0, 1000)
	now := time.Now().UTC()
	for i := range posts {
		docs = append(docs, &forum.Post{ID: bson.NewObjectID(), ThreadID: thread, Number: int64(i + 1), AuthorID: author,
			Body: "a reply of a few words, as most are", Status: forum.PostVisible, Reactions: map[forum.Reaction]int64{}, CreatedAt: now})
		if len(docs) == cap(docs) {
			testkit.Must(store.Collections().Posts.InsertMany(ctx, docs))(b)
			docs = docs[:0]
		}
	}
	var lat testkit.Latencies
	b.ResetTimer()
	for range b.N {
		var after int64
		for {
			start := time.Now()
			page, more, err := store.Posts.List(ctx, thread, after, pageSize)
			if err != nil {
				b.Fatal(err)
			}
			lat.Add(time.Since(start))
			after = page[len(page)-1].Number
			if !more {
				break
			}
		}
		if after != posts {
			b.Fatalf("paged to %d of %d", after, posts)
		}
	}
	lat.Report(b, "page-", "pages/s")
}

// BenchmarkThreadFanout measures a new event of a thread reaching 1,000
// live subscribers of it (Feed.Stream, as threadUpdates runs it): the
// time from Publish until the last subscriber has it.
func BenchmarkThreadFanout(b *testing.B) {
	db := testkit.Database(b)
	s := community.New(db, community.Deps{})
	testkit.EnsureIndexes(b, s.EnsureIndexes)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	thread := bson.NewObjectID()
	const subscribers = 1000
	streams := make([]<-chan *feed.Event, subscribers)
	for i := range streams {
		streams[i] = testkit.Must(s.Feed().Stream(ctx, thread, -1))(b)
	}
	var lat testkit.Latencies
	b.ResetTimer()
	for range b.N {
		done := make(chan struct{}, subscribers)
		start := time.Now()
		for _, st := range streams {
			go func() {
				<-st
				done <- struct{}{}
			}()
		}
		if err := s.Feed().Publish(ctx, &feed.Event{ThreadID: thread, Kind: feed.PostCreated, PostID: bson.NewObjectID()}); err != nil {
			b.Fatal(err)
		}
		for range subscribers {
			<-done
		}
		lat.Add(time.Since(start))
	}
	lat.Report(b, "last-subscriber-", "")
}
