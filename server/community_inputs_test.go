package main

// Senders for the community's inputs in the schema walks
// (textpolicy_test.go, bounds_test.go): each puts one value in one input
// of a request that is otherwise right.

const (
	createSpaceMutation  = `mutation($in: SpaceInput!) { createSpace(input: $in) { id } }`
	createThreadMutation = `mutation($s: ID!, $in: PostInput!) { createThread(spaceId: $s, input: $in) { id } }`
	firstPostQuery       = `query($t: ID!) { posts(threadId: $t, first: 1) { edges { node { id } } } }`
)

// probeSpace opens a space for everyone and returns its id.
func (e *probeEnv) probeSpace() string {
	var sp struct{ ID string }
	e.service(createSpaceMutation, map[string]any{"in": map[string]any{"name": "Probe " + e.unique()}}).decode(e.t, "createSpace", &sp)
	return sp.ID
}

// probeThread has a new member start a thread in a new space; it returns
// the thread's id and its first post's.
func (e *probeEnv) probeThread() (threadID, postID string) {
	author := e.a.signUp(e.t, "author"+e.unique()+"@example.com")
	var th struct{ ID string }
	e.a.do(e.t, author.bearer(), createThreadMutation, map[string]any{"s": e.probeSpace(), "in": map[string]any{"title": "Probe", "body": "A post"}}).
		decode(e.t, "createThread", &th)
	var posts struct {
		Edges []struct{ Node struct{ ID string } }
	}
	e.a.do(e.t, author.bearer(), firstPostQuery, map[string]any{"t": th.ID}).decode(e.t, "posts", &posts)
	return th.ID, posts.Edges[0].Node.ID
}

// sendSpace creates a space with change applied to a valid input.
func sendSpace(change func(in map[string]any, v any)) func(e *probeEnv, v string) *gqlResponse {
	return func(e *probeEnv, v string) *gqlResponse {
		in := map[string]any{"name": "Rides " + e.unique(), "description": "Sunday rides"}
		change(in, v)
		return e.service(createSpaceMutation, map[string]any{"in": in})
	}
}

func sendSpaceInt(field string) func(e *probeEnv, v int64) *gqlResponse {
	return func(e *probeEnv, v int64) *gqlResponse {
		return sendSpace(func(in map[string]any, _ any) { in[field] = v })(e, "")
	}
}

// sendPost has the probe member start a thread with change applied to a
// valid PostInput.
func sendPost(change func(in map[string]any, v string)) func(e *probeEnv, v string) *gqlResponse {
	return func(e *probeEnv, v string) *gqlResponse {
		in := map[string]any{"title": "Sunday", "body": "Who is in?"}
		change(in, v)
		return e.a.do(e.t, e.member.bearer(), createThreadMutation, map[string]any{"s": e.probeSpace(), "in": in})
	}
}

// sendFlag has the probe member flag another member's post.
func sendFlag(e *probeEnv, v string) *gqlResponse {
	_, post := e.probeThread()
	return e.a.do(e.t, e.member.bearer(), `mutation($p: ID!, $n: String) { flagPost(postId: $p, reason: OTHER, note: $n) { id } }`,
		map[string]any{"p": post, "n": v})
}

// sendModeratePost has the brand hide a post, giving reason v.
func sendModeratePost(e *probeEnv, v string) *gqlResponse {
	_, post := e.probeThread()
	return e.service(`mutation($p: ID!, $r: String) { moderatePost(postId: $p, action: HIDE, reason: $r) { id } }`, map[string]any{"p": post, "r": v})
}

// sendModerateThread has the brand pin a thread, giving reason v.
func sendModerateThread(e *probeEnv, v string) *gqlResponse {
	th, _ := e.probeThread()
	return e.service(`mutation($t: ID!, $r: String) { moderateThread(threadId: $t, action: PIN, reason: $r) { id } }`, map[string]any{"t": th, "r": v})
}

// sendSanction has the brand silence a new member for minutes, giving reason.
func sendSanction(e *probeEnv, minutes int64, reason string) *gqlResponse {
	m := e.a.signUp(e.t, "silenced"+e.unique()+"@example.com")
	return e.service(`mutation($m: ID!, $d: Int!, $r: String) { sanctionMember(memberId: $m, kind: SILENCE, durationMinutes: $d, reason: $r) { until } }`,
		map[string]any{"m": m.Member.ID, "d": minutes, "r": reason})
}

// sendLift has the brand silence a new member and lift it, giving reason.
func sendLift(e *probeEnv, reason string) *gqlResponse {
	m := e.a.signUp(e.t, "lifted"+e.unique()+"@example.com")
	e.service(`mutation($m: ID!) { sanctionMember(memberId: $m, kind: SILENCE, durationMinutes: 60) { until } }`, map[string]any{"m": m.Member.ID})
	return e.service(`mutation($m: ID!, $r: String) { liftSanction(memberId: $m, kind: SILENCE, reason: $r) { until } }`,
		map[string]any{"m": m.Member.ID, "r": reason})
}

// sendWatchWord has the brand watch word v (FLAG: posts stay up).
func sendWatchWord(e *probeEnv, v string) *gqlResponse {
	return e.service(`mutation($w: String!) { watchWord(word: $w, action: FLAG) { id } }`, map[string]any{"w": v})
}
