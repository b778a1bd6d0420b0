package community

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/community/feed"
	"github.com/regulars/regulars/community/forum"
	"github.com/regulars/regulars/community/moderation"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/texts"
)

// SpaceInput is a space as the brand describes it.
type SpaceInput struct {
	Name            string
	Description     string
	Read            forum.Audience
	Post            forum.Audience
	SlowModeSeconds int
	Moderators      []bson.ObjectID
}

// checkAudience checks an audience of the space; a TIERS audience names
// 1 to 20 of the program's tiers (errors name field.tiers[i]).
func checkAudience(field string, a *forum.Audience, prog program.Program) error {
	switch a.Kind {
	case "":
		a.Kind = forum.AudienceEveryone
	case forum.AudienceEveryone:
	case forum.AudienceTiers:
		if len(a.Tiers) == 0 || len(a.Tiers) > 20 {
			return input.Errorf(field+".tiers", "name 1 to 20 tiers")
		}
		for i, name := range a.Tiers {
			t, ok := prog.TierNamed(name)
			if !ok {
				return input.Errorf(fmt.Sprintf("%s.tiers[%d]", field, i), "no tier is called %q", name)
			}
			a.Tiers[i] = t.Name
		}
	case forum.AudienceBadge:
		if a.Badge == nil {
			return input.Errorf(field+".badgeId", "name the badge")
		}
	default:
		return input.Errorf(field+".kind", "must be EVERYONE, TIERS or BADGE")
	}
	return nil
}

// MaxSlowModeSeconds bounds a space's slow mode (a day).
const MaxSlowModeSeconds = 86400

// check puts in in its stored form: the name a line and the description a
// paragraph of the human text policy (input.Text), slow mode 0 to
// MaxSlowModeSeconds, tiers of the program.
func (in *SpaceInput) check(prog program.Program) error {
	var err error
	if in.Name, err = input.Line("name", in.Name, forum.MaxName); err != nil {
		return err
	}
	if in.Description, err = (input.Text{Max: forum.MaxDesc, Multiline: true, Optional: true}).Check("description", in.Description); err != nil {
		return err
	}
	switch {
	case in.SlowModeSeconds < 0 || in.SlowModeSeconds > MaxSlowModeSeconds:
		return input.Errorf("slowModeSeconds", "must be between 0 and %d", MaxSlowModeSeconds)
	case len(in.Moderators) > 50:
		return input.Errorf("moderatorIds", "at most 50")
	}
	if err := checkAudience("read", &in.Read, prog); err != nil {
		return err
	}
	return checkAudience("post", &in.Post, prog)
}

