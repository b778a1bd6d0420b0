package inbox

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/mongotest"
)

func newInbox(t *testing.T) (*Inbox, *MemoryBroker) {
	t.Helper()
	b := NewMemoryBroker()
	in := New(mongotest.Database(t), b)
	if err := in.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	return in, b
}

func TestIndexesExist(t *testing.T) {
	in, _ := newInbox(t)
	mongotest.RequireIndexes(t, in.store.notifications, indexMemberSeq, indexMemberKey)
}

func TestSendListAndPage(t *testing.T) {
	in, _ := newInbox(t)
	ctx := context.Background()
	member, other := bson.NewObjectID(), bson.NewObjectID()
	for i := range 5 {
		if _, err := in.Send(ctx, Message{MemberID: member, Kind: KindSystem, Title: fmt.Sprint("n", i), Body: "b"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := in.Send(ctx, Message{MemberID: other, Kind: KindSystem, Title: "other", Body: "b"}); err != nil {
		t.Fatal(err)
	}
	page1, more, err := in.List(ctx, member, 0, 3)
	if err != nil || !more || len(page1) != 3 || page1[0].Title != "n4" || page1[2].Title != "n2" {
		t.Fatalf("page 1: %v more=%v %v", titles(page1), more, err)
	}
	page2, more, err := in.List(ctx, member, page1[2].Seq, 3)
	if err != nil || more || len(page2) != 2 || page2[0].Title != "n1" || page2[1].Title != "n0" {
		t.Fatalf("page 2: %v more=%v %v", titles(page2), more, err)
	}
}

func titles(ns []*Notification) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Title)
	}
	return out
}

// One cause, one notification: concurrent sends with one key store and
// deliver exactly one.
func TestSendWithKeyIsIdempotentUnderRace(t *testing.T) {
	in, b := newInbox(t)
	member := bson.NewObjectID()
	sub := b.Subscribe(member)
	defer sub.Close()

	ids := make(chan bson.ObjectID, 30)
	var wg sync.WaitGroup
	for range 30 {
		wg.Go(func() {
			n, err := in.Send(context.Background(), Message{MemberID: member, Kind: KindWelcome, Title: "Welcome", Body: "b", Key: "welcome"})
			if err != nil {
				t.Error(err)
				return
			}
			ids <- n.ID
		})
	}
	wg.Wait()
	close(ids)
	var first bson.ObjectID
	for id := range ids {
		if first.IsZero() {
			first = id
		} else if id != first {
			t.Fatalf("two notifications for one key: %s and %s", first.Hex(), id.Hex())
		}
	}
	ns, _, _ := in.List(context.Background(), member, 0, 10)
	if len(ns) != 1 {
		t.Fatalf("stored %d notifications, want 1", len(ns))
	}
	delivered := 0
	for done := false; !done; {
		select {
		case <-sub.C:
			delivered++
		case <-time.After(100 * time.Millisecond):
			done = true
		}
	}
	if delivered != 1 {
		t.Fatalf("delivered %d times, want once", delivered)
	}
}

// Sequences stay unique and increasing when many sends race for one member.
func TestSequenceUniqueUnderRace(t *testing.T) {
	in, _ := newInbox(t)
	member := bson.NewObjectID()
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			if _, err := in.Send(context.Background(), Message{MemberID: member, Kind: KindSystem, Title: fmt.Sprint(i), Body: "b"}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	ns, _, err := in.List(context.Background(), member, 0, 100)
	if err != nil || len(ns) != 40 {
		t.Fatalf("listed %d, %v", len(ns), err)
	}
	for i := 1; i < len(ns); i++ {
		if ns[i].Seq >= ns[i-1].Seq {
			t.Fatalf("sequence not strictly decreasing newest first at %d: %d then %d", i, ns[i-1].Seq, ns[i].Seq)
		}
	}
}

func TestSendRefusesBadMessages(t *testing.T) {
	in, _ := newInbox(t)
	member := bson.NewObjectID()
	for _, m := range []Message{
		{MemberID: member, Title: "  ", Body: "b"},
		{MemberID: member, Title: "t", Body: strings.Repeat("b", MaxBody+1)},
	} {
		if _, err := in.Send(context.Background(), m); err == nil {
			t.Errorf("accepted %+v", m)
		} else if _, ok := input.As(err); !ok {
			t.Errorf("want an input error, got %v", err)
		}
	}
	if ns, _, _ := in.List(context.Background(), member, 0, 10); len(ns) != 0 {
		t.Fatalf("refused messages were stored: %d", len(ns))
	}
}

func TestBrokerDropsSlowSubscriberOnly(t *testing.T) {
	b := NewMemoryBroker()
	member := bson.NewObjectID()
	slow, fast := b.Subscribe(member), b.Subscribe(member)
	defer fast.Close()
	received := 0
	for i := range subscriberBuffer + 10 {
		b.Publish(&Notification{MemberID: member, Seq: int64(i)})
		<-fast.C
		received++
	}
	if received != subscriberBuffer+10 {
		t.Fatalf("fast subscriber got %d", received)
	}
	n := 0
	for range slow.C {
		n++
	}
	if n != subscriberBuffer {
		t.Fatalf("slow subscriber kept %d before it was dropped, want %d", n, subscriberBuffer)
	}
	slow.Close() // closing twice is harmless
	if b.Subscribers(member) != 1 {
		t.Fatalf("subscribers = %d, want the fast one", b.Subscribers(member))
	}
}
