package inbox

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// A notification is read by the member it was sent to, nobody else (a
// caller without a member profile included).
func TestNotificationReadableByItsMemberOnly(t *testing.T) {
	ann := bson.NewObjectID()
	n := &Notification{MemberID: ann}
	if !n.ReadableBy(ann) || n.ReadableBy(bson.NewObjectID()) || n.ReadableBy(bson.ObjectID{}) {
		t.Fatal("ReadableBy: the member's own only")
	}
}
