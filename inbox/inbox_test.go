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
	mongotest.RequireIndexes(t, in.store.notifications, indexMemberSeq, indexMemberKey, indexMemberUnread, indexCreatedAt, indexReadAt, indexExpiresAt)
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
	in, _ := newInbox(t)
	member := bson.NewObjectID()
	stream, err := in.Stream(context.Background(), member, -1)
	if err != nil {
		t.Fatal(err)
	}

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
		case <-stream:
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

func send(t *testing.T, in *Inbox, m bson.ObjectID, title string) *Notification {
	t.Helper()
	n, err := in.Send(context.Background(), Message{MemberID: m, Kind: KindSystem, Title: title, Body: "b"})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// expectNothingMore fails if the stream delivers anything else soon.
func expectNothingMore(t *testing.T, c <-chan *Notification) {
	t.Helper()
	select {
	case n := <-c:
		t.Fatalf("extra notification %d %q", n.Seq, n.Title)
	case <-time.After(200 * time.Millisecond):
	}
}

func recv(t *testing.T, c <-chan *Notification) *Notification {
	t.Helper()
	select {
	case n := <-c:
		return n
	case <-time.After(5 * time.Second):
		t.Fatal("nothing received")
		return nil
	}
}

// A stream replays what came after the cursor, then goes live, with no gap
// and no duplicate at the seam, even while notifications keep arriving.
func TestStreamReplaysThenGoesLiveWithoutGapOrDuplicate(t *testing.T) {
	in, _ := newInbox(t)
	m := bson.NewObjectID()
	first := send(t, in, m, "0")
	for i := 1; i < 5; i++ {
		send(t, in, m, fmt.Sprint(i))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := in.Stream(ctx, m, first.Seq)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 5; i < 30; i++ {
			send(t, in, m, fmt.Sprint(i))
		}
	})
	for want := 1; want < 30; want++ {
		if n := recv(t, stream); n.Title != fmt.Sprint(want) {
			t.Fatalf("got %q, want %d: a gap or a duplicate", n.Title, want)
		}
	}
	wg.Wait()
	expectNothingMore(t, stream)
}

// A stream that stops reading while a burst arrives from several senders
// overflows its subscription; it then reads the store and still delivers
// every notification once, in order.
func TestLaggingStreamCatchesUpFromTheStore(t *testing.T) {
	in, _ := newInbox(t)
	m := bson.NewObjectID()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := in.Stream(ctx, m, -1)
	if err != nil {
		t.Fatal(err)
	}
	const senders, each = 4, 15
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for i := range each {
				send(t, in, m, fmt.Sprint(s, "-", i))
			}
		})
	}
	wg.Wait() // nothing read meanwhile: far more than the subscription holds
	seen := map[bson.ObjectID]bool{}
	for want := int64(1); want <= senders*each; want++ {
		n := recv(t, stream)
		if n.Seq != want || seen[n.ID] {
			t.Fatalf("got seq %d (%q), want %d: a gap, a duplicate or out of order", n.Seq, n.Title, want)
		}
		seen[n.ID] = true
	}
	expectNothingMore(t, stream)
}

// An up-to-date stream delivers a published notification as it comes,
// without reading the store (the one here was never stored), and skips a
// number it has already delivered.
func TestUpToDateStreamDeliversPublicationWithoutRead(t *testing.T) {
	in, b := newInbox(t)
	m := bson.NewObjectID()
	first := send(t, in, m, "stored")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := in.Stream(ctx, m, first.Seq)
	if err != nil {
		t.Fatal(err)
	}
	b.Publish(m, first.Seq, first) // a repeat: nothing to deliver
	live := &Notification{ID: bson.NewObjectID(), MemberID: m, Seq: first.Seq + 1, Kind: KindSystem, Title: "published only"}
	b.Publish(m, live.Seq, live)
	if n := recv(t, stream); n != live {
		t.Fatalf("got %+v, want the published notification", n)
	}
	expectNothingMore(t, stream)
}

// twoInstances returns inbox a and, on another inbox over the same
// database told by a running PollBroker, a live stream of member m.
func twoInstances(t *testing.T, poll time.Duration, configure func(*PollBroker)) (a *Inbox, m bson.ObjectID, stream <-chan *Notification) {
	t.Helper()
	db := mongotest.Database(t)
	a = New(db, NewMemoryBroker())
	if err := a.EnsureIndexes(t.Context()); err != nil {
		t.Fatal(err)
	}
	pb := NewPollBroker(db, poll)
	if configure != nil {
		configure(pb)
	}
	go pb.Run(t.Context())
	m = bson.NewObjectID()
	stream, err := New(db, pb).Stream(t.Context(), m, -1)
	if err != nil {
		t.Fatal(err)
	}
	return a, m, stream
}

// Two instances sharing a database: a notification stored through one
// reaches a stream on the other.
func TestPollBrokerCrossesInstances(t *testing.T) {
	a, m, stream := twoInstances(t, 100*time.Millisecond, nil)
	start := time.Now()
	sent := send(t, a, m, "from A")
	if n := recv(t, stream); n.ID != sent.ID {
		t.Fatalf("got %+v", n)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %s to cross instances", d)
	}
}

