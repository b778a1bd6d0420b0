package reward

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/member"
)

// ErrNotYourMembersRedemptions: a member's redemptions are theirs and the
// brand's to read.
var ErrNotYourMembersRedemptions = fault.New(fault.Forbidden, "only the member and the brand see a member's redemptions")

// RedemptionsOf is Redemptions of memberID as p reads them (the member's
// profile in the console): p must be the member or the brand, else
// ErrNotYourMembersRedemptions.
func (s *Service) RedemptionsOf(ctx context.Context, p member.Principal, memberID, after bson.ObjectID, limit int) ([]*Redemption, bool, error) {
	if p.MemberID != memberID && !p.Has(member.RoleBrand) {
		return nil, false, ErrNotYourMembersRedemptions
	}
	return s.Redemptions(ctx, memberID, after, limit)
}
