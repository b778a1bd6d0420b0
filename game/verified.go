package game

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/game/reward"
)

// ErrEmailNotVerified refuses a redemption while the program requires a
// verified email address (program.RequireVerifiedEmailToRedeem).
var ErrEmailNotVerified = fault.New(fault.Forbidden, "verify your email address before redeeming rewards: requestEmailVerification sends the link")

// Redeem redeems a reward for a member (reward.Service.Redeem), first
// checking that their email is verified when the program requires it.
func (s *Service) Redeem(ctx context.Context, memberID, rewardID bson.ObjectID, idempotencyKey string) (*reward.Redemption, error) {
	p, err := s.program.Get(ctx)
	if err != nil {
		return nil, err
	}
	if p.RequireVerifiedEmailToRedeem {
		m, err := s.members.Get(ctx, memberID)
		if err != nil {
			return nil, err
		}
		if !m.EmailVerified() {
			return nil, ErrEmailNotVerified
		}
	}
	return s.rewards.Redeem(ctx, memberID, rewardID, idempotencyKey)
}
