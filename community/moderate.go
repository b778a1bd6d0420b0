package community

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/community/feed"
	"github.com/regulars/regulars/community/forum"
	"github.com/regulars/regulars/community/moderation"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/texts"
)

func decided(m *forum.Moderation) error {
	if m == nil {
		return &moderation.Decided{Action: "CHANGED"}
	}
	return &moderation.Decided{Action: m.Action, By: m.By, At: m.At}
}

// log appends one action to the audit log.
func (s *Moderation) log(ctx context.Context, p member.Principal, action, kind, target string, space bson.ObjectID, reason, before, after string) error {
	return s.mod.Log(ctx, &moderation.LogEntry{ActorID: p.MemberID, Action: action, TargetKind: kind, TargetID: target, SpaceID: space,
		Reason: reason, Before: before, After: after, At: s.now().UTC()})
}

// checkReason checks a moderator's reason: optional, one line of the human
// text policy (input.Text), at most moderation.MaxNote characters; the
// member sanctioned reads it.
func checkReason(reason string) (string, error) {
	return input.Text{Max: moderation.MaxNote, Optional: true}.Check("reason", reason)
}

// FlagPost flags a post once with a reason: its weight (the flagger's trust
// and accuracy, moderation.Weight) adds to the post's score and review
// item; the flag that brings a visible post to the program's threshold
// hides it pending review, and its author is told once.
func (s *Moderation) FlagPost(ctx context.Context, p member.Principal, postID bson.ObjectID, reason moderation.Reason, note string) (*forum.Post, error) {
	self, err := p.Self()
	if err != nil {
		return nil, err
	}
	post, _, err := s.posting.Post(ctx, p, postID)
	if err != nil {
		return nil, input.Wrap("postId", err)
	}
	if post.AuthorID == self {
		return nil, input.Wrap("postId", ErrOwnPost)
	}
	if note, err = moderation.CheckReason(reason, note); err != nil {
		return nil, err
	}
	trust, _, err := s.posting.Trust(ctx, self)
	if err != nil {
		return nil, err
	}
	agreed, disagreed, err := s.mod.Accuracy(ctx, self)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	f := &moderation.Flag{ID: bson.NewObjectID(), PostID: post.ID, SpaceID: post.SpaceID, MemberID: self, Reason: reason, Note: note,
		Weight: moderation.Weight(trust, staff(p), agreed, disagreed), CreatedAt: now}
	if err := s.mod.AddFlag(ctx, f); err != nil {
		return nil, err
	}
	if _, err := s.mod.Enqueue(ctx, post.ID, post.SpaceID, post.AuthorID, f.Weight, string(reason), true, now); err != nil {
		return nil, err
	}
	s.queueChanged(post.SpaceID)
	prog, err := s.economy.Program(ctx)
	if err != nil {
		return nil, err
	}
	updated, hidden, err := s.forum.Posts.AddFlagScore(ctx, post.ID, f.Weight, prog.FlagThreshold(), now)
	if err != nil || !hidden {
		return updated, err
	}
	th, err := s.forum.Threads.Get(ctx, post.ThreadID)
	if err != nil {
		return nil, err
	}
	if err := s.posting.send(ctx, inbox.Message{MemberID: post.AuthorID, Kind: inbox.KindCommunity, Template: texts.CommunityPostHidden,
		Data: map[string]any{"thread": th.Title}, Related: &inbox.Related{Kind: inbox.RelatedPost, ID: post.ID.Hex()},
		Key: "community:hidden:" + post.ID.Hex()}); err != nil {
		return nil, err
	}
	return updated, s.feed.Publish(ctx, &feed.Event{ThreadID: post.ThreadID, Kind: feed.PostHidden, PostID: post.ID})
}

// QueueEntry is an item of the review queue with what a moderator needs:
// the post, its flags and its author's community history.
type QueueEntry struct {
	Item *moderation.Item
	Post *forum.Post
	// Thread is the post's thread (its title; nil if it is gone).
	Thread *forum.Thread
	// InReplyTo is what the post answers: the post it quotes, else for a
	// reply the thread's first post; nil for a thread's first post.
	InReplyTo *forum.Post
	Flags     []*moderation.Flag
	Author    AuthorHistory
	// AuthorSanctions are the author's sanctions in force in the space or
	// everywhere: at most 4, one per kind and place (moderation.Store.Active).
	AuthorSanctions []*moderation.Sanction
}

