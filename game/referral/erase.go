package referral

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// EraseMember retires a deleted member's referral code (it never matches
// again: retired codes are not of codeLength), forgets the address key
// kept for self-referral checks and keeps them off public leaderboards.
// Who referred whom stays, between anonymous ids. Safe to repeat.
func (s *Service) EraseMember(ctx context.Context, memberID bson.ObjectID) error {
	_, err := s.store.accounts.UpdateOne(ctx, bson.D{{Key: "_id", Value: memberID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "code", Value: "retired-" + memberID.Hex()}, {Key: "emailKey", Value: ""}, {Key: "leaderboardOptOut", Value: true}}}})
	return err
}
