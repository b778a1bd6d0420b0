package push

import (
	"context"
	"fmt"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/internal/testkit"
)

// BenchmarkPush: what marking a notification for push adds to storing it
// (the API's side), and how fast the outbox sends to a local fake FCM (one
// member and one Android device per notification; the fake answers at once,
// so this is the outbox's own cost: queueing, claiming, recording).
func BenchmarkPush(b *testing.B) {
	for _, marked := range []bool{false, true} {
		b.Run(fmt.Sprintf("inbox-send/marked=%v", marked), func(b *testing.B) {
			in := inbox.New(testkit.Database(b), inbox.NewMemoryBroker())
			testkit.EnsureIndexes(b, in.EnsureIndexes)
			if marked {
				in.SetPush(Pushable)
			}
			member := bson.NewObjectID()
			b.ResetTimer()
			for i := range b.N {
				if _, err := in.Send(context.Background(), inbox.Message{MemberID: member, Kind: inbox.KindRewardEarned, Title: "t", Body: fmt.Sprint(i)}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("deliver", func(b *testing.B) {
		e := newEnv(b)
		for i := range b.N {
			m := e.members.add("UTC", false)
			e.register(m, PlatformAndroid, fmt.Sprint("fcm:bench-", i))
			e.notify(m, inbox.KindRewardEarned, "Points")
		}
		b.ResetTimer()
		r := e.deliver()
		b.StopTimer()
		if r.Sent != b.N || len(e.fcm.Accepted()) != b.N {
			b.Fatalf("sent %d of %d", r.Sent, b.N)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pushes/s")
	})
}