// AuthorHistory is what moderators see of an author: their community
// record, never their email, birthday or points.
type AuthorHistory struct {
	MemberID     bson.ObjectID
	DisplayName  string
	Trust        int
	PostsLast30d int64
	HiddenRecent bool
}

// ReviewQueue pages a space's review items of status, highest score first;
// for the space's moderators.
func (s *Moderation) ReviewQueue(ctx context.Context, p member.Principal, spaceID bson.ObjectID, status moderation.ItemStatus, after *moderation.QueueCursor, limit int) ([]*QueueEntry, bool, error) {
	sp, err := s.forum.Spaces.Get(ctx, spaceID)
	if err != nil {
		return nil, false, input.Wrap("spaceId", err)
	}
	if !Moderates(p, sp) {
		return nil, false, ErrNotModerator
	}
	if status == "" {
		status = moderation.ItemPending
	}
	if status != moderation.ItemPending && status != moderation.ItemResolved {
		return nil, false, input.Errorf("status", "must be PENDING or RESOLVED")
	}
	items, more, err := s.mod.Queue(ctx, spaceID, status, after, limit)
	if err != nil {
		return nil, false, err
	}
	ids := make([]bson.ObjectID, len(items))
	for i, it := range items {
		ids[i] = it.PostID
	}
	posts, err := s.forum.Posts.ByID(ctx, ids)
	if err != nil {
		return nil, false, err
	}
	threads, answered, err := s.postContext(ctx, posts)
	if err != nil {
		return nil, false, err
	}
	out := make([]*QueueEntry, len(items))
	for i, it := range items {
		e := &QueueEntry{Item: it, Post: posts[i], Thread: threads[i], InReplyTo: answered[i]}
		if e.Flags, err = s.mod.Flags(ctx, it.PostID); err != nil {
			return nil, false, err
		}
		if e.Author, err = s.History(ctx, it.AuthorID); err != nil {
			return nil, false, err
		}
		if e.AuthorSanctions, err = s.mod.Active(ctx, it.AuthorID, spaceID, s.now()); err != nil {
			return nil, false, err
		}
		out[i] = e
	}
	return out, more, nil
}

// postContext returns, for each of posts (nil ones skipped), its thread
// and the post it answers (QueueEntry.InReplyTo): at most three reads for
// a page, by _id and by IndexPostNumber.
func (s *Moderation) postContext(ctx context.Context, posts []*forum.Post) ([]*forum.Thread, []*forum.Post, error) {
	threadIDs := make([]bson.ObjectID, len(posts))
	var quoted, opened []bson.ObjectID
	for i, p := range posts {
		if p == nil {
			continue
		}
		threadIDs[i] = p.ThreadID
		switch {
		case p.QuoteID != nil:
			quoted = append(quoted, *p.QuoteID)
		case p.Number > 1:
			opened = append(opened, p.ThreadID)
		}
	}
	threads, err := s.forum.Threads.ByID(ctx, threadIDs)
	if err != nil {
		return nil, nil, err
	}
	var quotes, openers []*forum.Post
	if len(quoted) > 0 {
		if quotes, err = s.forum.Posts.ByID(ctx, quoted); err != nil {
			return nil, nil, err
		}
	}
	if openers, err = s.forum.Posts.Openings(ctx, opened); err != nil {
		return nil, nil, err
	}
	answered := make([]*forum.Post, len(posts))
	for i, p := range posts {
		switch {
		case p == nil:
		case p.QuoteID != nil:
			answered[i], quotes = quotes[0], quotes[1:]
		case p.Number > 1:
			answered[i], openers = openers[0], openers[1:]
		}
	}
	return threads, answered, nil
}

