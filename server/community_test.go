package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/regulars/regulars/graph/relay"

	"github.com/fasthttp/websocket"

	"github.com/regulars/regulars/internal/testkit"
)

// A thread end to end: the brand opens a space, members post over HTTP, a
// subscriber of the thread sees the reply live over the socket, and a
// silenced member is refused with FORBIDDEN and the silence's end, over
// HTTP and over the socket.
func TestCommunityEndToEnd(t *testing.T) {
	a := startApp(t, nil)
	brand := "ApiKey " + testAPIKey
	ann := a.signUp(t, "ann@example.com")
	ben := a.signUp(t, "ben@example.com")

	var space struct{ ID string }
	a.do(t, brand, `mutation { createSpace(input: {name: "Rides", description: "Sunday rides"}) { id } }`, nil).decode(t, "createSpace", &space)
	var thread struct{ ID string }
	a.do(t, ann.bearer(), `mutation($s: ID!) { createThread(spaceId: $s, input: {title: "Sunday", body: "**Who** is in?"}) { id } }`,
		map[string]any{"s": space.ID}).decode(t, "createThread", &thread)

	c := a.dialWith(t, websocket.Dialer{})
	c.Init(ben.bearer())
	c.Send("subscribe", "t", map[string]any{"query": `subscription($t: ID!) { threadUpdates(threadId: $t) { cursor kind post { number body author { displayName } } } }`,
		"variables": map[string]any{"t": thread.ID}})
	threadID := testkit.Must(relay.DecodeID("Thread", "id", thread.ID))(t)
	testkit.Eventually(t, 5*time.Second, func() bool { return a.community.Feed().Subscribers(threadID) == 1 }, "no live thread subscriber")

	a.do(t, ann.bearer(), `mutation($t: ID!) { reply(threadId: $t, input: {body: "me, and _you_?"}) { number } }`, map[string]any{"t": thread.ID})
	m := c.Expect("next")
	var ev struct {
		Data struct {
			ThreadUpdates struct {
				Kind string
				Post struct {
					Number int
					Body   string
				}
			}
		}
	}
	if err := json.Unmarshal(m.Payload, &ev); err != nil || ev.Data.ThreadUpdates.Kind != "POST_CREATED" || ev.Data.ThreadUpdates.Post.Number != 2 {
		t.Fatalf("thread update: %s %v", m.Payload, err)
	}

	// Posts page oldest first; the markup is stored as text.
	r := a.do(t, ben.bearer(), `query($t: ID!) { posts(threadId: $t, first: 10) { edges { node { number body reactions { reaction count } } } } }`, map[string]any{"t": thread.ID})
	if !strings.Contains(string(r.Data["posts"]), `"body":"**Who** is in?"`) {
		t.Fatalf("posts: %s %v", r.Data["posts"], r.Errors)
	}

	var sanction struct{ Until string }
	a.do(t, brand, `mutation($m: ID!) { sanctionMember(memberId: $m, kind: SILENCE, durationMinutes: 60, reason: "cool down") { until } }`,
		map[string]any{"m": ben.Member.ID}).decode(t, "sanctionMember", &sanction)
	reply := `mutation($t: ID!) { reply(threadId: $t, input: {body: "let me speak"}) { id } }`
	r = a.do(t, ben.bearer(), reply, map[string]any{"t": thread.ID})
	if r.code() != "FORBIDDEN" || r.Errors[0].Extensions["until"] == nil {
		t.Fatalf("silenced reply over HTTP: %+v", r.Errors)
	}
	c.Send("subscribe", "r", map[string]any{"query": reply, "variables": map[string]any{"t": thread.ID}})
	m = c.Expect("next")
	if !strings.Contains(string(m.Payload), `"code":"FORBIDDEN"`) || !strings.Contains(string(m.Payload), `"until"`) {
		t.Fatalf("silenced reply over the socket: %s", m.Payload)
	}
}

