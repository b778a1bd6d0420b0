package forum

import (
	"context"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// ForgetMentions rewrites "@name" as "@former-member" in the posts that
// mention a deleted member (their bodies and earlier versions), so their
// name does not outlive their account. Their own posts stay, shown as from
// a former member (their account's name is erased). Safe to repeat.
func (s *Store) ForgetMentions(ctx context.Context, memberID bson.ObjectID, name string) error {
	if name == "" {
		return nil
	}
	cur, err := s.posts.Find(ctx, bson.D{{Key: "mentions", Value: memberID}})
	if err != nil {
		return err
	}
	var ps []*Post
	if err := cur.All(ctx, &ps); err != nil {
		return err
	}
	forget := func(body string) string { return strings.ReplaceAll(body, "@"+name, "@former-member") }
	for _, p := range ps {
		set := bson.D{{Key: "body", Value: forget(p.Body)}}
		for i, e := range p.History {
			set = append(set, bson.E{Key: "history." + strconv.Itoa(i) + ".body", Value: forget(e.Body)})
		}
		if _, err := s.posts.UpdateOne(ctx, bson.D{{Key: "_id", Value: p.ID}}, bson.D{{Key: "$set", Value: set}}); err != nil {
			return err
		}
	}
	return nil
}
