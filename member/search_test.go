package member

import (
	"context"
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Members stored before search existed have no nameKey; the next start
// gives them one, so the brand finds them by name.
func TestSearchFindsMembersStoredBeforeIt(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	id := bson.NewObjectID()
	if _, err := s.members.c.InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "email", Value: "old@example.com"},
		{Key: "displayName", Value: "Ólafur Old"}, {Key: "timezone", Value: "UTC"}, {Key: "roles", Value: bson.A{"CUSTOMER"}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	brand := Principal{Service: true, Roles: []Role{RoleBrand}}
	ms, more, err := s.Search(ctx, brand, Search{Text: "ÓLAF"}, bson.ObjectID{}, 10)
	if err != nil || more || len(ms) != 1 || ms[0].ID != id {
		t.Fatalf("search for a member stored before nameKey: %v %v %v", ms, more, err)
	}
	if _, _, err := s.Search(ctx, Principal{MemberID: id, Roles: []Role{RoleCustomer}}, Search{}, bson.ObjectID{}, 10); !errors.Is(err, ErrListBrandOnly) {
		t.Fatalf("a customer searching: %v", err)
	}
}
