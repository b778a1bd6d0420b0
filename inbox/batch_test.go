package inbox

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/internal/testkit"
	"github.com/regulars/regulars/texts"
)

// A batch sends what one Send per message would: each member's next
// number, one notification per cause (a cause stored before or repeated in
// the batch is not stored again), nothing for a member who muted the
// category, and a publication for each new notification.
func TestSendBatchSendsWhatSendWould(t *testing.T) {
	in, b := newInbox(t)
	ctx := context.Background()
	ann, bob, carl, dave := bson.NewObjectID(), bson.NewObjectID(), bson.NewObjectID(), bson.NewObjectID()
	for i := range 2 {
		if _, err := in.Send(ctx, Message{MemberID: ann, Kind: KindSystem, Title: fmt.Sprint("earlier ", i), Body: "b"}); err != nil {
			t.Fatal(err)
		}
	}
	before, err := in.Send(ctx, Message{MemberID: bob, Kind: KindOfferAvailable, Title: "Flash", Body: "10% off", Key: "offer:1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.SetMuted(ctx, carl, []Category{CategoryOffers}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	published := map[bson.ObjectID]int{}
	for _, m := range []bson.ObjectID{ann, bob, carl, dave} {
		stop := b.Subscribe(m, func(Stored) { mu.Lock(); published[m]++; mu.Unlock() })
		defer stop()
	}
	offer := func(m bson.ObjectID) Message {
		return Message{MemberID: m, Kind: KindOfferAvailable, Title: "Flash", Body: "10% off", Key: "offer:1"}
	}
	ns, done, err := in.SendBatch(ctx, []Message{offer(ann), offer(bob), offer(carl), offer(dave), offer(dave)})
	if err != nil || done != 5 {
		t.Fatalf("done %d of 5: %v", done, err)
	}
	if ns[0] == nil || ns[0].Seq != 3 {
		t.Errorf("ann's offer: %+v, want number 3 after her two", ns[0])
	}
	if ns[1] == nil || ns[1].ID != before.ID {
		t.Errorf("bob's offer: %+v, want the one stored before (%s)", ns[1], before.ID.Hex())
	}
	if ns[2] != nil {
		t.Errorf("carl muted offers and was sent %+v", ns[2])
	}
	if ns[3] == nil || ns[4] == nil || ns[3].ID != ns[4].ID || ns[3].Seq != 1 {
		t.Errorf("dave's repeated offer: %+v and %+v, want one notification, number 1", ns[3], ns[4])
	}
	for m, want := range map[bson.ObjectID]int64{ann: 3, bob: 1, carl: 0, dave: 1} {
		if n := testkit.Count(t, in.store.notifications, bson.D{{Key: "memberId", Value: m}}); n != want {
			t.Errorf("member %s holds %d notifications, want %d", m.Hex(), n, want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if published[ann] != 1 || published[bob] != 0 || published[carl] != 0 || published[dave] != 1 {
		t.Errorf("published %v, want one each to ann and dave only", published)
	}
}

// A batch racing single sends to the same members: every member ends with
// both notifications, numbered 1 and 2 without a gap or a repeat, and the
// batch's one stored once however many times the batch runs at once.
func TestSendBatchRacingSends(t *testing.T) {
	in, _ := newInbox(t)
	ctx := context.Background()
	members := make([]bson.ObjectID, 20)
	var batch []Message
	for i := range members {
		members[i] = bson.NewObjectID()
		batch = append(batch, Message{MemberID: members[i], Kind: KindOfferAvailable, Title: "Flash", Body: "b", Key: "offer:1"})
	}
	res := testkit.Race(t, 4, func(i int) error {
		if i%2 == 0 {
			_, done, err := in.SendBatch(ctx, batch)
			if err == nil && done != len(batch) {
				err = fmt.Errorf("done %d of %d", done, len(batch))
			}
			return err
		}
		for _, m := range members {
			if _, err := in.Send(ctx, Message{MemberID: m, Kind: KindSystem, Title: "Hello", Body: "b", Key: fmt.Sprint("hello:", i)}); err != nil {
				return err
			}
		}
		return nil
	})
	res.Expect(t)
	for _, m := range members {
		ns, _, err := in.List(ctx, m, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		var seqs []int64
		for _, n := range ns {
			seqs = append(seqs, n.Seq)
		}
		slices.Sort(seqs)
		if !slices.Equal(seqs, []int64{1, 2, 3}) {
			t.Fatalf("member %s: numbers %v, want 1, 2, 3 (the offer once, two hellos)", m.Hex(), seqs)
		}
	}
}

// A templated message that names no locale is written in its member's
// (Locales), asked once per batch for all its members; one that names a
// locale keeps it.
func TestMessagesWithoutALocaleSpeakTheMembers(t *testing.T) {
	in, _ := newInbox(t)
	ctx := context.Background()
	ann, bob := bson.NewObjectID(), bson.NewObjectID()
	var calls [][]bson.ObjectID
	in.SetLocales(LocalesFunc(func(_ context.Context, ids []bson.ObjectID) ([]string, error) {
		calls = append(calls, ids)
		out := make([]string, len(ids))
		for i, id := range ids {
			if id == bob {
				out[i] = "ru"
			} else {
				out[i] = "en"
			}
		}
		return out, nil
	}))
	reply := func(to bson.ObjectID, key, locale string) Message {
		return Message{MemberID: to, Kind: KindCommunity, Template: texts.CommunityPostHidden, Data: map[string]any{"thread": "Sunday"}, Key: key, Locale: locale}
	}
	ns, done, err := in.SendBatch(ctx, []Message{reply(ann, "a1", ""), reply(bob, "b1", ""), reply(bob, "b2", ""), reply(ann, "a2", "ru")})
	if err != nil || done != 4 {
		t.Fatal(done, err)
	}
	want := []string{"Your post is hidden for review", "Ваше сообщение скрыто до проверки", "Ваше сообщение скрыто до проверки", "Ваше сообщение скрыто до проверки"}
	for i, n := range ns {
		if n.Title != want[i] {
			t.Errorf("message %d: %q, want %q", i, n.Title, want[i])
		}
	}
	if len(calls) != 1 || len(calls[0]) != 2 {
		t.Fatalf("locales asked %v, want once for both members", calls)
	}
	n, err := in.Send(ctx, reply(bob, "b3", ""))
	if err != nil || n.Title != want[1] {
		t.Fatalf("send: %+v %v", n, err)
	}
}