// History is a member's community record, as moderators see it.
func (s *Moderation) History(ctx context.Context, memberID bson.ObjectID) (AuthorHistory, error) {
	m, err := s.members.Get(ctx, memberID)
	if err != nil {
		return AuthorHistory{}, err
	}
	since := s.now().Add(-30 * 24 * time.Hour)
	h := AuthorHistory{MemberID: memberID, DisplayName: m.DisplayName}
	if h.Trust, _, err = s.posting.Trust(ctx, memberID); err != nil {
		return h, err
	}
	if h.PostsLast30d, err = s.forum.Posts.CountSince(ctx, memberID, since); err != nil {
		return h, err
	}
	h.HiddenRecent, err = s.forum.Posts.HiddenSince(ctx, memberID, since)
	return h, err
}

// PostAction is what a moderator does to a post.
type PostAction string

const (
	ActionApprove PostAction = "APPROVE" // visible again (or for the first time), flags rejected
	ActionHide    PostAction = "HIDE"    // hidden, flags upheld
	ActionDelete  PostAction = "DELETE"  // removed, its points taken back, flags upheld
)

// ModeratePost applies a moderator's action to a post of a space they
// moderate. It is made on the post as read: of two moderators acting at
// once exactly one lands, the other gets a *Decided (CONFLICT) saying what
// was done. Logged with the post's status before and after.
func (s *Moderation) ModeratePost(ctx context.Context, p member.Principal, postID bson.ObjectID, action PostAction, reason string) (*forum.Post, error) {
	return s.moderatePost(ctx, p, postID, action, reason, false)
}

// DecideReview is ModeratePost taken from the review queue: it is made on
// the post's review item as the moderator saw it, pending. The item is
// closed first by a single-document conditional update (pending to
// resolved); of two moderators deciding at once, whatever each chose,
// exactly one does, the other gets a *Decided (CONFLICT) naming the
// decision, its moderator and time, and nothing of theirs is applied. A
// post with no review item: BAD_USER_INPUT on postId.
func (s *Moderation) DecideReview(ctx context.Context, p member.Principal, postID bson.ObjectID, action PostAction, reason string) (*forum.Post, error) {
	return s.moderatePost(ctx, p, postID, action, reason, true)
}

// claimReview closes the post's pending review item with the decision, or
// says who closed it first.
func (s *Moderation) claimReview(ctx context.Context, postID bson.ObjectID, r moderation.Resolution, agreed bool) error {
	ok, err := s.mod.Resolve(ctx, postID, r, agreed)
	if err != nil || ok {
		return err
	}
	it, err := s.mod.Item(ctx, postID)
	if err != nil {
		return err
	}
	if it == nil || it.Resolution == nil {
		return input.Errorf("postId", "the post is not in the review queue")
	}
	d := &moderation.Decided{Action: it.Resolution.Action, By: it.Resolution.By, At: it.Resolution.At}
	if m, err := s.members.Get(ctx, it.Resolution.By); err == nil {
		d.ByName = m.DisplayName
	}
	return d
}

