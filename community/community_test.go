package community_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/community"
	"github.com/regulars/regulars/community/feed"
	"github.com/regulars/regulars/community/forum"
	"github.com/regulars/regulars/community/moderation"
	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/internal/testkit"
	"github.com/regulars/regulars/member"
)

func (h *harness) space(t *testing.T, name string, mods ...bson.ObjectID) *forum.Space {
	t.Helper()
	return testkit.Must(h.SaveSpace(context.Background(), brand, bson.ObjectID{}, community.SpaceInput{Name: name, Moderators: mods}))(t)
}

func TestReactionCountsExactUnderRace(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	sp := h.space(t, "Rides")
	_, author := h.member(t, "author")
	_, post := testkit.Must2(h.CreateThread(ctx, author, sp.ID, forum.Text{Title: "Sunday ride", Body: "Who is in?"}))(t)
	ps := make([]member.Principal, 50)
	for i := range ps {
		_, ps[i] = h.member(t, "m")
	}
	// Half of them liked it already.
	for _, p := range ps[:25] {
		testkit.Must(h.React(ctx, p, post.ID, forum.ReactionLike, true))(t)
	}
	// 100 calls at once: each member likes it and takes the like back.
	testkit.Race(t, 100, func(i int) error {
		_, err := h.React(ctx, ps[i%50], post.ID, forum.ReactionLike, i < 50)
		return err
	}).Expect(t)
	docs := testkit.Count(t, h.Forum().Collections().Reactions, bson.D{{Key: "postId", Value: post.ID}, {Key: "reaction", Value: forum.ReactionLike}})
	got := testkit.Must(h.Forum().Posts.Get(ctx, post.ID))(t)
	if got.Reactions[forum.ReactionLike] != docs {
		t.Fatalf("LIKE count %d, but %d members like it", got.Reactions[forum.ReactionLike], docs)
	}
	th := testkit.Must(h.Forum().Threads.Get(ctx, post.ThreadID))(t)
	if th.Score != 1+docs {
		t.Fatalf("thread score %d, want 1 post + %d reactions", th.Score, docs)
	}
	// One of each per member: liking again changes nothing.
	testkit.Must(h.React(ctx, ps[0], post.ID, forum.ReactionLike, true))(t)
	testkit.Must(h.React(ctx, ps[0], post.ID, forum.ReactionLike, true))(t)
	if n := testkit.Count(t, h.Forum().Collections().Reactions, bson.D{{Key: "postId", Value: post.ID}, {Key: "memberId", Value: ps[0].MemberID}}); n != 1 {
		t.Fatalf("%d reactions of one member", n)
	}
}

func TestFlagsHideOncePastThreshold(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	sp := h.space(t, "Rides")
	author, ap := h.member(t, "author")
	_, post := testkit.Must2(h.CreateThread(ctx, ap, sp.ID, forum.Text{Title: "Buy cheap", Body: "spam spam"}))(t)
	ps := make([]member.Principal, 20)
	for i := range ps {
		_, ps[i] = h.member(t, "flagger")
	}
	testkit.Race(t, 20, func(i int) error {
		_, err := h.Moderation().FlagPost(ctx, ps[i], post.ID, moderation.ReasonSpam, "")
		return err
	}).Expect(t)
	got := testkit.Must(h.Forum().Posts.Get(ctx, post.ID))(t)
	if got.Status != forum.PostHidden || got.FlagScore != 40 { // 20 flags of weight 2 (trust MEMBER)
		t.Fatalf("after 20 flags: status %s score %d", got.Status, got.FlagScore)
	}
	if n := testkit.Count(t, h.db.Collection("notifications"), bson.D{{Key: "memberId", Value: author.ID}, {Key: "key", Value: "community:hidden:" + post.ID.Hex()}}); n != 1 {
		t.Fatalf("author told %d times", n)
	}
	if n := testkit.Count(t, h.db.Collection("community_thread_events"), bson.D{{Key: "postId", Value: post.ID}, {Key: "kind", Value: feed.PostHidden}}); n != 1 {
		t.Fatalf("%d hide events", n)
	}
	// Once per member.
	if _, err := h.Moderation().FlagPost(ctx, ps[0], post.ID, moderation.ReasonSpam, ""); !errors.Is(err, moderation.ErrAlreadyFlagged) {
		t.Fatalf("second flag: %v", err)
	}
	// The queue shows it to the space's moderators, without email or points.
	mod, mp := h.member(t, "mod")
	if _, _, err := h.Moderation().ReviewQueue(ctx, mp, sp.ID, "", nil, 10); !errors.Is(err, community.ErrNotModerator) {
		t.Fatalf("a member read the queue: %v", err)
	}
	q, _ := testkit.Must2(h.Moderation().ReviewQueue(ctx, member.Principal{MemberID: mod.ID, Roles: []member.Role{member.RoleModerator}}, sp.ID, "", nil, 10))(t)
	if len(q) != 1 || q[0].Item.Flags != 20 || len(q[0].Flags) != 20 || q[0].Author.DisplayName != "author" {
		t.Fatalf("queue: %+v", q)
	}
}

