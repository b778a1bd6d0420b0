package main

import (
	"context"
	"testing"
	"time"

	"github.com/regulars/regulars/graph/relay"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/internal/testkit"
)

// The periodic jobs repair a reaction count a crash left wrong: the count
// is broken on purpose in the database, the jobs run once, and the API
// shows the right count again.
func TestJobsRepairDriftedReactionCounts(t *testing.T) {
	a := startApp(t, nil)
	ann := a.signUp(t, "ann@example.com")
	var space struct{ ID string }
	a.do(t, "ApiKey "+testAPIKey, `mutation { createSpace(input: {name: "Rides"}) { id } }`, nil).decode(t, "createSpace", &space)
	var thread struct{ ID string }
	a.do(t, ann.bearer(), `mutation($s: ID!) { createThread(spaceId: $s, input: {title: "Sunday", body: "Who is in?"}) { id } }`,
		map[string]any{"s": space.ID}).decode(t, "createThread", &thread)
	likes := func() (string, int) {
		var page struct {
			Edges []struct {
				Node struct {
					ID        string
					Reactions []struct {
						Reaction string
						Count    int
					}
				}
			}
		}
		a.do(t, ann.bearer(), `query($t: ID!) { posts(threadId: $t, first: 1) { edges { node { id reactions { reaction count } } } } }`,
			map[string]any{"t": thread.ID}).decode(t, "posts", &page)
		n := 0
		for _, r := range page.Edges[0].Node.Reactions {
			if r.Reaction == "LIKE" {
				n = r.Count
			}
		}
		return page.Edges[0].Node.ID, n
	}
	postID, _ := likes()
	a.do(t, ann.bearer(), `mutation($p: ID!) { react(postId: $p, reaction: LIKE) { id } }`, map[string]any{"p": postID})
	if _, n := likes(); n != 1 {
		t.Fatalf("likes after one like: %d", n)
	}
	// A crash's drift, settled for two minutes.
	id := testkit.Must(relay.DecodeID("Post", "id", postID))(t)
	db := a.mongo.Database(a.Config.MongoDatabase)
	if _, err := db.Collection("community_posts").UpdateOne(context.Background(), bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "reactions.LIKE", Value: 7}, {Key: "reactionsAt", Value: time.Now().Add(-2 * time.Minute)}}}}); err != nil {
		t.Fatal(err)
	}
	if _, n := likes(); n != 7 {
		t.Fatalf("the count was not broken: %d", n)
	}
	a.runJobsOnce(context.Background(), db.Collection("jobs"), func() bool { return true })
	if _, n := likes(); n != 1 {
		t.Fatalf("likes after the jobs ran: %d, want 1", n)
	}
}