func (s *Moderation) moderatePost(ctx context.Context, p member.Principal, postID bson.ObjectID, action PostAction, reason string, fromQueue bool) (*forum.Post, error) {
	post, err := s.forum.Posts.Get(ctx, postID)
	if err != nil {
		return nil, input.Wrap("postId", err)
	}
	sp, err := s.forum.Spaces.Get(ctx, post.SpaceID)
	if err != nil {
		return nil, err
	}
	if !Moderates(p, sp) {
		return nil, ErrNotModerator
	}
	if reason, err = checkReason(reason); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	m := forum.Moderation{Action: string(action), By: p.MemberID, At: now}
	if fromQueue {
		switch action {
		case ActionApprove, ActionHide, ActionDelete:
		default:
			return nil, input.Errorf("action", "must be APPROVE, HIDE or DELETE")
		}
		if err := s.claimReview(ctx, post.ID, moderation.Resolution{Action: string(action), By: p.MemberID, At: now}, action != ActionApprove); err != nil {
			return nil, err
		}
		// Approving a visible post (its flags are rejected with the item)
		// or hiding one its flags hid (upheld with the item): closing the
		// item above was the decision.
		if action == ActionApprove && post.Status == forum.PostVisible || action == ActionHide && post.Status == forum.PostHidden {
			s.queueChanged(post.SpaceID)
			return post, s.log(ctx, p, string(action)+"_POST", moderation.TargetPost, post.ID.Hex(), post.SpaceID, reason, string(post.Status), string(post.Status))
		}
	}
	var out *forum.Post
	var kind feed.Kind
	switch action {
	case ActionApprove:
		if post.Status == forum.PostVisible {
			return s.rejectFlags(ctx, p, post, reason, now)
		}
		if post.Status == forum.PostRemoved || post.Status == forum.PostDeleted {
			if post.Last != nil {
				return nil, decided(post.Last)
			}
			return nil, input.Errorf("action", "the post is %s: nothing to approve", post.Status)
		}
		out, err = s.forum.Posts.Approve(ctx, post, m)
		kind = feed.PostRestored
	case ActionHide:
		if post.Status != forum.PostVisible && post.Status != forum.PostPending {
			return nil, decided(post.Last)
		}
		out, err = s.forum.Posts.SetStatus(ctx, post, forum.PostHidden, m)
		kind = feed.PostHidden
	case ActionDelete:
		if post.Status == forum.PostRemoved {
			return nil, decided(post.Last)
		}
		out, err = s.forum.Posts.SetStatus(ctx, post, forum.PostRemoved, m)
		kind = feed.PostDeleted
	default:
		return nil, input.Errorf("action", "must be APPROVE, HIDE or DELETE")
	}
	if forum.IsStale(err) {
		cur, rerr := s.forum.Posts.Get(ctx, postID)
		if rerr != nil {
			return nil, rerr
		}
		return nil, decided(cur.Last)
	}
	if err != nil {
		return nil, err
	}
	if _, err := s.mod.Resolve(ctx, post.ID, moderation.Resolution{Action: string(action), By: p.MemberID, At: now}, action != ActionApprove); err != nil {
		return nil, err
	}
	s.queueChanged(post.SpaceID)
	if err := s.log(ctx, p, string(action)+"_POST", moderation.TargetPost, post.ID.Hex(), post.SpaceID, reason, string(post.Status), string(out.Status)); err != nil {
		return nil, err
	}
	switch {
	case action == ActionDelete:
		if err := s.economy.ReversePost(ctx, post.AuthorID, post.ID, reasonOr(reason, "removed by a moderator")); err != nil {
			return nil, err
		}
		if post.Number == 1 {
			if _, err := s.forum.Threads.Moderate(ctx, mustThread(ctx, s, post.ThreadID), forum.ThreadChange{Removed: new(true)}, m); err != nil && !forum.IsStale(err) {
				return nil, err
			}
		}
	case action == ActionApprove && post.Status == forum.PostPending:
		// Held by a watched word: now it is published, with what that brings.
		th, err := s.forum.Threads.Get(ctx, post.ThreadID)
		if err != nil {
			return nil, err
		}
		author, err := s.members.Get(ctx, post.AuthorID)
		if err != nil {
			return nil, err
		}
		return out, s.posting.published(ctx, th, out, author)
	}
	return out, s.feed.Publish(ctx, &feed.Event{ThreadID: post.ThreadID, Kind: kind, PostID: post.ID})
}

// rejectFlags approves a post flagged but still visible (its flags under
// the space's threshold): the post stays as it is, its review item is
// resolved and its flags are marked disagreed, as Discourse's "keep post".
// A second moderator approving at once gets a *Decided; a visible post
// with nothing pending, a BAD_USER_INPUT on action.
func (s *Moderation) rejectFlags(ctx context.Context, p member.Principal, post *forum.Post, reason string, now time.Time) (*forum.Post, error) {
	resolved, err := s.mod.Resolve(ctx, post.ID, moderation.Resolution{Action: string(ActionApprove), By: p.MemberID, At: now}, false)
	if err != nil {
		return nil, err
	}
	if !resolved {
		it, err := s.mod.Item(ctx, post.ID)
		if err != nil {
			return nil, err
		}
		if it != nil && it.Resolution != nil {
			return nil, &moderation.Decided{Action: it.Resolution.Action, By: it.Resolution.By, At: it.Resolution.At}
		}
		return nil, input.Errorf("action", "the post is %s and not in the review queue: nothing to approve", post.Status)
	}
	s.queueChanged(post.SpaceID)
	return post, s.log(ctx, p, string(ActionApprove)+"_POST", moderation.TargetPost, post.ID.Hex(), post.SpaceID, reason, string(post.Status), string(post.Status))
}

