package main

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/regulars/regulars/community"
	"github.com/regulars/regulars/game"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/internal/livepoll"
	"github.com/regulars/regulars/member"
)

// newCommunity wires the community to the game (its Economy), the members
// and the inbox.
func newCommunity(db *mongo.Database, members *member.Service, g *game.Service, in *inbox.Inbox, queue *livepoll.Signals) *community.Service {
	return community.New(db, community.Deps{Economy: economy{g}, Members: members, Notify: in, QueueChanged: queue.Signal})
}

// economy is the game as the community sees it (community.Economy).
type economy struct{ g *game.Service }

func (e economy) Program(ctx context.Context) (program.Program, error) {
	return e.g.Rooms().Program.Get(ctx)
}

func (e economy) Standing(ctx context.Context, id bson.ObjectID) (community.Standing, error) {
	st, err := e.g.Economy().CommunityStanding(ctx, id)
	return community.Standing(st), err
}

func (e economy) RecordPost(ctx context.Context, memberID, postID bson.ObjectID, at time.Time) error {
	_, err := e.g.Economy().RecordPost(ctx, memberID, postID, at)
	return err
}

func (e economy) ReversePost(ctx context.Context, memberID, postID bson.ObjectID, reason string) error {
	_, err := e.g.Economy().ReversePost(ctx, memberID, postID, reason)
	return err
}
