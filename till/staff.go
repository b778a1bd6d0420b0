package till

import (
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/member"
)

// ErrNotStaff refuses till work (fulfilments, coupons) to a caller who is
// neither STAFF nor the brand's backend.
var ErrNotStaff = fault.New(fault.Forbidden, "only STAFF or the brand's backend may work the till")

// Staff is who works the till for p, for fulfilments and coupons: a STAFF
// member (their id) or the brand's backend (the zero id). A BRAND user
// without STAFF gets ErrNotStaff: handing over goods is the store's job,
// and each fulfilment names who did it.
func Staff(p member.Principal) (bson.ObjectID, error) {
	switch {
	case p.Service:
		return bson.ObjectID{}, nil
	case p.Has(member.RoleStaff) && !p.MemberID.IsZero():
		return p.MemberID, nil
	}
	return bson.ObjectID{}, ErrNotStaff
}

// MayReadCard returns nil when p may read member memberID's card (its
// printed code and QR payload): the member themself only, so a code shown
// at the till proves the member is there; ErrNotYourCard for anyone else,
// the brand included.
func MayReadCard(p member.Principal, memberID bson.ObjectID) error {
	if self, err := p.Self(); err != nil || self != memberID {
		return ErrNotYourCard
	}
	return nil
}