func mustThread(ctx context.Context, s *Moderation, id bson.ObjectID) *forum.Thread {
	t, err := s.forum.Threads.Get(ctx, id)
	if err != nil {
		return &forum.Thread{ID: id, ModRev: -1}
	}
	return t
}

func reasonOr(reason, def string) string {
	if reason == "" {
		return def
	}
	return reason
}

// ThreadAction is what a moderator does to a thread.
type ThreadAction string

const (
	ActionLock   ThreadAction = "LOCK"
	ActionUnlock ThreadAction = "UNLOCK"
	ActionPin    ThreadAction = "PIN"
	ActionUnpin  ThreadAction = "UNPIN"
	ActionMove   ThreadAction = "MOVE" // to another space the moderator also moderates
)

// ModerateThread locks, unlocks, pins, unpins or moves a thread; made on
// the thread as read (CONFLICT with what was done when another landed
// first). Logged.
func (s *Moderation) ModerateThread(ctx context.Context, p member.Principal, threadID bson.ObjectID, action ThreadAction, to *bson.ObjectID, reason string) (*forum.Thread, error) {
	th, err := s.forum.Threads.Get(ctx, threadID)
	if err != nil {
		return nil, input.Wrap("threadId", err)
	}
	sp, err := s.forum.Spaces.Get(ctx, th.SpaceID)
	if err != nil {
		return nil, err
	}
	if !Moderates(p, sp) {
		return nil, ErrNotModerator
	}
	if reason, err = checkReason(reason); err != nil {
		return nil, err
	}
	var c forum.ThreadChange
	before := fmt.Sprintf("locked=%t pinned=%t space=%s", th.Locked, th.Pinned == 1, th.SpaceID.Hex())
	switch action {
	case ActionLock, ActionUnlock:
		c.Locked = new(action == ActionLock)
	case ActionPin, ActionUnpin:
		c.Pinned = new(action == ActionPin)
	case ActionMove:
		if to == nil {
			return nil, input.Errorf("toSpaceId", "name the space to move the thread to")
		}
		dest, err := s.forum.Spaces.Get(ctx, *to)
		if err != nil {
			return nil, input.Wrap("toSpaceId", err)
		}
		if !Moderates(p, dest) {
			return nil, ErrNotModerator
		}
		c.SpaceID = to
	default:
		return nil, input.Errorf("action", "must be LOCK, UNLOCK, PIN, UNPIN or MOVE")
	}
	out, err := s.forum.Threads.Moderate(ctx, th, c, forum.Moderation{Action: string(action), By: p.MemberID, At: s.now().UTC()})
	if forum.IsStale(err) {
		cur, rerr := s.forum.Threads.Get(ctx, threadID)
		if rerr != nil {
			return nil, rerr
		}
		return nil, decided(cur.Last)
	}
	if err != nil {
		return nil, err
	}
	after := fmt.Sprintf("locked=%t pinned=%t space=%s", out.Locked, out.Pinned == 1, out.SpaceID.Hex())
	if err := s.log(ctx, p, string(action)+"_THREAD", moderation.TargetThread, th.ID.Hex(), th.SpaceID, reason, before, after); err != nil {
		return nil, err
	}
	return out, s.feed.Publish(ctx, &feed.Event{ThreadID: th.ID, Kind: feed.ThreadChanged})
}

// MaxSanctionMinutes bounds a silence or suspension: 365 days.
const MaxSanctionMinutes = 365 * 24 * 60

