package game

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/regulars/regulars/game/engagement"
	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/testkit"
)

// 50 posts at once by one member earn no more than the daily cap, each
// counts once toward POSTS_CREATED, and removing one takes back exactly
// its points, once.
func TestCommunityPostsCappedAndReversedOnce(t *testing.T) {
	h := newHarness(t, func(p *program.Program) { p.CommunityPostPoints, p.CommunityDailyPointCap = 3, 20 })
	ctx := context.Background()
	ann := h.members.add("ann@example.com")
	posts := make([]bson.ObjectID, 50)
	for i := range posts {
		posts[i] = bson.NewObjectID()
	}
	testkit.Race(t, 50, func(i int) error {
		_, err := h.Economy().RecordPost(ctx, ann.ID, posts[i], h.clock.Now())
		return err
	}).Expect(t)
	st, _, err := h.ledger.Head(ctx, ann.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Balance != 20 {
		t.Fatalf("balance after 50 posts under a cap of 20: %d", st.Balance)
	}
	if err := h.ledger.Verify(ctx, ann.ID); err != nil {
		t.Fatal(err)
	}
	var head struct {
		State engagement.State `bson:"state"`
	}
	if err := h.db.Collection("engagement").FindOne(ctx, bson.D{{Key: "memberId", Value: ann.ID}},
		options.FindOne().SetSort(bson.D{{Key: "memberId", Value: 1}, {Key: "seq", Value: -1}})).Decode(&head); err != nil {
		t.Fatal(err)
	}
	if n := head.State.Counters[string(engagement.CounterPostsCreated)]; n != 50 {
		t.Fatalf("POSTS_CREATED = %d, want 50", n)
	}
	// A replay changes nothing.
	if res := testkit.Must(h.Economy().RecordPost(ctx, ann.ID, posts[0], h.clock.Now()))(t); !res.Replayed {
		t.Fatal("a post recorded twice was not a replay")
	}
	// Find a post that earned, and one the cap left at zero.
	var earning, capped bson.ObjectID
	var earned int64
	for _, id := range posts {
		a := testkit.Must(h.acts.ByExternalID(ctx, program.ActivityCommunityPost, id.Hex()))(t)
		e := testkit.Must(h.ledger.ByKey(ctx, ann.ID, "act:"+a.ID.Hex()))(t)
		if e.Amount > 0 && earning.IsZero() {
			earning, earned = id, e.Amount
		}
		if e.Amount == 0 && capped.IsZero() {
			capped = id
		}
	}
	testkit.Race(t, 10, func(int) error {
		_, err := h.Economy().ReversePost(ctx, ann.ID, earning, "spam")
		return err
	}).Expect(t)
	if e := testkit.Must(h.Economy().ReversePost(ctx, ann.ID, capped, "spam"))(t); e != nil {
		t.Fatalf("a post that earned nothing was reversed: %+v", e)
	}
	if st, _, err = h.ledger.Head(ctx, ann.ID); err != nil {
		t.Fatal(err)
	}
	if st.Balance != 20-earned {
		t.Fatalf("balance after removing a post that earned %d: %d, want %d", earned, st.Balance, 20-earned)
	}
	if n := testkit.Count(t, h.ledger.Collection(), bson.D{{Key: "memberId", Value: ann.ID}, {Key: "source.kind", Value: ledger.SourcePost}}); n != 1 {
		t.Fatalf("%d reversal entries, want 1", n)
	}
	// The brand cannot report a community post itself.
	_, err = h.RecordActivity(ctx, ActivityInput{MemberID: ann.ID, Kind: program.ActivityCommunityPost, ExternalID: "x", OccurredAt: h.clock.Now()})
	if in, ok := input.As(err); !ok || in.Field != "kind" {
		t.Fatalf("COMMUNITY_POST through RecordActivity: %v", err)
	}
}