// Watched words through the API: the brand and moderators keep the list, a
// member may not; a BLOCK word refuses a post naming the field and the
// word, writing nothing; a REQUIRE_APPROVAL word holds the post (its words
// hidden from other members) until a moderator approves it from the
// review queue. A moderator never reads a member's email; a member
// silenced in one space sees it in myCommunitySanctions.
func TestCommunityWatchedWordsAndModerator(t *testing.T) {
	a := startApp(t, nil)
	ann := a.signUp(t, "ann@example.com")
	ben := a.signUp(t, "ben@example.com")
	mo := a.signUp(t, "mo@example.com")
	a.service(t, `mutation($id: ID!) { grantRole(memberId: $id, role: MODERATOR) { roles } }`, map[string]any{"id": mo.Member.ID}).decode(t, "grantRole", &struct{}{})
	a.do(t, "", `mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }`, map[string]any{"t": mo.RefreshToken}).decode(t, "refreshToken", &mo)

	const watch = `mutation($w: String!, $a: WordAction!) { watchWord(word: $w, action: $a) { id word action } }`
	if r := a.do(t, ann.bearer(), watch, map[string]any{"w": "spam", "a": "BLOCK"}); r.code() != "FORBIDDEN" {
		t.Fatalf("a member watching a word: %+v", r.Errors)
	}
	var blockWord struct{ ID, Word string }
	a.do(t, mo.bearer(), watch, map[string]any{"w": "Crypto Deal", "a": "BLOCK"}).decode(t, "watchWord", &blockWord)
	a.service(t, watch, map[string]any{"w": "giveaway", "a": "REQUIRE_APPROVAL"}).decode(t, "watchWord", &struct{}{})
	var words []struct{ Word, Action string }
	a.do(t, mo.bearer(), `{ watchedWords { word action } }`, nil).decode(t, "watchedWords", &words)
	if len(words) != 2 || words[0].Word != "crypto deal" || words[1].Action != "REQUIRE_APPROVAL" {
		t.Fatalf("watched words: %+v", words)
	}

	var space, thread struct{ ID string }
	a.service(t, createSpaceMutation, map[string]any{"in": map[string]any{"name": "Rides"}}).decode(t, "createSpace", &space)
	a.do(t, ann.bearer(), createThreadMutation, map[string]any{"s": space.ID, "in": map[string]any{"title": "Sunday", "body": "Who is in?"}}).decode(t, "createThread", &thread)
	const reply = `mutation($t: ID!, $b: String!) { reply(threadId: $t, input: {body: $b}) { id status body } }`
	r := a.do(t, ann.bearer(), reply, map[string]any{"t": thread.ID, "b": "Best CRYPTO deal today"})
	if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "body" || !strings.Contains(r.Errors[0].Message, `"crypto deal"`) {
		t.Fatalf("a blocked word: %+v", r.Errors)
	}
	r = a.do(t, ann.bearer(), createThreadMutation, map[string]any{"s": space.ID, "in": map[string]any{"title": "crypto deal", "body": "hi"}})
	if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "title" {
		t.Fatalf("a blocked word in a title: %+v", r.Errors)
	}
	var held struct{ ID, Status string }
	a.do(t, ann.bearer(), reply, map[string]any{"t": thread.ID, "b": "Giveaway at the next ride"}).decode(t, "reply", &held)
	if held.Status != "PENDING_APPROVAL" {
		t.Fatalf("held post: %+v", held)
	}
	type page struct {
		Edges []struct {
			Node struct {
				Status string
				Body   *string
			}
		}
	}
	var posts page
	a.do(t, ben.bearer(), `query($t: ID!) { posts(threadId: $t) { edges { node { status body } } } }`, map[string]any{"t": thread.ID}).decode(t, "posts", &posts)
	if len(posts.Edges) != 2 || posts.Edges[1].Node.Body != nil {
		t.Fatalf("another member reads the thread (the blocked reply written? the held one shown?): %+v", posts)
	}

	var queue struct {
		Edges []struct {
			Node struct {
				Reasons []string
				Post    struct{ ID string }
			}
		}
	}
	a.do(t, mo.bearer(), `query($s: ID!) { reviewQueue(spaceId: $s) { edges { node { reasons post { id } } } } }`, map[string]any{"s": space.ID}).decode(t, "reviewQueue", &queue)
	if len(queue.Edges) != 1 || queue.Edges[0].Node.Post.ID != held.ID || queue.Edges[0].Node.Reasons[0] != "WATCHED_WORD:giveaway" {
		t.Fatalf("review queue: %+v", queue)
	}
	var approved struct{ Status string }
	a.do(t, mo.bearer(), `mutation($p: ID!) { moderatePost(postId: $p, action: APPROVE) { status } }`, map[string]any{"p": held.ID}).decode(t, "moderatePost", &approved)
	a.do(t, ben.bearer(), `query($t: ID!) { posts(threadId: $t) { edges { node { status body } } } }`, map[string]any{"t": thread.ID}).decode(t, "posts", &posts)
	if approved.Status != "VISIBLE" || posts.Edges[1].Node.Body == nil || *posts.Edges[1].Node.Body != "Giveaway at the next ride" {
		t.Fatalf("approved: %+v, readers see %+v", approved, posts)
	}

	// A moderator reads no email or points.
	if r := a.do(t, mo.bearer(), `query($id: ID!) { member(id: $id) { email points { balance } } }`, map[string]any{"id": ann.Member.ID}); r.code() == "" {
		t.Fatalf("a moderator read a member's account: %s", r.Data["member"])
	}

	var removed struct{ Word string }
	a.do(t, mo.bearer(), `mutation($id: ID!) { unwatchWord(id: $id) { word } }`, map[string]any{"id": blockWord.ID}).decode(t, "unwatchWord", &removed)
	a.do(t, ann.bearer(), reply, map[string]any{"t": thread.ID, "b": "Best crypto deal today"}).decode(t, "reply", &struct{}{})

	a.do(t, mo.bearer(), `mutation($m: ID!, $s: ID) { sanctionMember(memberId: $m, spaceId: $s, kind: SILENCE, durationMinutes: 60, reason: "cool down") { until } }`,
		map[string]any{"m": ben.Member.ID, "s": space.ID}).decode(t, "sanctionMember", &struct{}{})
	var mine []struct {
		Kind, Reason string
		SpaceID      *string
	}
	a.do(t, ben.bearer(), `{ myCommunitySanctions { kind reason spaceId } }`, nil).decode(t, "myCommunitySanctions", &mine)
	if len(mine) != 1 || mine[0].Kind != "SILENCE" || mine[0].SpaceID == nil || *mine[0].SpaceID != space.ID {
		t.Fatalf("ben's sanctions: %+v", mine)
	}
}

