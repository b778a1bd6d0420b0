package inbox

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/internal/testkit"
)

// A client back within linger (a dropped connection, an expired token)
// resuming from the newest number reads nothing from the store, and still
// gets what comes next; one resuming from further back, or after linger,
// reads as before.
func TestResumeFromTheNewestNumberReadsNothing(t *testing.T) {
	db, commands := testkit.CountingDatabase(t)
	b := NewMemoryBroker()
	clock := time.Now()
	b.now = func() time.Time { return clock }
	in := New(db, b)
	testkit.EnsureIndexes(t, in.EnsureIndexes)
	m := bson.NewObjectID()
	send(t, in, m, "one")
	send(t, in, m, "two")

	first, drop := context.WithCancel(t.Context())
	stream := testkit.Must(in.Stream(first, m, -1, nil))(t)
	three := send(t, in, m, "three")
	if n := recv(t, stream); n.ID != three.ID {
		t.Fatalf("got %d %q", n.Seq, n.Title)
	}
	drop()
	testkit.Eventually(t, 5*time.Second, func() bool { return b.Subscribers(m) == 0 }, "the dropped stream is still subscribed")

	commands()
	backCtx, dropBack := context.WithCancel(t.Context())
	back := testkit.Must(in.Stream(backCtx, m, three.Seq, nil))(t)
	four := &Notification{ID: bson.NewObjectID(), MemberID: m, Seq: three.Seq + 1, Kind: KindSystem, Title: "four"}
	b.Publish(m, four.Seq, four)
	if n := recv(t, back); n != four {
		t.Fatalf("got %d %q, want the publication after the cursor", n.Seq, n.Title)
	}
	time.Sleep(300 * time.Millisecond) // a replay would read right after delivering it
	if n := commands(); n != 0 {
		t.Errorf("resuming from the newest number sent %d commands, want none", n)
	}

	// From further back: the store is read for what the client missed.
	behindCtx, dropBehind := context.WithCancel(t.Context())
	behind := testkit.Must(in.Stream(behindCtx, m, three.Seq-1, nil))(t)
	if n := recv(t, behind); n.ID != three.ID {
		t.Fatalf("resuming from behind got %d %q, want three", n.Seq, n.Title)
	}
	dropBehind()

	// Past linger with no subscriber the broker knows nothing: a resume
	// reads the store again.
	dropBack()
	testkit.Eventually(t, 5*time.Second, func() bool { return b.Subscribers(m) == 0 }, "the streams are still subscribed")
	clock = clock.Add(2*linger + time.Second)
	b.Subscribe(bson.NewObjectID(), func(Stored) {})() // a subscription sweeps
	if _, ok := b.Newest(m); ok {
		t.Fatal("the newest number outlived linger")
	}
	commands()
	testkit.Must(in.Stream(t.Context(), m, three.Seq, nil))(t)
	testkit.Eventually(t, 5*time.Second, func() bool { return commands() > 0 }, "a resume past linger read nothing")
}

// A member whose client dropped is still polled for while it lingers: a
// notification another instance stores meanwhile is replayed when the
// client resumes from the number it had.
func TestResumeAfterAnotherInstanceStoredMeanwhile(t *testing.T) {
	db := testkit.Database(t)
	a := New(db, NewMemoryBroker())
	testkit.EnsureIndexes(t, a.EnsureIndexes)
	pb := NewPollBroker(db, 50*time.Millisecond)
	go pb.Run(t.Context())
	b := New(db, pb)
	m := bson.NewObjectID()
	first := send(t, a, m, "first")
	ctx, drop := context.WithCancel(t.Context())
	testkit.Must(b.Stream(ctx, m, -1, nil))(t)
	if seq, ok := pb.Newest(m); !ok || seq != first.Seq {
		t.Fatalf("Newest = %d, %v after the stream's read; want %d", seq, ok, first.Seq)
	}
	drop()
	testkit.Eventually(t, 5*time.Second, func() bool { return pb.Subscribers(m) == 0 }, "the dropped stream is still subscribed")
	meanwhile := send(t, a, m, "stored on A while the client was away")
	testkit.Eventually(t, 5*time.Second, func() bool { seq, _ := pb.Newest(m); return seq == meanwhile.Seq }, "B's poll did not hear of A's notification")
	back := testkit.Must(b.Stream(t.Context(), m, first.Seq, nil))(t)
	if n := recv(t, back); n.ID != meanwhile.ID {
		t.Fatalf("got %d %q, want the notification stored meanwhile", n.Seq, n.Title)
	}
}
