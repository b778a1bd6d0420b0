package graph

import (
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/member"
)

// Every root field must declare who may call it. A field added without
// @public or @auth fails here before it can ship.
func TestEveryRootFieldDeclaresAccess(t *testing.T) {
	schema := Schema()
	for _, root := range []*ast.Definition{schema.Query, schema.Mutation, schema.Subscription} {
		if root == nil {
			continue
		}
		for _, f := range root.Fields {
			if len(f.Name) > 1 && f.Name[:2] == "__" {
				continue
			}
			public, auth := f.Directives.ForName("public") != nil, f.Directives.ForName("auth") != nil
			if public == auth {
				t.Errorf("%s.%s must declare exactly one of @public and @auth", root.Name, f.Name)
			}
		}
	}
}

func TestAllowed(t *testing.T) {
	field := func(directives ...*ast.Directive) *ast.FieldDefinition {
		return &ast.FieldDefinition{Name: "f", Directives: directives}
	}
	brandOnly := &ast.Directive{Name: "auth", Arguments: ast.ArgumentList{{
		Name: "roles", Value: &ast.Value{Kind: ast.ListValue, Children: ast.ChildValueList{{Value: &ast.Value{Raw: "BRAND", Kind: ast.EnumValue}}}},
	}}}
	anyone := member.Principal{}
	customer := member.Principal{MemberID: bson.NewObjectID(), Roles: []member.Role{member.RoleCustomer}}
	brand := member.Principal{MemberID: bson.NewObjectID(), Roles: []member.Role{member.RoleCustomer, member.RoleBrand}}
	service := member.Principal{Service: true}

	cases := []struct {
		name string
		p    member.Principal
		def  *ast.FieldDefinition
		want error
	}{
		{"undeclared field refused even to BRAND", brand, field(), ErrForbidden},
		{"public to anyone", anyone, field(&ast.Directive{Name: "public"}), nil},
		{"auth needs a caller", anyone, field(&ast.Directive{Name: "auth"}), ErrUnauthenticated},
		{"auth lets a customer in", customer, field(&ast.Directive{Name: "auth"}), nil},
		{"BRAND field refuses a customer", customer, field(brandOnly), ErrForbidden},
		{"BRAND field lets BRAND in", brand, field(brandOnly), nil},
		{"the brand's backend counts as BRAND", service, field(brandOnly), nil},
	}
	for _, c := range cases {
		if got := allowed(c.p, c.def); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

// STAFF works the till and the door: it may identify members, fulfil
// reward codes and coupons, and check in attendees, and nothing else a
// member may not. A field opened to STAFF without being listed here fails.
func TestStaffMayOnlyWorkTheTillAndTheDoor(t *testing.T) {
	want := []string{"Mutation.checkInAttendee", "Mutation.fulfillRedemption", "Mutation.redeemCoupon", "Query.doorEvents", "Query.identifyMember"}
	schema := Schema()
	var got []string
	for _, root := range []*ast.Definition{schema.Query, schema.Mutation, schema.Subscription} {
		for _, f := range root.Fields {
			if auth := f.Directives.ForName("auth"); auth != nil && slices.Contains(requiredRoles(auth), member.RoleStaff) {
				got = append(got, root.Name+"."+f.Name)
			}
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("fields open to STAFF: %v, want %v", got, want)
	}
	staff := member.Principal{MemberID: bson.NewObjectID(), Roles: []member.Role{member.RoleCustomer, member.RoleStaff}}
	for _, name := range want {
		root, field, _ := strings.Cut(name, ".")
		if err := allowed(staff, schema.Types[root].Fields.ForName(field)); err != nil {
			t.Errorf("STAFF refused %s: %v", name, err)
		}
	}
	for _, name := range []string{"member", "members", "program"} {
		if err := allowed(staff, schema.Query.Fields.ForName(name)); err != ErrForbidden {
			t.Errorf("STAFF let into Query.%s (%v)", name, err)
		}
	}
	for _, name := range []string{"recordActivity", "adjustPoints", "cancelRedemption", "grantRole", "createReward"} {
		if err := allowed(staff, schema.Mutation.Fields.ForName(name)); err != ErrForbidden {
			t.Errorf("STAFF let into Mutation.%s (%v)", name, err)
		}
	}
}