// SaveSpace creates a space (id zero) or replaces one; BRAND only. Logged.
func (s *Service) SaveSpace(ctx context.Context, p member.Principal, id bson.ObjectID, in SpaceInput) (*forum.Space, error) {
	if !ManagesCommunity(p) {
		return nil, ErrBrandOnly
	}
	prog, err := s.economy.Program(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.check(prog); err != nil {
		return nil, err
	}
	sp := &forum.Space{ID: bson.NewObjectID(), CreatedAt: s.now().UTC()}
	action, before := "CREATE_SPACE", ""
	if !id.IsZero() {
		old, err := s.forum.Spaces.Get(ctx, id)
		if err != nil {
			return nil, input.Wrap("id", err)
		}
		sp, action, before = old, "UPDATE_SPACE", describeSpace(old)
	}
	sp.Name, sp.Description, sp.Read, sp.Post, sp.SlowModeSeconds, sp.Moderators = in.Name, in.Description, in.Read, in.Post, in.SlowModeSeconds, in.Moderators
	if sp.Moderators == nil {
		sp.Moderators = []bson.ObjectID{}
	}
	if err := s.forum.Spaces.Save(ctx, sp); err != nil {
		return nil, err
	}
	return sp, s.moderation.log(ctx, p, action, moderation.TargetSpace, sp.ID.Hex(), sp.ID, "", before, describeSpace(sp))
}

func describeSpace(sp *forum.Space) string {
	mods := make([]string, len(sp.Moderators))
	for i, m := range sp.Moderators {
		mods[i] = m.Hex()
	}
	return fmt.Sprintf("name=%q read=%s post=%s slowMode=%ds moderators=[%s]", sp.Name, sp.Read.Kind, sp.Post.Kind, sp.SlowModeSeconds, strings.Join(mods, ","))
}

// Space returns a space p may read.
func (s *Service) Space(ctx context.Context, p member.Principal, id bson.ObjectID) (*forum.Space, error) {
	sp, err := s.forum.Spaces.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.mayRead(ctx, p, sp); err != nil {
		return nil, forum.ErrSpaceNotFound
	}
	return sp, nil
}

// Spaces pages the spaces p may read, oldest first.
func (s *Service) Spaces(ctx context.Context, p member.Principal, after bson.ObjectID, limit int) ([]*forum.Space, bool, error) {
	var out []*forum.Space
	for {
		page, more, err := s.forum.Spaces.List(ctx, after, limit)
		if err != nil {
			return nil, false, err
		}
		for _, sp := range page {
			after = sp.ID
			if err := s.mayRead(ctx, p, sp); err == nil {
				out = append(out, sp)
			} else if !errors.Is(err, ErrNoAccess) && !isSanction(err) {
				return nil, false, err
			}
			if len(out) == limit {
				return out, more || sp != page[len(page)-1], nil
			}
		}
		if !more {
			return out, false, nil
		}
	}
}

func isSanction(err error) bool {
	var sn *moderation.Sanctioned
	return errors.As(err, &sn)
}

// Threads pages a space's threads for p.
func (s *Service) Threads(ctx context.Context, p member.Principal, spaceID bson.ObjectID, order forum.ThreadOrder, after *forum.ThreadCursor, limit int) ([]*forum.Thread, bool, error) {
	if _, err := s.Space(ctx, p, spaceID); err != nil {
		return nil, false, input.Wrap("spaceId", err)
	}
	return s.forum.Threads.List(ctx, spaceID, order, after, limit)
}

// Thread returns a thread p may read.
func (s *Service) Thread(ctx context.Context, p member.Principal, id bson.ObjectID) (*forum.Thread, *forum.Space, error) {
	t, err := s.forum.Threads.Get(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	sp, err := s.Space(ctx, p, t.SpaceID)
	if err != nil || (t.Removed && !Moderates(p, sp)) {
		return nil, nil, forum.ErrThreadNotFound
	}
	return t, sp, nil
}

// Posts pages a thread's posts for p, oldest first.
func (s *Service) Posts(ctx context.Context, p member.Principal, threadID bson.ObjectID, after int64, limit int) ([]*forum.Post, bool, error) {
	if _, _, err := s.Thread(ctx, p, threadID); err != nil {
		return nil, false, input.Wrap("threadId", err)
	}
	return s.forum.Posts.List(ctx, threadID, after, limit)
}

// Post returns a post p may read (its space readable).
func (s *Service) Post(ctx context.Context, p member.Principal, id bson.ObjectID) (*forum.Post, *forum.Space, error) {
	post, err := s.forum.Posts.Get(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	sp, err := s.Space(ctx, p, post.SpaceID)
	if err != nil {
		return nil, nil, forum.ErrPostNotFound
	}
	return post, sp, nil
}

// ShowsWords reports whether p sees the words of post in space sp: anyone
// while it is visible; its author and the space's moderators always
// (except the author's own deleted post, which is gone for them too).
func ShowsWords(p member.Principal, post *forum.Post, sp *forum.Space) bool {
	switch {
	case post.Status == forum.PostVisible:
		return true
	case Moderates(p, sp):
		return true
	case post.Status == forum.PostDeleted || post.Status == forum.PostRemoved:
		return false
	}
	return !p.MemberID.IsZero() && p.MemberID == post.AuthorID
}

// MaySeeHistory reports whether p sees a post's edit history: moderators
// of its space only (an author knows what they wrote).
func MaySeeHistory(p member.Principal, sp *forum.Space) bool { return Moderates(p, sp) }

// sanctioned returns the sanction that keeps memberID from posting in (or,
// with reading, from reading) spaceID, nil for none.
func (s *Service) sanctioned(ctx context.Context, memberID, spaceID bson.ObjectID, reading bool) (*moderation.Sanctioned, error) {
	active, err := s.mod.Active(ctx, memberID, spaceID, s.now())
	if err != nil {
		return nil, err
	}
	for _, sn := range active {
		if reading && sn.Kind != moderation.Suspend {
			continue
		}
		return &moderation.Sanctioned{Kind: sn.Kind, Until: sn.Until, Reason: sn.Reason}, nil
	}
	return nil, nil
}

// Sanctions lists what keeps p from the community now, and until when:
// every silence and suspension in force, everywhere and in each space.
func (s *Service) Sanctions(ctx context.Context, p member.Principal) ([]*moderation.Sanction, error) {
	self, err := p.Self()
	if err != nil {
		return nil, err
	}
	return s.mod.InForce(ctx, self, s.now())
}

// admitted is a post that passed the checks before it is written.
type admitted struct {
	author   *member.Member
	space    *forum.Space
	status   forum.PostStatus
	flagWord *moderation.WatchedWord
	mentions []bson.ObjectID
}

// admit runs the checks every post passes, in this order: the member may
// read and post in the space, is not silenced or suspended there, the text
// is well formed, links only after a first purchase, no blocked word, the
// trust level's daily posts and the space's slow mode. Nothing is written
// for a post refused here, but a claimed slot of the daily posts or slow
// mode.
func (s *Service) admit(ctx context.Context, p member.Principal, sp *forum.Space, t *forum.Text, thread bool) (*admitted, error) {
	self, err := p.Self()
	if err != nil {
		return nil, err
	}
	if err := s.mayRead(ctx, p, sp); err != nil {
		return nil, input.Wrap("spaceId", forum.ErrSpaceNotFound)
	}
	sn, err := s.sanctioned(ctx, self, sp.ID, false)
	if err != nil {
		return nil, err
	}
	if sn != nil {
		return nil, sn
	}
	if err := t.Check(thread); err != nil {
		return nil, err
	}
	trust, st, err := s.Trust(ctx, self)
	if err != nil {
		return nil, err
	}
	if !Moderates(p, sp) && !inAudience(sp.Post, st) {
		return nil, ErrMayNotPost
	}
	if !st.Purchased && !staff(p) && t.HasLinks() {
		return nil, input.Wrap("body", ErrLinksNotYet)
	}
	words, err := s.mod.Words(ctx)
	if err != nil {
		return nil, err
	}
	a := &admitted{space: sp, status: forum.PostVisible}
	if w := moderation.Match(words, t.Title+"\n"+t.Body); w != nil {
		switch w.Action {
		case moderation.WordBlock:
			return nil, blocked(w, t)
		case moderation.WordRequireApproval:
			a.status, a.flagWord = forum.PostPending, w
		case moderation.WordFlag:
			a.flagWord = w
		}
	}
	if a.author, err = s.members.Get(ctx, self); err != nil {
		return nil, err
	}
	now := s.now()
	prog, err := s.economy.Program(ctx)
	if err != nil {
		return nil, err
	}
	if trust == TrustNew && !staff(p) {
		if err := s.forum.Limits.DailyPosts(ctx, self, now.In(a.author.Location()).Format(time.DateOnly), prog.NewMemberDailyPosts()); err != nil {
			return nil, err
		}
	}
	if trust < TrustRegular && !Moderates(p, sp) {
		if err := s.forum.Limits.SlowMode(ctx, sp.ID, self, sp.SlowModeSeconds, now); err != nil {
			return nil, err
		}
	}
	if names := t.Mentions(); len(names) > 0 {
		ms, err := s.members.ByDisplayNames(ctx, names, forum.MaxMentions)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			if m.ID != self {
				a.mentions = append(a.mentions, m.ID)
			}
		}
	}
	return a, nil
}

// CreateThread starts a thread in a space: its title and first post.
func (s *Service) CreateThread(ctx context.Context, p member.Principal, spaceID bson.ObjectID, t forum.Text) (*forum.Thread, *forum.Post, error) {
	sp, err := s.forum.Spaces.Get(ctx, spaceID)
	if err != nil {
		return nil, nil, input.Wrap("spaceId", err)
	}
	a, err := s.admit(ctx, p, sp, &t, true)
	if err != nil {
		return nil, nil, err
	}
	now := s.now().UTC()
	th := &forum.Thread{ID: bson.NewObjectID(), SpaceID: sp.ID, AuthorID: a.author.ID, Title: t.Title, CreatedAt: now}
	post := s.newPost(th, a, t, nil, now)
	if err := s.forum.Threads.Create(ctx, th, post); err != nil {
		return nil, nil, err
	}
	return th, post, s.posted(ctx, th, post, a)
}

// Reply adds a post to a thread, quoting another of its posts if quote is set.
func (s *Service) Reply(ctx context.Context, p member.Principal, threadID bson.ObjectID, t forum.Text, quote *bson.ObjectID) (*forum.Post, error) {
	th, err := s.forum.Threads.Get(ctx, threadID)
	if err != nil {
		return nil, input.Wrap("threadId", err)
	}
	sp, err := s.forum.Spaces.Get(ctx, th.SpaceID)
	if err != nil {
		return nil, err
	}
	if th.Locked && !Moderates(p, sp) {
		return nil, forum.ErrLocked
	}
	if th.Removed {
		return nil, input.Wrap("threadId", forum.ErrThreadNotFound)
	}
	if quote != nil {
		q, err := s.forum.Posts.Get(ctx, *quote)
		if err != nil || q.ThreadID != th.ID {
			return nil, input.Errorf("quoteId", "is not a post of this thread")
		}
	}
	a, err := s.admit(ctx, p, sp, &t, false)
	if err != nil {
		return nil, err
	}
	post := s.newPost(th, a, t, quote, s.now().UTC())
	if err := s.forum.Posts.Reply(ctx, post); err != nil {
		return nil, err
	}
	return post, s.posted(ctx, th, post, a)
}

func (s *Service) newPost(th *forum.Thread, a *admitted, t forum.Text, quote *bson.ObjectID, now time.Time) *forum.Post {
	return &forum.Post{ID: bson.NewObjectID(), ThreadID: th.ID, SpaceID: th.SpaceID, AuthorID: a.author.ID, Body: t.Body, Images: t.Images,
		Mentions: a.mentions, QuoteID: quote, Status: a.status, Reactions: map[forum.Reaction]int64{}, CreatedAt: now}
}

// posted carries out what follows a stored post, in order: the review
// queue (a watched word), the economy (a visible post earns), the
// notifications (the thread's author, the members mentioned), the
// thread's feed. A failure is returned; each step is keyed by the post.
func (s *Service) posted(ctx context.Context, th *forum.Thread, post *forum.Post, a *admitted) error {
	if a.flagWord != nil {
		if _, err := s.mod.Enqueue(ctx, post.ID, post.SpaceID, post.AuthorID, 0, "WATCHED_WORD:"+a.flagWord.Word, false, s.now().UTC()); err != nil {
			return err
		}
		s.queueChanged(post.SpaceID)
	}
	if post.Status != forum.PostVisible {
		return nil // held for approval: nothing more until a moderator approves
	}
	return s.published(ctx, th, post, a.author)
}

// published is what a post that readers see brings: points, notifications
// and the feed's event.
func (s *Service) published(ctx context.Context, th *forum.Thread, post *forum.Post, author *member.Member) error {
	if err := s.economy.RecordPost(ctx, post.AuthorID, post.ID, post.CreatedAt); err != nil {
		return err
	}
	rel := &inbox.Related{Kind: inbox.RelatedPost, ID: post.ID.Hex()}
	data := map[string]any{"name": author.DisplayName, "thread": th.Title}
	if post.Number > 1 && th.AuthorID != post.AuthorID {
		if err := s.send(ctx, inbox.Message{MemberID: th.AuthorID, Kind: inbox.KindCommunity, Template: texts.CommunityReply, Data: data,
			Related: rel, Key: "community:reply:" + post.ID.Hex()}); err != nil {
			return err
		}
	}
	for _, m := range post.Mentions {
		if m == th.AuthorID && post.Number > 1 {
			continue // told of the reply already: one notification per cause
		}
		if err := s.send(ctx, inbox.Message{MemberID: m, Kind: inbox.KindCommunity, Template: texts.CommunityMention, Data: data,
			Related: rel, Key: "community:mention:" + post.ID.Hex()}); err != nil {
			return err
		}
	}
	return s.feed.Publish(ctx, &feed.Event{ThreadID: post.ThreadID, Kind: feed.PostCreated, PostID: post.ID})
}

func (s *Service) send(ctx context.Context, m inbox.Message) error {
	if s.notify == nil {
		return nil
	}
	if _, err := s.notify.Send(ctx, m); err != nil && !errors.Is(err, inbox.ErrMuted) {
		return err
	}
	return nil
}

// EditPost replaces the author's post within the program's edit window,
// keeping the earlier version for moderators.
func (s *Service) EditPost(ctx context.Context, p member.Principal, postID bson.ObjectID, t forum.Text) (*forum.Post, error) {
	self, err := p.Self()
	if err != nil {
		return nil, err
	}
	post, sp, err := s.Post(ctx, p, postID)
	if err != nil {
		return nil, input.Wrap("postId", err)
	}
	if post.AuthorID != self {
		return nil, forum.ErrNotAuthor
	}
	if sn, err := s.sanctioned(ctx, self, sp.ID, false); err != nil || sn != nil {
		if sn != nil {
			return nil, sn
		}
		return nil, err
	}
	if err := t.Check(false); err != nil {
		return nil, err
	}
	words, err := s.mod.Words(ctx)
	if err != nil {
		return nil, err
	}
	if w := moderation.Match(words, t.Body); w != nil && w.Action == moderation.WordBlock {
		return nil, blocked(w, &t)
	}
	prog, err := s.economy.Program(ctx)
	if err != nil {
		return nil, err
	}
	edited, err := s.forum.Posts.Edit(ctx, postID, self, t, time.Duration(prog.CommunityEditWindowMinutes)*time.Minute, s.now().UTC())
	if err != nil {
		return nil, err
	}
	return edited, s.feed.Publish(ctx, &feed.Event{ThreadID: edited.ThreadID, Kind: feed.PostEdited, PostID: edited.ID})
}

// DeletePost soft-deletes the author's own post. Points it earned stay:
// only a moderator's removal takes them back.
func (s *Service) DeletePost(ctx context.Context, p member.Principal, postID bson.ObjectID) (*forum.Post, error) {
	self, err := p.Self()
	if err != nil {
		return nil, err
	}
	if _, _, err := s.Post(ctx, p, postID); err != nil {
		return nil, input.Wrap("postId", err)
	}
	post, err := s.forum.Posts.DeleteOwn(ctx, postID, self)
	if err != nil {
		return nil, err
	}
	return post, s.feed.Publish(ctx, &feed.Event{ThreadID: post.ThreadID, Kind: feed.PostDeleted, PostID: post.ID})
}

// React adds (on) or takes back (off) p's reaction to a post; counts stay
// exact under any number of concurrent calls (forum.ReactionStore.Add).
func (s *Service) React(ctx context.Context, p member.Principal, postID bson.ObjectID, r forum.Reaction, on bool) (*forum.Post, error) {
	self, err := p.Self()
	if err != nil {
		return nil, err
	}
	if !forum.ValidReaction(r) {
		return nil, input.Errorf("reaction", "must be one of LIKE, LOVE, FIRE, LAUGH")
	}
	post, _, err := s.Post(ctx, p, postID)
	if err != nil {
		return nil, input.Wrap("postId", err)
	}
	if post.Status != forum.PostVisible {
		return nil, input.Wrap("postId", forum.ErrGone)
	}
	var changed bool
	if on {
		changed, err = s.forum.Reactions.Add(ctx, post, self, r, s.now().UTC())
	} else {
		changed, err = s.forum.Reactions.Remove(ctx, post, self, r, s.now().UTC())
	}
	if err != nil {
		return nil, err
	}
	if post, err = s.forum.Posts.Get(ctx, postID); err != nil {
		return nil, err
	}
	if changed {
		err = s.feed.Publish(ctx, &feed.Event{ThreadID: post.ThreadID, Kind: feed.Reactions, PostID: post.ID, Reactions: post.Reactions})
	}
	return post, err
}

// MyReactions lists p's reactions to a post.
func (s *Service) MyReactions(ctx context.Context, p member.Principal, postID bson.ObjectID) ([]forum.Reaction, error) {
	if p.MemberID.IsZero() {
		return nil, nil
	}
	return s.forum.Reactions.Mine(ctx, postID, p.MemberID)
}

// blocked refuses a post with a BLOCK word, naming the field it is in.
func blocked(w *moderation.WatchedWord, t *forum.Text) error {
	field := "body"
	if t.Title != "" && moderation.Match([]*moderation.WatchedWord{w}, t.Title) != nil {
		field = "title"
	}
	return input.Errorf(field, "%q is not allowed in this community", w.Word)
}