// An insert that became visible long after its createdAt (a stalled write,
// a failover) is older than what each poll re-reads; the periodic sweep
// still brings it to the stream on the other instance.
func TestPollBrokerSweepFindsLateInserts(t *testing.T) {
	a, m, stream := twoInstances(t, 50*time.Millisecond, func(pb *PollBroker) {
		pb.sweepEvery, pb.sweepWindow = 500*time.Millisecond, time.Minute
	})
	time.Sleep(200 * time.Millisecond) // a few ordinary polls go by
	late := Notification{ID: bson.NewObjectID(), MemberID: m, Seq: 1, Kind: KindSystem, Title: "late", Body: "b",
		Key: "late", CreatedAt: time.Now().Add(-10 * pollOverlap)}
	if _, err := a.store.notifications.InsertOne(t.Context(), late); err != nil {
		t.Fatal(err)
	}
	if n := recv(t, stream); n.ID != late.ID {
		t.Fatalf("got %+v", n)
	}
}

// Marks and new notifications race; the unread count always equals the
// unread notifications in the inbox.
func TestUnreadCountNeverDrifts(t *testing.T) {
	in, _ := newInbox(t)
	ctx := context.Background()
	m := bson.NewObjectID()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 8 {
				n := send(t, in, m, fmt.Sprint(i, "-", j))
				if j%3 == 0 {
					if err := in.MarkRead(ctx, m, []bson.ObjectID{n.ID}); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Go(func() {
		for range 3 {
			if err := in.MarkAllRead(ctx, m); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
	count, err := in.UnreadCount(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	ns, _, _ := in.List(ctx, m, 0, 100)
	var unread int64
	for _, n := range ns {
		if n.ReadAt == nil {
			unread++
		}
	}
	if count != unread || len(ns) != 32 {
		t.Fatalf("unread count %d, unread in the inbox %d (of %d)", count, unread, len(ns))
	}
	if err := in.MarkAllRead(ctx, m); err != nil {
		t.Fatal(err)
	}
	if c, _ := in.UnreadCount(ctx, m); c != 0 {
		t.Fatalf("after mark all: %d", c)
	}
}

func TestMarkOrDeleteAnotherMembersNotificationRefused(t *testing.T) {
	in, _ := newInbox(t)
	ctx := context.Background()
	ann, bob := bson.NewObjectID(), bson.NewObjectID()
	mine, theirs := send(t, in, ann, "ann"), send(t, in, bob, "bob")
	for _, op := range []func(context.Context, bson.ObjectID, []bson.ObjectID) error{in.MarkRead, in.Delete} {
		if err := op(ctx, ann, []bson.ObjectID{mine.ID, theirs.ID}); err == nil {
			t.Fatal("another member's notification accepted")
		}
	}
	if c, _ := in.UnreadCount(ctx, ann); c != 1 {
		t.Fatalf("a refused call marked something: %d unread", c)
	}
	if c, _ := in.UnreadCount(ctx, bob); c != 1 {
		t.Fatalf("bob's notification changed: %d unread", c)
	}
	if err := in.Delete(ctx, ann, []bson.ObjectID{mine.ID}); err != nil {
		t.Fatal(err)
	}
	if ns, _, _ := in.List(ctx, ann, 0, 10); len(ns) != 0 {
		t.Fatalf("deleted notification still listed: %d", len(ns))
	}
}

func TestMutedExpiredAndCleanup(t *testing.T) {
	in, _ := newInbox(t)
	ctx := context.Background()
	m := bson.NewObjectID()
	if _, err := in.SetMuted(ctx, m, []Category{CategoryOffers}); err != nil {
		t.Fatal(err)
	}
	if _, err := in.SetMuted(ctx, m, []Category{"GOSSIP"}); err == nil {
		t.Fatal("unknown category accepted")
	}
	if _, err := in.Send(ctx, Message{MemberID: m, Kind: KindOfferAvailable, Title: "20% off", Body: "b"}); err != ErrMuted {
		t.Fatalf("muted offer: %v", err)
	}
	if _, err := in.Send(ctx, Message{MemberID: m, Kind: KindRewardEarned, Title: "points", Body: "b"}); err != nil {
		t.Fatalf("transactional kinds always go through: %v", err)
	}
	soon := time.Now().Add(time.Hour)
	if _, err := in.Send(ctx, Message{MemberID: m, Kind: KindSystem, Title: "flash", Body: "b", ExpiresAt: &soon}); err != nil {
		t.Fatal(err)
	}
	in.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	ns, _, _ := in.List(ctx, m, 0, 10)
	if len(ns) != 1 || ns[0].Title != "points" {
		t.Fatalf("expired notification still shown: %+v", ns)
	}
	if err := in.MarkAllRead(ctx, m); err != nil {
		t.Fatal(err)
	}
	in.now = func() time.Time { return time.Now().Add(100 * 24 * time.Hour) }
	if n, err := in.Cleanup(ctx, 0); err != nil || n != 2 {
		t.Fatalf("cleanup removed %d (%v), want the read one and the expired one", n, err)
	}
}
