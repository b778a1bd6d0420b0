package inbox

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/testkit"
)

func newInbox(t *testing.T) (*Inbox, *MemoryBroker) {
	t.Helper()
	b := NewMemoryBroker()
	in := New(testkit.Database(t), b)
	testkit.EnsureIndexes(t, in.EnsureIndexes)
	return in, b
}

func TestIndexesExist(t *testing.T) {
	in, _ := newInbox(t)
	testkit.RequireIndexes(t, in.store.notifications, indexMemberSeq, indexMemberKey, indexMemberUnread, indexCreatedAt, indexReadAt, indexExpiresAt, indexPushPending)
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

// One cause, one notification: 50 concurrent sends with one key store and
// deliver exactly one, and every caller is told of that one.
func TestSendWithKeyIsIdempotentUnderRace(t *testing.T) {
	in, _ := newInbox(t)
	member := bson.NewObjectID()
	stream, err := in.Stream(t.Context(), member, -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	const callers = 50
	ids := make([]bson.ObjectID, callers)
	res := testkit.Race(t, callers, func(i int) error {
		n, err := in.Send(context.Background(), Message{MemberID: member, Kind: KindWelcome, Title: "Welcome", Body: "b", Key: "welcome"})
		if err == nil {
			ids[i] = n.ID
		}
		return err
	})
	res.Expect(t)
	if res.OK() != callers {
		t.Fatalf("%d of %d sends succeeded", res.OK(), callers)
	}
	for i, id := range ids {
		if id != ids[0] {
			t.Fatalf("two notifications for one key: %s and %s (caller %d)", ids[0].Hex(), id.Hex(), i)
		}
	}
	if n := testkit.Count(t, in.store.notifications, bson.D{{Key: "memberId", Value: member}}); n != 1 {
		t.Fatalf("stored %d notifications, want 1", n)
	}
	// A later marker: anything delivered before it is a duplicate.
	marker := send(t, in, member, "marker")
	if n := recv(t, stream); n.ID != ids[0] {
		t.Fatalf("first delivery %q, want the welcome", n.Title)
	}
	if n := recv(t, stream); n.ID != marker.ID {
		t.Fatalf("delivered %q again before the marker", n.Title)
	}
}

// Sequences stay unique and gapless when 50 sends race for one member.
func TestSequenceUniqueUnderRace(t *testing.T) {
	in, _ := newInbox(t)
	member := bson.NewObjectID()
	const callers = 50
	res := testkit.Race(t, callers, func(i int) error {
		_, err := in.Send(context.Background(), Message{MemberID: member, Kind: KindSystem, Title: fmt.Sprint(i), Body: "b"})
		return err
	})
	res.Expect(t)
	if res.OK() != callers {
		t.Fatalf("%d of %d sends succeeded", res.OK(), callers)
	}
	ns, _, err := in.List(context.Background(), member, 0, 100)
	if err != nil || len(ns) != callers {
		t.Fatalf("listed %d, %v", len(ns), err)
	}
	for i, n := range ns {
		if n.Seq != int64(callers-i) {
			t.Fatalf("newest first, position %d holds seq %d, want %d: a gap or a repeat", i, n.Seq, callers-i)
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
		} else if in, ok := input.As(err); !ok || in.Field == "" {
			t.Errorf("want an input error naming a field, got %v", err)
		}
	}
	if n := testkit.Count(t, in.store.notifications, nil); n != 0 {
		t.Fatalf("refused messages were stored: %d", n)
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

// sendAll sends titles to m in order; for goroutines, which must not call
// t.Fatal.
func sendAll(in *Inbox, m bson.ObjectID, titles ...string) error {
	for _, title := range titles {
		if _, err := in.Send(context.Background(), Message{MemberID: m, Kind: KindSystem, Title: title, Body: "b"}); err != nil {
			return fmt.Errorf("send %q: %w", title, err)
		}
	}
	return nil
}

// expectMarker sends a marker notification to m through in and fails unless
// it is the next thing c delivers: nothing else was pending, proven by an
// event, not by a quiet window.
func expectMarker(t *testing.T, in *Inbox, m bson.ObjectID, c <-chan *Notification) {
	t.Helper()
	marker := send(t, in, m, "marker")
	if n := recv(t, c); n.ID != marker.ID {
		t.Fatalf("extra notification %d %q before the marker", n.Seq, n.Title)
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
	stream, err := in.Stream(ctx, m, first.Seq, nil)
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for i := 5; i < 30; i++ {
		titles = append(titles, fmt.Sprint(i))
	}
	sent := make(chan error, 1)
	go func() { sent <- sendAll(in, m, titles...) }()
	for want := 1; want < 30; want++ {
		if n := recv(t, stream); n.Title != fmt.Sprint(want) {
			t.Fatalf("got %q, want %d: a gap or a duplicate", n.Title, want)
		}
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	expectMarker(t, in, m, stream)
}

// A stream that stops reading while a burst arrives from several senders
// overflows its subscription; it then reads the store and still delivers
// every notification once, in order.
func TestLaggingStreamCatchesUpFromTheStore(t *testing.T) {
	in, _ := newInbox(t)
	m := bson.NewObjectID()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := in.Stream(ctx, m, -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	const senders, each = 4, 15
	res := testkit.Race(t, senders, func(s int) error {
		var titles []string
		for i := range each {
			titles = append(titles, fmt.Sprint(s, "-", i))
		}
		return sendAll(in, m, titles...)
	}) // nothing read meanwhile: far more than the subscription holds
	res.Expect(t)
	seen := map[bson.ObjectID]bool{}
	for want := int64(1); want <= senders*each; want++ {
		n := recv(t, stream)
		if n.Seq != want || seen[n.ID] {
			t.Fatalf("got seq %d (%q), want %d: a gap, a duplicate or out of order", n.Seq, n.Title, want)
		}
		seen[n.ID] = true
	}
	expectMarker(t, in, m, stream)
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
	stream, err := in.Stream(ctx, m, first.Seq, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Publish(m, first.Seq, first) // a repeat: nothing to deliver
	live := &Notification{ID: bson.NewObjectID(), MemberID: m, Seq: first.Seq + 1, Kind: KindSystem, Title: "published only"}
	b.Publish(m, live.Seq, live)
	if n := recv(t, stream); n != live {
		t.Fatalf("got %+v, want the published notification", n)
	}
	marker := &Notification{ID: bson.NewObjectID(), MemberID: m, Seq: live.Seq + 1, Kind: KindSystem, Title: "marker"}
	b.Publish(m, marker.Seq, marker)
	if n := recv(t, stream); n != marker {
		t.Fatalf("got %+v before the marker", n)
	}
}

// twoInstances returns inbox a and, on another inbox over the same
// database told by a running PollBroker, a live stream of member m.
func twoInstances(t *testing.T, poll time.Duration, configure func(*PollBroker)) (a *Inbox, m bson.ObjectID, stream <-chan *Notification) {
	t.Helper()
	db := testkit.Database(t)
	a = New(db, NewMemoryBroker())
	testkit.EnsureIndexes(t, a.EnsureIndexes)
	pb := NewPollBroker(db, poll)
	if configure != nil {
		configure(pb)
	}
	go pb.Run(t.Context())
	m = bson.NewObjectID()
	stream, err := New(db, pb).Stream(t.Context(), m, -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a, m, stream
}

// Two instances sharing a database: a notification stored through one
// reaches a stream on the other, once. (How fast: BenchmarkCrossInstance
// in server.)
func TestPollBrokerCrossesInstances(t *testing.T) {
	a, m, stream := twoInstances(t, 100*time.Millisecond, nil)
	sent := send(t, a, m, "from A")
	if n := recv(t, stream); n.ID != sent.ID {
		t.Fatalf("got %+v", n)
	}
	expectMarker(t, a, m, stream)
}

// An insert that became visible long after its createdAt (a stalled write,
// a failover) is older than what each poll re-reads; the periodic sweep
// still brings it to the stream on the other instance.
func TestPollBrokerSweepFindsLateInserts(t *testing.T) {
	a, m, stream := twoInstances(t, 50*time.Millisecond, func(pb *PollBroker) {
		pb.sweepEvery, pb.sweepWindow = 500*time.Millisecond, time.Minute
	})
	// An ordinary notification crossing shows the polls are running.
	if sent, n := send(t, a, m, "ordinary"), recv(t, stream); n.ID != sent.ID {
		t.Fatalf("got %+v", n)
	}
	late := Notification{ID: bson.NewObjectID(), MemberID: m, Seq: 2, Kind: KindSystem, Title: "late", Body: "b",
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
	// Four senders that mark some of theirs read and one marking all read,
	// released together.
	res := testkit.Race(t, 5, func(i int) error {
		if i == 4 {
			for range 3 {
				if err := in.MarkAllRead(ctx, m); err != nil {
					return err
				}
			}
			return nil
		}
		for j := range 8 {
			n, err := in.Send(ctx, Message{MemberID: m, Kind: KindSystem, Title: fmt.Sprint(i, "-", j), Body: "b"})
			if err != nil {
				return err
			}
			if j%3 == 0 {
				if err := in.MarkRead(ctx, m, []bson.ObjectID{n.ID}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	res.Expect(t)
	count, err := in.UnreadCount(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	unreadStored := testkit.Count(t, in.store.notifications, bson.D{{Key: "memberId", Value: m}, {Key: "readAt", Value: nil}})
	ns, _, err := in.List(ctx, m, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var unread int64
	for _, n := range ns {
		if n.ReadAt == nil {
			unread++
		}
	}
	if count != unread || count != unreadStored || len(ns) != 32 {
		t.Fatalf("unread count %d, unread in the inbox %d (of %d), unread stored %d", count, unread, len(ns), unreadStored)
	}
	if err := in.MarkAllRead(ctx, m); err != nil {
		t.Fatal(err)
	}
	if c := testkit.Must(in.UnreadCount(ctx, m))(t); c != 0 {
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
	if c := testkit.Must(in.UnreadCount(ctx, ann))(t); c != 1 {
		t.Fatalf("a refused call marked something: %d unread", c)
	}
	if c := testkit.Must(in.UnreadCount(ctx, bob))(t); c != 1 {
		t.Fatalf("bob's notification changed: %d unread", c)
	}
	if err := in.Delete(ctx, ann, []bson.ObjectID{mine.ID}); err != nil {
		t.Fatal(err)
	}
	if n := testkit.Count(t, in.store.notifications, bson.D{{Key: "memberId", Value: ann}}); n != 0 {
		t.Fatalf("deleted notification still stored: %d", n)
	}
}

func TestMutedExpiredAndCleanup(t *testing.T) {
	in, _ := newInbox(t)
	clock := testkit.NewClock(time.Now())
	in.SetClock(clock.Now)
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
	soon := clock.Now().Add(time.Hour)
	if _, err := in.Send(ctx, Message{MemberID: m, Kind: KindSystem, Title: "flash", Body: "b", ExpiresAt: &soon}); err != nil {
		t.Fatal(err)
	}
	clock.Add(2 * time.Hour)
	ns, _, err := in.List(ctx, m, 0, 10)
	if err != nil || len(ns) != 1 || ns[0].Title != "points" {
		t.Fatalf("expired notification still shown: %+v %v", ns, err)
	}
	if err := in.MarkAllRead(ctx, m); err != nil {
		t.Fatal(err)
	}
	clock.Add(100 * 24 * time.Hour)
	if n, err := in.Cleanup(ctx, 0); err != nil || n != 2 {
		t.Fatalf("cleanup removed %d (%v), want the read one and the expired one", n, err)
	}
}

// A Fresh send (insert first, key read only on a collision) keeps one
// cause to one notification: 50 racing sends of one key, half of them
// Fresh, store and deliver one, every caller is told of it, and a Fresh
// send of a key already stored returns that notification.
func TestFreshSendWithKeyIsIdempotentUnderRace(t *testing.T) {
	in, _ := newInbox(t)
	member := bson.NewObjectID()
	stream, err := in.Stream(t.Context(), member, -1, nil)
	if err != nil {
		t.Fatal(err)
	}
	const callers = 50
	ids := make([]bson.ObjectID, callers)
	res := testkit.Race(t, callers, func(i int) error {
		n, err := in.Send(context.Background(), Message{MemberID: member, Kind: KindWelcome, Title: "Welcome", Body: "b", Key: "welcome", Fresh: i%2 == 0})
		if err == nil {
			ids[i] = n.ID
		}
		return err
	})
	res.Expect(t)
	for i, id := range ids {
		if id != ids[0] {
			t.Fatalf("two notifications for one key: %s and %s (caller %d)", ids[0].Hex(), id.Hex(), i)
		}
	}
	again, err := in.Send(context.Background(), Message{MemberID: member, Kind: KindWelcome, Title: "Welcome", Body: "b", Key: "welcome", Fresh: true})
	if err != nil || again.ID != ids[0] {
		t.Fatalf("a fresh send of a stored key: %v, %v; want the stored one", again, err)
	}
	if n := testkit.Count(t, in.store.notifications, bson.D{{Key: "memberId", Value: member}}); n != 1 {
		t.Fatalf("stored %d notifications, want 1", n)
	}
	marker := send(t, in, member, "marker")
	if n := recv(t, stream); n.ID != ids[0] {
		t.Fatalf("first delivery %q, want the welcome", n.Title)
	}
	if n := recv(t, stream); n.ID != marker.ID {
		t.Fatalf("delivered %q again before the marker", n.Title)
	}
}
