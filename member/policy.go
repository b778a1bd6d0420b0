package member

import (
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/fault"
)

// Who may read which member. The GraphQL layer's @auth lets a caller in
// (deny by default); these rules decide whose data that caller reaches.

var (
	ErrSignInFirst   = fault.New(fault.Unauthenticated, "sign in first: send Authorization: Bearer <accessToken>")
	ErrNoProfile     = fault.New(fault.Forbidden, "this caller is the brand's backend, which has no member profile")
	ErrNotYours      = fault.New(fault.Forbidden, "only the member and the brand may read a member's account")
	ErrListBrandOnly = fault.New(fault.Forbidden, "only the brand may list and search members")
)

// Self returns the member p acts as, for what a member does for themselves
// (their points, notifications, redemptions): the brand's backend has none
// (ErrNoProfile) and an anonymous caller must sign in (ErrSignInFirst).
func (p Principal) Self() (bson.ObjectID, error) {
	if p.MemberID.IsZero() {
		if p.Service {
			return bson.ObjectID{}, ErrNoProfile
		}
		return bson.ObjectID{}, ErrSignInFirst
	}
	return p.MemberID, nil
}

// ManagesMembers reports whether p may read, message and grant roles to
// any member: BRAND users and the brand's backend.
func (p Principal) ManagesMembers() bool { return p.Has(RoleBrand) }

// MayRead reports whether p may read member id's account (profile, points,
// ledger, streak, badges): the member themselves or those who manage members.
func (p Principal) MayRead(id bson.ObjectID) error {
	switch {
	case p.ManagesMembers() || (!p.MemberID.IsZero() && p.MemberID == id):
		return nil
	case !p.Authenticated():
		return ErrSignInFirst
	}
	return ErrNotYours
}
