package member

import (
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestWhoMayReadWhichMember(t *testing.T) {
	ann, bob := bson.NewObjectID(), bson.NewObjectID()
	for _, c := range []struct {
		name string
		p    Principal
		want error
	}{
		{"the member", Principal{MemberID: ann, Roles: []Role{RoleCustomer}}, nil},
		{"another member", Principal{MemberID: bob, Roles: []Role{RoleCustomer}}, ErrNotYours},
		{"a moderator", Principal{MemberID: bob, Roles: []Role{RoleCustomer, RoleModerator}}, ErrNotYours},
		{"BRAND", Principal{MemberID: bob, Roles: []Role{RoleCustomer, RoleBrand}}, nil},
		{"the brand's backend", Principal{Service: true}, nil},
		{"anonymous", Principal{}, ErrSignInFirst},
	} {
		if err := c.p.MayRead(ann); !errors.Is(err, c.want) || (c.want == nil && err != nil) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := (Principal{Service: true}).Self(); !errors.Is(err, ErrNoProfile) {
		t.Errorf("backend self: %v", err)
	}
	if id, err := (Principal{MemberID: ann}).Self(); err != nil || id != ann {
		t.Errorf("member self: %v %v", id, err)
	}
}