func TestModeratorsRaceOneWins(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	m1, _ := h.member(t, "mod1")
	m2, _ := h.member(t, "mod2")
	sp := h.space(t, "Rides", m1.ID, m2.ID)
	author, ap := h.member(t, "author")
	th, post := testkit.Must2(h.CreateThread(ctx, ap, sp.ID, forum.Text{Title: "Hello", Body: "first"}))(t)
	reply := testkit.Must(h.Reply(ctx, ap, th.ID, forum.Text{Body: "a reply"}, nil))(t)
	before := testkit.Must(h.game.Rooms().Ledger.Sum(ctx, author.ID))(t)
	mods := []member.Principal{{MemberID: m1.ID}, {MemberID: m2.ID}}
	res := testkit.Race(t, 2, func(i int) error {
		_, err := h.Moderation().ModeratePost(ctx, mods[i], reply.ID, community.ActionDelete, "off-topic")
		return err
	})
	var decided *moderation.Decided
	if res.OK() != 1 || (!errors.As(res[0], &decided) && !errors.As(res[1], &decided)) || decided.Action != "DELETE" {
		t.Fatalf("two moderators at once: %v", res)
	}
	after := testkit.Must(h.game.Rooms().Ledger.Sum(ctx, author.ID))(t)
	if before-after != 2 {
		t.Fatalf("removal took %d points, want the post's 2", before-after)
	}
	if n := testkit.Count(t, h.db.Collection("community_log"), bson.D{{Key: "targetId", Value: reply.ID.Hex()}}); n != 1 {
		t.Fatalf("%d log entries for one removal", n)
	}
	// A moderator of another space has no power here.
	other, _ := h.member(t, "other")
	h.space(t, "Gold lounge", other.ID)
	if _, err := h.Moderation().ModeratePost(ctx, member.Principal{MemberID: other.ID}, post.ID, community.ActionHide, ""); !errors.Is(err, community.ErrNotModerator) {
		t.Fatalf("moderator of B hid a post of A: %v", err)
	}
	if _, err := h.Moderation().ModerateThread(ctx, member.Principal{MemberID: other.ID}, th.ID, community.ActionLock, nil, ""); !errors.Is(err, community.ErrNotModerator) {
		t.Fatalf("moderator of B locked a thread of A: %v", err)
	}
}

func TestSilencedMemberRefusedUntil(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	sp := h.space(t, "Rides")
	m, mp := h.member(t, "loud")
	sn := testkit.Must(h.Moderation().SanctionMember(ctx, brand, m.ID, bson.ObjectID{}, moderation.Silence, 120, "cool down"))(t)
	_, _, err := h.CreateThread(ctx, mp, sp.ID, forum.Text{Title: "t", Body: "b"})
	var s *moderation.Sanctioned
	if !errors.As(err, &s) || fault.CodeOf(err) != fault.Forbidden || !s.Until.Equal(sn.Until) {
		t.Fatalf("silenced member posting: %v", err)
	}
	if n := testkit.Count(t, h.Forum().Collections().Posts, bson.D{{Key: "authorId", Value: m.ID}}); n != 0 {
		t.Fatalf("%d posts stored", n)
	}
	// Reading still works; after the silence, posting too.
	testkit.Must(h.Space(ctx, mp, sp.ID))(t)
	h.clock.Add(2*time.Hour + time.Second)
	testkit.Must2(h.CreateThread(ctx, mp, sp.ID, forum.Text{Title: "t", Body: "b"}))(t)
}

func TestBadInputWritesNothing(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	sp := h.space(t, "Rides")
	_, mp := h.member(t, "ann")
	th, post := testkit.Must2(h.CreateThread(ctx, mp, sp.ID, forum.Text{Title: "ok", Body: "ok"}))(t)
	long := make([]byte, forum.MaxBody+1)
	for i := range long {
		long[i] = 'a'
	}
	for _, c := range []struct {
		body, field string
	}{
		{"", "body"}, {string(long), "body"}, {"<script>alert(1)</script>", "body"},
		{"[click](javascript:alert(1))", "body"}, {"<img src=x onerror=alert(1)>", "body"},
	} {
		_, err := h.Reply(ctx, mp, th.ID, forum.Text{Body: c.body}, nil)
		if in, ok := input.As(err); !ok || in.Field != c.field {
			t.Errorf("body %.20q: %v", c.body, err)
		}
	}
	if _, err := h.React(ctx, mp, post.ID, forum.Reaction("ANGRY"), true); !isField(err, "reaction") {
		t.Errorf("unknown reaction: %v", err)
	}
	if _, err := h.Moderation().FlagPost(ctx, mp, post.ID, moderation.ReasonSpam, ""); !isField(err, "postId") || fault.CodeOf(err) != fault.Invalid {
		t.Errorf("flagging one's own post: %v", err)
	}
	if n := testkit.Count(t, h.Forum().Collections().Posts, bson.D{{Key: "threadId", Value: th.ID}}); n != 1 {
		t.Fatalf("%d posts after refused replies", n)
	}
	// No links before a first purchase.
	if _, err := h.Reply(ctx, mp, th.ID, forum.Text{Body: "see https://example.com"}, nil); !errors.Is(err, community.ErrLinksNotYet) {
		t.Errorf("link before a purchase: %v", err)
	}
}