// SanctionMember silences or suspends a member for minutes (1 to
// MaxSanctionMinutes, else an error naming durationMinutes), in one
// space (a moderator of it) or, with spaceID zero, everywhere (global
// moderators and the brand). Logged.
func (s *Moderation) SanctionMember(ctx context.Context, p member.Principal, memberID, spaceID bson.ObjectID, kind moderation.SanctionKind, minutes int, reason string) (*moderation.Sanction, error) {
	if err := s.maySanction(ctx, p, spaceID, kind); err != nil {
		return nil, err
	}
	if minutes < 1 || minutes > MaxSanctionMinutes {
		return nil, input.Errorf("durationMinutes", "must be between 1 and %d (365 days)", MaxSanctionMinutes)
	}
	d := time.Duration(minutes) * time.Minute
	reason, err := checkReason(reason)
	if err != nil {
		return nil, err
	}
	if _, err := s.members.Get(ctx, memberID); err != nil {
		return nil, input.Wrap("memberId", err)
	}
	now := s.now().UTC()
	sn := &moderation.Sanction{MemberID: memberID, SpaceID: spaceID, Kind: kind, Until: now.Add(d), Reason: reason, By: p.MemberID, At: now}
	if err := s.mod.Sanction(ctx, sn); err != nil {
		return nil, err
	}
	return sn, s.log(ctx, p, string(kind), moderation.TargetMember, memberID.Hex(), spaceID, reason, "", "until "+sn.Until.Format(time.RFC3339))
}

// ModerationLog pages the audit log newest first (one space's when spaceID
// is set); BRAND only.
func (s *Moderation) ModerationLog(ctx context.Context, p member.Principal, spaceID, before bson.ObjectID, limit int) ([]*moderation.LogEntry, bool, error) {
	if !ManagesCommunity(p) {
		return nil, false, ErrBrandOnly
	}
	return s.mod.LogPage(ctx, spaceID, before, limit)
}

// WatchWord adds or changes a watched word; BRAND and global moderators. Logged.
func (s *Moderation) WatchWord(ctx context.Context, p member.Principal, word string, action moderation.WordAction) (*moderation.WatchedWord, error) {
	if !staff(p) {
		return nil, ErrNotModerator
	}
	w, err := s.mod.AddWord(ctx, word, action)
	if err != nil {
		return nil, err
	}
	return w, s.log(ctx, p, "WATCH_WORD", moderation.TargetWatchedWord, w.ID.Hex(), bson.ObjectID{}, "", "", w.Word+" → "+string(w.Action))
}

// UnwatchWord removes a watched word. Logged.
func (s *Moderation) UnwatchWord(ctx context.Context, p member.Principal, id bson.ObjectID) (*moderation.WatchedWord, error) {
	if !staff(p) {
		return nil, ErrNotModerator
	}
	w, err := s.mod.RemoveWord(ctx, id)
	if err != nil {
		return nil, input.Wrap("id", err)
	}
	return w, s.log(ctx, p, "UNWATCH_WORD", moderation.TargetWatchedWord, w.ID.Hex(), bson.ObjectID{}, "", w.Word+" → "+string(w.Action), "")
}

// WatchedWords lists the watched words; staff only.
func (s *Moderation) WatchedWords(ctx context.Context, p member.Principal) ([]*moderation.WatchedWord, error) {
	if !staff(p) {
		return nil, ErrNotModerator
	}
	return s.mod.Words(ctx)
}

// WatchedWord returns one watched word; staff only (moderation.ErrWordNotFound
// for others, as for a word that does not exist).
func (s *Moderation) WatchedWord(ctx context.Context, p member.Principal, id bson.ObjectID) (*moderation.WatchedWord, error) {
	if !staff(p) {
		return nil, moderation.ErrWordNotFound
	}
	return s.mod.Word(ctx, id)
}

// maySanction checks a sanction's scope and kind for SanctionMember and
// LiftSanction: in one space a moderator of it, everywhere (spaceID zero)
// global moderators and the brand; SILENCE or SUSPEND.
func (s *Moderation) maySanction(ctx context.Context, p member.Principal, spaceID bson.ObjectID, kind moderation.SanctionKind) error {
	if spaceID.IsZero() {
		if !staff(p) {
			return ErrNotModerator
		}
	} else {
		sp, err := s.forum.Spaces.Get(ctx, spaceID)
		if err != nil {
			return input.Wrap("spaceId", err)
		}
		if !Moderates(p, sp) {
			return ErrNotModerator
		}
	}
	if kind != moderation.Silence && kind != moderation.Suspend {
		return input.Errorf("kind", "must be SILENCE or SUSPEND")
	}
	return nil
}
