package leaderboard

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// EraseMember removes a deleted member from every board: the trees stop
// counting them and their scores go. Safe to repeat.
func (s *Boards) EraseMember(ctx context.Context, memberID bson.ObjectID) error {
	if err := s.Hide(ctx, memberID, true, time.Now()); err != nil {
		return err
	}
	_, err := s.scores.DeleteMany(ctx, bson.D{{Key: "memberId", Value: memberID}})
	return err
}