func isField(err error, field string) bool {
	in, ok := input.As(err)
	return ok && in.Field == field
}

func TestPostsPageStablyAndEditsKeepHistory(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	sp := h.space(t, "Rides")
	_, ann := h.member(t, "ann")
	_, ben := h.member(t, "ben")
	th, first := testkit.Must2(h.CreateThread(ctx, ann, sp.ID, forum.Text{Title: "Route", Body: "north or south?"}))(t)
	for range 5 {
		testkit.Must(h.Reply(ctx, ben, th.ID, forum.Text{Body: "north, @ann"}, nil))(t)
	}
	page, more := testkit.Must2(h.Posts(ctx, ann, th.ID, 0, 4))(t)
	if len(page) != 4 || !more || page[0].ID != first.ID {
		t.Fatalf("first page: %d more=%t", len(page), more)
	}
	testkit.Must(h.Reply(ctx, ben, th.ID, forum.Text{Body: "late"}, nil))(t)
	rest, more := testkit.Must2(h.Posts(ctx, ann, th.ID, page[3].Number, 10))(t)
	if len(rest) != 3 || more || rest[2].Body != "late" {
		t.Fatalf("after the cursor: %d posts", len(rest))
	}
	// Ben's replies told ann once each (replies to her thread mention her
	// too: one notification per cause).
	if n := testkit.Count(t, h.db.Collection("notifications"), bson.D{{Key: "memberId", Value: ann.MemberID}, {Key: "kind", Value: "COMMUNITY"}}); n != 6 {
		t.Fatalf("ann has %d community notifications, want 6", n)
	}
	if _, err := h.EditPost(ctx, ben, first.ID, forum.Text{Body: "mine now"}); !errors.Is(err, forum.ErrNotAuthor) {
		t.Fatalf("editing another's post: %v", err)
	}
	edited := testkit.Must(h.EditPost(ctx, ann, first.ID, forum.Text{Body: "north, final"}))(t)
	if len(edited.History) != 1 || edited.History[0].Body != "north or south?" {
		t.Fatalf("history: %+v", edited.History)
	}
	if community.MaySeeHistory(ann, sp) || !community.MaySeeHistory(member.Principal{MemberID: ann.MemberID, Roles: []member.Role{member.RoleModerator}}, sp) {
		t.Fatal("history shown to the wrong people")
	}
	h.clock.Add(25 * time.Hour)
	if _, err := h.EditPost(ctx, ann, first.ID, forum.Text{Body: "too late"}); !errors.Is(err, forum.ErrEditWindow) {
		t.Fatalf("edit after the window: %v", err)
	}
	threads, _ := testkit.Must2(h.Threads(ctx, ann, sp.ID, forum.OrderActive, nil, 10))(t)
	if len(threads) != 1 || threads[0].Posts != 7 {
		t.Fatalf("threads: %+v", threads)
	}
}