// Moderation through the API, as a member and a moderator see it: two
// flags reach the brand's threshold and hide a reply from readers; the
// reply waits in the review queue with its score; reaction counts follow
// reacts and unreacts; a moderator's DELETE takes the reply's points back
// from its author's balance; a second moderator's late APPROVE is a
// CONFLICT; and the brand reads the deletion in the moderation log.
func TestCommunityFlagHideReviewDelete(t *testing.T) {
	a := startApp(t, nil)
	a.setProgram(t)
	a.service(t, `mutation($in: ProgramInput!) { updateProgram(input: $in) { version } }`, map[string]any{"in": map[string]any{
		"communityPostPoints": 10, "communityDailyPointCap": 0, "communityFlagThreshold": 2,
	}}).decode(t, "updateProgram", &struct{}{})
	ann := a.signUp(t, "ann@example.com")
	ben := a.signUp(t, "ben@example.com")
	cat := a.signUp(t, "cat@example.com")
	dan := a.signUp(t, "dan@example.com")
	mo := a.signUp(t, "mo@example.com")
	a.service(t, `mutation($id: ID!) { grantRole(memberId: $id, role: MODERATOR) { roles } }`, map[string]any{"id": mo.Member.ID}).decode(t, "grantRole", &struct{}{})
	a.do(t, "", `mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }`, map[string]any{"t": mo.RefreshToken}).decode(t, "refreshToken", &mo)

	balance := func(s session) int {
		t.Helper()
		var me struct{ Points struct{ Balance int } }
		a.do(t, s.bearer(), `{ me { points { balance } } }`, nil).decode(t, "me", &me)
		return me.Points.Balance
	}
	var space, thread, post struct{ ID string }
	a.service(t, createSpaceMutation, map[string]any{"in": map[string]any{"name": "Rides"}}).decode(t, "createSpace", &space)
	a.do(t, ann.bearer(), createThreadMutation, map[string]any{"s": space.ID, "in": map[string]any{"title": "Sunday", "body": "Who is in?"}}).decode(t, "createThread", &thread)
	a.do(t, ben.bearer(), `mutation($t: ID!) { reply(threadId: $t, input: {body: "Buy my stuff"}) { id } }`, map[string]any{"t": thread.ID}).decode(t, "reply", &post)
	if got := balance(ben); got != 10 {
		t.Fatalf("ben's balance after replying: %d, want the 10 community points", got)
	}

	type postView struct {
		Status    string
		Body      *string
		Reactions []struct {
			Reaction string
			Count    int
		}
		MyReactions []string
	}
	read := func(s session) []postView {
		t.Helper()
		var page struct{ Edges []struct{ Node postView } }
		a.do(t, s.bearer(), `query($t: ID!) { posts(threadId: $t) { edges { node { status body reactions { reaction count } myReactions } } } }`,
			map[string]any{"t": thread.ID}).decode(t, "posts", &page)
		out := make([]postView, len(page.Edges))
		for i, e := range page.Edges {
			out[i] = e.Node
		}
		return out
	}

	// Reactions: counted per reaction, one per member, taken back by unreact.
	const react = `mutation($p: ID!, $r: Reaction!) { react(postId: $p, reaction: $r) { id } }`
	a.do(t, cat.bearer(), react, map[string]any{"p": post.ID, "r": "LIKE"}).decode(t, "react", &struct{}{})
	a.do(t, dan.bearer(), react, map[string]any{"p": post.ID, "r": "LIKE"}).decode(t, "react", &struct{}{})
	a.do(t, dan.bearer(), react, map[string]any{"p": post.ID, "r": "LIKE"}).decode(t, "react", &struct{}{})
	a.do(t, dan.bearer(), react, map[string]any{"p": post.ID, "r": "FIRE"}).decode(t, "react", &struct{}{})
	a.do(t, cat.bearer(), `mutation($p: ID!) { unreact(postId: $p, reaction: LIKE) { id } }`, map[string]any{"p": post.ID}).decode(t, "unreact", &struct{}{})
	seen := read(dan)[1]
	counts := map[string]int{}
	for _, r := range seen.Reactions {
		counts[r.Reaction] = r.Count
	}
	if counts["LIKE"] != 1 || counts["FIRE"] != 1 || len(seen.MyReactions) != 2 {
		t.Fatalf("reactions after cat's unreact and dan's double like: %+v", seen)
	}

	// Flags: one's own post is refused; one flag is below the threshold of
	// 2; the second hides the reply from readers.
	const flag = `mutation($p: ID!) { flagPost(postId: $p, reason: SPAM) { status } }`
	if r := a.do(t, ben.bearer(), flag, map[string]any{"p": post.ID}); r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "postId" {
		t.Fatalf("flagging one's own post: %+v", r.Errors)
	}
	a.do(t, cat.bearer(), flag, map[string]any{"p": post.ID}).decode(t, "flagPost", &struct{}{})
	if p := read(ann)[1]; p.Status != "VISIBLE" || p.Body == nil {
		t.Fatalf("after one flag (score 1 of 2) the reply should still show: %+v", p)
	}
	a.do(t, dan.bearer(), flag, map[string]any{"p": post.ID}).decode(t, "flagPost", &struct{}{})
	if p := read(ann)[1]; p.Status != "HIDDEN" || p.Body != nil {
		t.Fatalf("after two flags the reply should be hidden from readers: %+v", p)
	}

	var queue struct {
		Edges []struct {
			Node struct {
				Score, FlagCount int
				Post             struct{ ID string }
			}
		}
	}
	a.do(t, mo.bearer(), `query($s: ID!) { reviewQueue(spaceId: $s) { edges { node { score flagCount post { id } } } } }`, map[string]any{"s": space.ID}).decode(t, "reviewQueue", &queue)
	if len(queue.Edges) != 1 || queue.Edges[0].Node.Post.ID != post.ID || queue.Edges[0].Node.FlagCount != 2 || queue.Edges[0].Node.Score < 2 {
		t.Fatalf("review queue: %+v", queue)
	}
	if r := a.do(t, ann.bearer(), `query($s: ID!) { reviewQueue(spaceId: $s) { edges { node { score } } } }`, map[string]any{"s": space.ID}); r.code() != "FORBIDDEN" {
		t.Fatalf("a member reading the review queue: %+v", r.Errors)
	}

	// The moderator removes the reply: its points leave ben's balance.
	const moderate = `mutation($p: ID!, $a: PostAction!) { moderatePost(postId: $p, action: $a, reason: "spam") { status } }`
	var removed struct{ Status string }
	a.do(t, mo.bearer(), moderate, map[string]any{"p": post.ID, "a": "DELETE"}).decode(t, "moderatePost", &removed)
	if removed.Status != "REMOVED" {
		t.Fatalf("deleted post: %+v", removed)
	}
	if got := balance(ben); got != 0 {
		t.Fatalf("ben's balance after the removal: %d, want 0 (the reply's 10 points taken back)", got)
	}
	if r := a.do(t, mo.bearer(), moderate, map[string]any{"p": post.ID, "a": "APPROVE"}); r.code() != "CONFLICT" || r.Errors[0].Extensions["action"] != "DELETE" {
		t.Fatalf("approving a removed post: %+v", r.Errors)
	}
	a.do(t, mo.bearer(), `query($s: ID!) { reviewQueue(spaceId: $s) { edges { node { score flagCount post { id } } } } }`, map[string]any{"s": space.ID}).decode(t, "reviewQueue", &queue)
	if len(queue.Edges) != 0 {
		t.Fatalf("the review queue after the decision: %+v", queue)
	}

	var log struct {
		Edges []struct {
			Node struct {
				Action, TargetKind, TargetID string
				Before, After, Reason        *string
				Actor                        *struct{ DisplayName string }
			}
		}
	}
	a.service(t, `query($s: ID) { moderationLog(spaceId: $s) { edges { node { action targetKind targetId before after reason actor { displayName } } } } }`,
		map[string]any{"s": space.ID}).decode(t, "moderationLog", &log)
	if len(log.Edges) == 0 {
		t.Fatal("the moderation log is empty after a deletion")
	}
	e := log.Edges[0].Node
	if e.Action != "DELETE_POST" || e.TargetID != post.ID || e.Before == nil || *e.Before != "HIDDEN" || e.After == nil || *e.After != "REMOVED" ||
		e.Reason == nil || *e.Reason != "spam" || e.Actor == nil || e.Actor.DisplayName == "" {
		t.Fatalf("newest moderation log entry: %+v", e)
	}
	if r := a.do(t, mo.bearer(), `{ moderationLog { edges { node { action } } } }`, nil); r.code() != "FORBIDDEN" {
		t.Fatalf("a moderator reading the brand's log: %+v", r.Errors)
	}
}
