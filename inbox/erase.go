package inbox

import (
	"context"
	"regexp"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// EraseMember deletes a deleted member's notifications (their words may
// hold the member's name) and preferences. Safe to repeat.
func (in *Inbox) EraseMember(ctx context.Context, memberID bson.ObjectID) error {
	if _, err := in.store.notifications.DeleteMany(ctx, bson.D{{Key: "memberId", Value: memberID}}); err != nil {
		return err
	}
	_, err := in.store.prefs.DeleteOne(ctx, bson.D{{Key: "_id", Value: memberID}})
	return err
}

// ForgetName replaces name with replacement in the titles and bodies of
// other members' community notifications ("Ann replied to your thread"),
// once Ann's account is deleted. It scans those notifications: deletions
// are rare.
func (in *Inbox) ForgetName(ctx context.Context, name, replacement string) error {
	if name == "" {
		return nil
	}
	pattern := bson.Regex{Pattern: regexp.QuoteMeta(name)}
	cur, err := in.store.notifications.Find(ctx, bson.D{{Key: "kind", Value: KindCommunity},
		{Key: "$or", Value: bson.A{bson.D{{Key: "title", Value: pattern}}, bson.D{{Key: "body", Value: pattern}}}}})
	if err != nil {
		return err
	}
	var ns []Notification
	if err := cur.All(ctx, &ns); err != nil {
		return err
	}
	for _, n := range ns {
		if _, err := in.store.notifications.UpdateOne(ctx, bson.D{{Key: "_id", Value: n.ID}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "title", Value: strings.ReplaceAll(n.Title, name, replacement)},
				{Key: "body", Value: strings.ReplaceAll(n.Body, name, replacement)}}}}); err != nil {
			return err
		}
	}
	return nil
}