// A post flagged under the space's threshold stays visible and waits in
// the review queue; a moderator's APPROVE keeps it as it is, rejects its
// flags and takes it off the queue, once: of two moderators at once one
// wins and the other is told what was done.
func TestApproveRejectsFlagsOfAVisiblePost(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	m1, _ := h.member(t, "mod1")
	m2, _ := h.member(t, "mod2")
	sp := h.space(t, "Rides", m1.ID, m2.ID)
	_, ap := h.member(t, "author")
	_, post := testkit.Must2(h.CreateThread(ctx, ap, sp.ID, forum.Text{Title: "Sunday ride", Body: "meet at nine"}))(t)
	_, fp := h.member(t, "flagger")
	testkit.Must(h.Moderation().FlagPost(ctx, fp, post.ID, moderation.ReasonSpam, ""))(t)
	mods := []member.Principal{{MemberID: m1.ID}, {MemberID: m2.ID}}
	if q, _ := testkit.Must2(h.Moderation().ReviewQueue(ctx, mods[0], sp.ID, "", nil, 10))(t); len(q) != 1 {
		t.Fatalf("queue before: %d items, want the flagged post", len(q))
	}
	res := testkit.Race(t, 2, func(i int) error {
		_, err := h.Moderation().ModeratePost(ctx, mods[i], post.ID, community.ActionApprove, "")
		return err
	})
	var decided *moderation.Decided
	if res.OK() != 1 || (!errors.As(res[0], &decided) && !errors.As(res[1], &decided)) || decided.Action != "APPROVE" {
		t.Fatalf("two approvals at once: %v", res)
	}
	if got := testkit.Must(h.Forum().Posts.Get(ctx, post.ID))(t); got.Status != forum.PostVisible {
		t.Fatalf("approved post is %s", got.Status)
	}
	if q, _ := testkit.Must2(h.Moderation().ReviewQueue(ctx, mods[0], sp.ID, "", nil, 10))(t); len(q) != 0 {
		t.Fatalf("queue after the approval: %d items", len(q))
	}
	if n := testkit.Count(t, h.db.Collection("community_flags"), bson.D{{Key: "postId", Value: post.ID}, {Key: "outcome", Value: "DISAGREED"}}); n != 1 {
		t.Fatalf("%d flags rejected, want 1", n)
	}
	if n := testkit.Count(t, h.db.Collection("community_log"), bson.D{{Key: "targetId", Value: post.ID.Hex()}, {Key: "action", Value: "APPROVE_POST"}}); n != 1 {
		t.Fatalf("%d log entries for one approval", n)
	}
}

// TestReviewDecisionsRaceOneWins: a flagged, still visible post decided
// from the review queue by two moderators at once, one approving and one
// hiding, gets exactly one decision; the other is told who decided what,
// and nothing of theirs is applied (the post, the item and the log agree).
func TestReviewDecisionsRaceOneWins(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	m1, _ := h.member(t, "Mia")
	m2, _ := h.member(t, "Noor")
	sp := h.space(t, "Rides", m1.ID, m2.ID)
	_, ap := h.member(t, "author")
	_, post := testkit.Must2(h.CreateThread(ctx, ap, sp.ID, forum.Text{Title: "Sunday ride", Body: "meet at nine"}))(t)
	_, fp := h.member(t, "flagger")
	testkit.Must(h.Moderation().FlagPost(ctx, fp, post.ID, moderation.ReasonSpam, ""))(t)
	mods := []member.Principal{{MemberID: m1.ID}, {MemberID: m2.ID}}
	actions := []community.PostAction{community.ActionApprove, community.ActionHide}
	res := testkit.Race(t, 2, func(i int) error {
		_, err := h.Moderation().DecideReview(ctx, mods[i], post.ID, actions[i], "")
		return err
	})
	var decided *moderation.Decided
	if res.OK() != 1 || (!errors.As(res[0], &decided) && !errors.As(res[1], &decided)) || fault.CodeOf(decided) != fault.Conflict {
		t.Fatalf("approve and hide at once: %v", res)
	}
	winner := 0
	if res[0] != nil {
		winner = 1
	}
	if decided.Action != string(actions[winner]) || decided.ByName != []string{"Mia", "Noor"}[winner] {
		t.Fatalf("the loser is told %s by %q, want %s by the winner", decided.Action, decided.ByName, actions[winner])
	}
	want := map[community.PostAction]forum.PostStatus{community.ActionApprove: forum.PostVisible, community.ActionHide: forum.PostHidden}[actions[winner]]
	if got := testkit.Must(h.Forum().Posts.Get(ctx, post.ID))(t); got.Status != want {
		t.Fatalf("after %s won the post is %s, want %s", actions[winner], got.Status, want)
	}
	it := testkit.Must(h.db.Collection("community_review").CountDocuments(ctx, bson.D{{Key: "_id", Value: post.ID}, {Key: "resolution.action", Value: string(actions[winner])}}))(t)
	if it != 1 {
		t.Fatalf("the review item is not resolved by %s", actions[winner])
	}
	if n := testkit.Count(t, h.db.Collection("community_log"), bson.D{{Key: "targetId", Value: post.ID.Hex()}}); n != 1 {
		t.Fatalf("%d log entries for one decision", n)
	}
	// Deciding again from the queue: CONFLICT; a post never flagged: postId.
	if _, err := h.Moderation().DecideReview(ctx, mods[0], post.ID, community.ActionDelete, ""); fault.CodeOf(err) != fault.Conflict {
		t.Fatalf("a decided item decided again: %v", err)
	}
	_, other := testkit.Must2(h.CreateThread(ctx, ap, sp.ID, forum.Text{Title: "Monday ride", Body: "meet at ten"}))(t)
	if _, err := h.Moderation().DecideReview(ctx, mods[0], other.ID, community.ActionHide, ""); !isField(err, "postId") {
		t.Fatalf("a post not in the queue: %v", err)
	}
}
