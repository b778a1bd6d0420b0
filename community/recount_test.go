package community_test

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/community/forum"
	"github.com/regulars/regulars/internal/testkit"
)

// A crash between a reaction and its count leaves the count wrong; the
// recount job finds the post by its recent change, repairs its counts and
// its thread's score from the reaction documents, once, and leaves
// settled posts and posts still changing alone.
func TestRecountRepairsDriftedReactionCounts(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	testkit.RequireIndexes(t, h.Forum().Collections().Posts, forum.IndexPostReactionsAt)
	sp := h.space(t, "Rides")
	_, author := h.member(t, "author")
	_, post := testkit.Must2(h.CreateThread(ctx, author, sp.ID, forum.Text{Title: "Sunday ride", Body: "Who is in?"}))(t)
	_, ann := h.member(t, "ann")
	_, bob := h.member(t, "bob")
	testkit.Must(h.React(ctx, ann, post.ID, forum.ReactionLike, true))(t)
	testkit.Must(h.React(ctx, bob, post.ID, forum.ReactionLike, true))(t)
	testkit.Must(h.React(ctx, bob, post.ID, forum.ReactionFire, true))(t)
	c := h.Forum().Collections()

	// Counts right: the job reads the post and changes nothing.
	h.clock.Add(2 * forum.RecountSettle)
	if n := testkit.Must(h.RecountReactions(ctx))(t); n != 0 {
		t.Fatalf("repaired %d posts whose counts were right", n)
	}

	// Break it as a crash would: Ann's LOVE written and never counted, a
	// FIRE count lost, the thread's score off; the post marked, as React
	// marks it before writing.
	if _, err := c.Reactions.InsertOne(ctx, bson.D{{Key: "postId", Value: post.ID}, {Key: "memberId", Value: ann.MemberID},
		{Key: "reaction", Value: forum.ReactionLove}, {Key: "at", Value: h.clock.Now()}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Posts.UpdateOne(ctx, bson.D{{Key: "_id", Value: post.ID}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "reactions.FIRE", Value: 0}, {Key: "reactionsAt", Value: h.clock.Now()}}}, {Key: "$inc", Value: bson.D{{Key: "reactionsRev", Value: 1}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Threads.UpdateOne(ctx, bson.D{{Key: "_id", Value: post.ThreadID}}, bson.D{{Key: "$set", Value: bson.D{{Key: "score", Value: 40}}}}); err != nil {
		t.Fatal(err)
	}
	// Still settling: left alone.
	if n := testkit.Must(h.RecountReactions(ctx))(t); n != 0 {
		t.Fatalf("repaired %d posts within the settle time", n)
	}
	h.clock.Add(2 * forum.RecountSettle)
	if n := testkit.Must(h.RecountReactions(ctx))(t); n != 1 {
		t.Fatalf("repaired %d posts, want 1", n)
	}
	got := testkit.Must(h.Forum().Posts.Get(ctx, post.ID))(t)
	if r := got.Reactions; r[forum.ReactionLike] != 2 || r[forum.ReactionFire] != 1 || r[forum.ReactionLove] != 1 || r[forum.ReactionLaugh] != 0 {
		t.Fatalf("counts after the recount: %v", r)
	}
	if th := testkit.Must(h.Forum().Threads.Get(ctx, post.ThreadID))(t); th.Score != 1+4 || th.Posts != 1 {
		t.Fatalf("thread after the recount: %d posts, score %d, want 1 and 5", th.Posts, th.Score)
	}
	// Again: nothing more to do; and the reactions work on from the right counts.
	if n := testkit.Must(h.RecountReactions(ctx))(t); n != 0 {
		t.Fatalf("a second run repaired %d", n)
	}
	testkit.Must(h.React(ctx, ann, post.ID, forum.ReactionLike, false))(t)
	if got := testkit.Must(h.Forum().Posts.Get(ctx, post.ID))(t); got.Reactions[forum.ReactionLike] != 1 {
		t.Fatalf("LIKE after an unlike: %d", got.Reactions[forum.ReactionLike])
	}

	// Lost the other way: an unlike deleted and never counted.
	testkit.Must(h.React(ctx, bob, post.ID, forum.ReactionFire, false))(t)
	if _, err := c.Posts.UpdateOne(ctx, bson.D{{Key: "_id", Value: post.ID}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "reactions.FIRE", Value: 1}}}}); err != nil {
		t.Fatal(err)
	}
	h.clock.Add(2 * forum.RecountSettle)
	if n := testkit.Must(h.RecountReactions(ctx))(t); n != 1 {
		t.Fatalf("repaired %d posts after a lost unlike", n)
	}
	if got := testkit.Must(h.Forum().Posts.Get(ctx, post.ID))(t); got.Reactions[forum.ReactionFire] != 0 {
		t.Fatalf("FIRE after the recount: %d", got.Reactions[forum.ReactionFire])
	}
}
