package inbox

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// SetPush marks pushable kinds in the insert itself; a keyed repeat marks
// nothing again, and PushDone clears the mark once.
func TestPushPendingMark(t *testing.T) {
	in, _ := newInbox(t)
	in.SetPush(func(k Kind) bool { return k != KindWelcome })
	ctx := context.Background()
	member := bson.NewObjectID()
	send := func(k Kind, key string) *Notification {
		n, err := in.Send(ctx, Message{MemberID: member, Kind: k, Title: "t", Body: "b", Key: key})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	welcome := send(KindWelcome, "w")
	reward := send(KindRewardEarned, "r")
	if welcome.PushPending || !reward.PushPending {
		t.Fatalf("marks: welcome %v, reward %v", welcome.PushPending, reward.PushPending)
	}
	pending, err := in.PushPending(ctx, bson.ObjectID{}, 10)
	if err != nil || len(pending) != 1 || pending[0].ID != reward.ID {
		t.Fatalf("pending = %v, %v", pending, err)
	}
	if err := in.PushDone(ctx, reward.ID); err != nil {
		t.Fatal(err)
	}
	if again := send(KindRewardEarned, "r"); again.ID != reward.ID {
		t.Fatal("a keyed repeat stored another notification")
	}
	if pending, err := in.PushPending(ctx, bson.ObjectID{}, 10); err != nil || len(pending) != 0 {
		t.Fatalf("after PushDone and a keyed repeat: %d pending (%v)", len(pending), err)
	}
}
