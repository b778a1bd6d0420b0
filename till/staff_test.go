package till

import (
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/member"
)

// A member's card is theirs alone: not another member's, not door staff's,
// not the brand's nor its backend's.
func TestOnlyTheMemberReadsTheirCard(t *testing.T) {
	ann := bson.NewObjectID()
	if err := MayReadCard(member.Principal{MemberID: ann, Roles: []member.Role{member.RoleCustomer}}, ann); err != nil {
		t.Fatalf("the member: %v", err)
	}
	for who, p := range map[string]member.Principal{
		"another member": {MemberID: bson.NewObjectID()},
		"STAFF":          {MemberID: bson.NewObjectID(), Roles: []member.Role{member.RoleStaff}},
		"BRAND":          {MemberID: bson.NewObjectID(), Roles: []member.Role{member.RoleBrand}},
		"the backend":    {Service: true},
		"anonymous":      {},
	} {
		if err := MayReadCard(p, ann); !errors.Is(err, ErrNotYourCard) {
			t.Errorf("%s: %v", who, err)
		}
	}
}
