package graph

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/member"
)

// tillStaff is who works the till for fulfilments and coupons: a STAFF
// member (their id) or the brand's backend (zero). A BRAND user without
// STAFF is refused: handing over goods is the store's job, and each
// fulfilment names who did it.
func tillStaff(ctx context.Context) (bson.ObjectID, error) {
	p := principal(ctx)
	switch {
	case p.Service:
		return bson.ObjectID{}, nil
	case p.Has(member.RoleStaff) && !p.MemberID.IsZero():
		return p.MemberID, nil
	}
	return bson.ObjectID{}, ErrForbidden
}
