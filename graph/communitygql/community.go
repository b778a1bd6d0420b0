package communitygql

import (
	"context"
	"strconv"
	"strings"

	"github.com/regulars/regulars/graph/model"
	"github.com/regulars/regulars/graph/relay"
	"github.com/regulars/regulars/member"

	"github.com/regulars/regulars/community"
	"github.com/regulars/regulars/community/feed"
	"github.com/regulars/regulars/community/forum"
	"github.com/regulars/regulars/community/moderation"
	"github.com/regulars/regulars/input"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// ID is the resolver for the id field.
func (r ModerationLogEntry) EntryID(ctx context.Context, obj *moderation.LogEntry) (string, error) {
	return obj.ID.Hex(), nil
}

// Actor is the resolver for the actor field.
func (r ModerationLogEntry) Actor(ctx context.Context, obj *moderation.LogEntry) (*model.CommunityMember, error) {
	if obj.ActorID.IsZero() {
		return nil, nil
	}
	return r.communityMember(ctx, obj.ActorID)
}

// TargetID is the resolver for the targetId field.
func (r ModerationLogEntry) TargetID(ctx context.Context, obj *moderation.LogEntry) (string, error) {
	return relay.PublicLogTarget(obj.TargetKind, obj.TargetID), nil
}

// CreateSpace is the resolver for the createSpace field.
func (r Mutation) CreateSpace(ctx context.Context, input model.SpaceInput) (*forum.Space, error) {
	in, err := spaceInput(input)
	if err != nil {
		return nil, err
	}
	return r.Community.SaveSpace(ctx, member.PrincipalFrom(ctx), bson.ObjectID{}, in)
}

// UpdateSpace is the resolver for the updateSpace field.
func (r Mutation) UpdateSpace(ctx context.Context, id string, input model.SpaceInput) (*forum.Space, error) {
	sid, err := relay.DecodeID("Space", "id", id)
	if err != nil {
		return nil, err
	}
	in, err := spaceInput(input)
	if err != nil {
		return nil, err
	}
	return r.Community.SaveSpace(ctx, member.PrincipalFrom(ctx), sid, in)
}

// CreateThread is the resolver for the createThread field.
func (r Mutation) CreateThread(ctx context.Context, spaceID string, input model.PostInput) (*forum.Thread, error) {
	sid, err := relay.DecodeID("Space", "spaceId", spaceID)
	if err != nil {
		return nil, err
	}
	th, _, err := r.Community.CreateThread(ctx, member.PrincipalFrom(ctx), sid, postText(input))
	return th, err
}

// Reply is the resolver for the reply field.
func (r Mutation) Reply(ctx context.Context, threadID string, input model.PostInput, quoteID *string) (*forum.Post, error) {
	tid, err := relay.DecodeID("Thread", "threadId", threadID)
	if err != nil {
		return nil, err
	}
	var quote *bson.ObjectID
	if quoteID != nil {
		q, err := relay.DecodeID("Post", "quoteId", *quoteID)
		if err != nil {
			return nil, err
		}
		quote = &q
	}
	return r.Community.Reply(ctx, member.PrincipalFrom(ctx), tid, postText(input), quote)
}

// EditPost is the resolver for the editPost field.
func (r Mutation) EditPost(ctx context.Context, postID string, input model.PostInput) (*forum.Post, error) {
	pid, err := relay.DecodeID("Post", "postId", postID)
	if err != nil {
		return nil, err
	}
	return r.Community.EditPost(ctx, member.PrincipalFrom(ctx), pid, postText(input))
}

// DeletePost is the resolver for the deletePost field.
func (r Mutation) DeletePost(ctx context.Context, postID string) (*forum.Post, error) {
	pid, err := relay.DecodeID("Post", "postId", postID)
	if err != nil {
		return nil, err
	}
	return r.Community.DeletePost(ctx, member.PrincipalFrom(ctx), pid)
}

// React is the resolver for the react field.
func (r Mutation) React(ctx context.Context, postID string, reaction forum.Reaction) (*forum.Post, error) {
	pid, err := relay.DecodeID("Post", "postId", postID)
	if err != nil {
		return nil, err
	}
	return r.Community.React(ctx, member.PrincipalFrom(ctx), pid, reaction, true)
}

// Unreact is the resolver for the unreact field.
func (r Mutation) Unreact(ctx context.Context, postID string, reaction forum.Reaction) (*forum.Post, error) {
	pid, err := relay.DecodeID("Post", "postId", postID)
	if err != nil {
		return nil, err
	}
	return r.Community.React(ctx, member.PrincipalFrom(ctx), pid, reaction, false)
}

// FlagPost is the resolver for the flagPost field.
func (r Mutation) FlagPost(ctx context.Context, postID string, reason moderation.Reason, note *string) (*forum.Post, error) {
	pid, err := relay.DecodeID("Post", "postId", postID)
	if err != nil {
		return nil, err
	}
	return r.Community.Moderation().FlagPost(ctx, member.PrincipalFrom(ctx), pid, reason, model.Deref(note))
}

// ModeratePost is the resolver for the moderatePost field.
func (r Mutation) ModeratePost(ctx context.Context, postID string, action community.PostAction, reason *string, pendingReview *bool) (*forum.Post, error) {
	pid, err := relay.DecodeID("Post", "postId", postID)
	if err != nil {
		return nil, err
	}
	if model.Deref(pendingReview) {
		return r.Community.Moderation().DecideReview(ctx, member.PrincipalFrom(ctx), pid, action, model.Deref(reason))
	}
	return r.Community.Moderation().ModeratePost(ctx, member.PrincipalFrom(ctx), pid, action, model.Deref(reason))
}

// ModerateThread is the resolver for the moderateThread field.
func (r Mutation) ModerateThread(ctx context.Context, threadID string, action community.ThreadAction, toSpaceID *string, reason *string) (*forum.Thread, error) {
	tid, err := relay.DecodeID("Thread", "threadId", threadID)
	if err != nil {
		return nil, err
	}
	var to *bson.ObjectID
	if toSpaceID != nil {
		sid, err := relay.DecodeID("Space", "toSpaceId", *toSpaceID)
		if err != nil {
			return nil, err
		}
		to = &sid
	}
	return r.Community.Moderation().ModerateThread(ctx, member.PrincipalFrom(ctx), tid, action, to, model.Deref(reason))
}

// SanctionMember is the resolver for the sanctionMember field.
func (r Mutation) SanctionMember(ctx context.Context, memberID string, kind moderation.SanctionKind, durationMinutes int, spaceID *string, reason *string) (*moderation.Sanction, error) {
	mid, err := relay.DecodeID("Member", "memberId", memberID)
	if err != nil {
		return nil, err
	}
	sid, err := relay.DecodeOptionalID("Space", "spaceId", spaceID)
	if err != nil {
		return nil, err
	}
	return r.Community.Moderation().SanctionMember(ctx, member.PrincipalFrom(ctx), mid, sid, kind, durationMinutes, model.Deref(reason))
}

// WatchWord is the resolver for the watchWord field.
func (r Mutation) WatchWord(ctx context.Context, word string, action moderation.WordAction) (*moderation.WatchedWord, error) {
	return r.Community.Moderation().WatchWord(ctx, member.PrincipalFrom(ctx), word, action)
}

// UnwatchWord is the resolver for the unwatchWord field.
func (r Mutation) UnwatchWord(ctx context.Context, id string) (*moderation.WatchedWord, error) {
	wid, err := relay.DecodeID("WatchedWord", "id", id)
	if err != nil {
		return nil, err
	}
	return r.Community.Moderation().UnwatchWord(ctx, member.PrincipalFrom(ctx), wid)
}

// ID is the resolver for the id field.
func (r Post) ID(ctx context.Context, obj *forum.Post) (string, error) {
	return relay.EncodeID("Post", obj.ID), nil
}

// ThreadID is the resolver for the threadId field.
func (r Post) ThreadID(ctx context.Context, obj *forum.Post) (string, error) {
	return relay.EncodeID("Thread", obj.ThreadID), nil
}

// Author is the resolver for the author field.
func (r Post) Author(ctx context.Context, obj *forum.Post) (*model.CommunityMember, error) {
	return r.communityMember(ctx, obj.AuthorID)
}

// Body is the resolver for the body field.
func (r Post) Body(ctx context.Context, obj *forum.Post) (*string, error) {
	if !r.showsWords(ctx, obj) {
		return nil, nil
	}
	return &obj.Body, nil
}

// Images is the resolver for the images field.
func (r Post) Images(ctx context.Context, obj *forum.Post) ([]string, error) {
	if !r.showsWords(ctx, obj) || obj.Images == nil {
		return []string{}, nil
	}
	return obj.Images, nil
}

// QuoteID is the resolver for the quoteId field.
func (r Post) QuoteID(ctx context.Context, obj *forum.Post) (*string, error) {
	if obj.QuoteID == nil {
		return nil, nil
	}
	id := relay.EncodeID("Post", *obj.QuoteID)
	return &id, nil
}

// Reactions is the resolver for the reactions field.
func (r Post) Reactions(ctx context.Context, obj *forum.Post) ([]*model.ReactionCount, error) {
	return reactionCounts(obj.Reactions), nil
}

// MyReactions is the resolver for the myReactions field.
func (r Post) MyReactions(ctx context.Context, obj *forum.Post) ([]forum.Reaction, error) {
	rs, err := r.Community.MyReactions(ctx, member.PrincipalFrom(ctx), obj.ID)
	if rs == nil {
		rs = []forum.Reaction{}
	}
	return rs, err
}

// History is the resolver for the history field.
func (r Post) History(ctx context.Context, obj *forum.Post) ([]*forum.Edit, error) {
	sp, err := r.Community.Forum().Spaces.Get(ctx, obj.SpaceID)
	if err != nil {
		return nil, err
	}
	if !community.MaySeeHistory(member.PrincipalFrom(ctx), sp) {
		return nil, nil
	}
	out := make([]*forum.Edit, len(obj.History))
	for i := range obj.History {
		out[i] = &obj.History[i]
	}
	return out, nil
}

// Spaces is the resolver for the spaces field.
func (r Query) Spaces(ctx context.Context, first *int, after *string) (*model.SpaceConnection, error) {
	n, err := relay.PageSize(first)
	if err != nil {
		return nil, err
	}
	afterID, err := relay.DecodeIDCursor("spaces", after)
	if err != nil {
		return nil, err
	}
	spaces, more, err := r.Community.Spaces(ctx, member.PrincipalFrom(ctx), afterID, n)
	if err != nil {
		return nil, err
	}
	es, info := relay.Edges(spaces, more, after, func(sp *forum.Space) string { return relay.EncodeIDCursor("spaces", sp.ID) },
		func(c string, sp *forum.Space) *model.SpaceEdge { return &model.SpaceEdge{Cursor: c, Node: sp} })
	return &model.SpaceConnection{Edges: es, PageInfo: info}, nil
}

// Threads is the resolver for the threads field.
func (r Query) Threads(ctx context.Context, spaceID string, order *forum.ThreadOrder, first *int, after *string) (*model.ThreadConnection, error) {
	sid, n, err := pageOf("Space", "spaceId", spaceID, first)
	if err != nil {
		return nil, err
	}
	ord := model.Deref(order)
	list := "threads." + sid.Hex() + "." + string(ord)
	raw, err := relay.DecodeStringCursor(list, after)
	if err != nil {
		return nil, err
	}
	var from *forum.ThreadCursor
	if raw != "" {
		if from, err = forum.ParseThreadCursor(raw); err != nil {
			return nil, err
		}
	}
	threads, more, err := r.Community.Threads(ctx, member.PrincipalFrom(ctx), sid, ord, from, n)
	if err != nil {
		return nil, err
	}
	es, info := relay.Edges(threads, more, after, func(t *forum.Thread) string { return relay.EncodeStringCursor(list, forum.CursorOf(t, ord).String()) },
		func(c string, t *forum.Thread) *model.ThreadEdge { return &model.ThreadEdge{Cursor: c, Node: t} })
	return &model.ThreadConnection{Edges: es, PageInfo: info}, nil
}

// Posts is the resolver for the posts field.
func (r Query) Posts(ctx context.Context, threadID string, first *int, after *string) (*model.PostConnection, error) {
	tid, n, err := pageOf("Thread", "threadId", threadID, first)
	if err != nil {
		return nil, err
	}
	list := "posts." + tid.Hex()
	from, err := relay.DecodeCursor(list, after)
	if err != nil {
		return nil, err
	}
	posts, more, err := r.Community.Posts(ctx, member.PrincipalFrom(ctx), tid, from, n)
	if err != nil {
		return nil, err
	}
	es, info := relay.Edges(posts, more, after, func(p *forum.Post) string { return relay.EncodeCursor(list, p.Number) },
		func(c string, p *forum.Post) *model.PostEdge { return &model.PostEdge{Cursor: c, Node: p} })
	return &model.PostConnection{Edges: es, PageInfo: info}, nil
}

// ReviewQueue is the resolver for the reviewQueue field.
func (r Query) ReviewQueue(ctx context.Context, spaceID string, status *moderation.ItemStatus, first *int, after *string) (*model.ReviewConnection, error) {
	sid, n, err := pageOf("Space", "spaceId", spaceID, first)
	if err != nil {
		return nil, err
	}
	st := model.Deref(status)
	list := "review." + sid.Hex() + "." + string(st)
	raw, err := relay.DecodeStringCursor(list, after)
	if err != nil {
		return nil, err
	}
	var from *moderation.QueueCursor
	if raw != "" {
		score, hex, _ := strings.Cut(raw, ".")
		v, err1 := strconv.ParseInt(score, 10, 64)
		id, err2 := bson.ObjectIDFromHex(hex)
		if err1 != nil || err2 != nil {
			return nil, input.Errorf("after", "is not a cursor of this list")
		}
		from = &moderation.QueueCursor{Score: v, ID: id}
	}
	items, more, err := r.Community.Moderation().ReviewQueue(ctx, member.PrincipalFrom(ctx), sid, st, from, n)
	if err != nil {
		return nil, err
	}
	es, info := relay.Edges(items, more, after, func(e *community.QueueEntry) string {
		return relay.EncodeStringCursor(list, strconv.FormatInt(e.Item.Score, 10)+"."+e.Item.PostID.Hex())
	}, func(c string, e *community.QueueEntry) *model.ReviewEdge {
		return &model.ReviewEdge{Cursor: c, Node: e}
	})
	return &model.ReviewConnection{Edges: es, PageInfo: info}, nil
}

// ModerationLog is the resolver for the moderationLog field.
func (r Query) ModerationLog(ctx context.Context, spaceID *string, first *int, after *string) (*model.ModerationLogConnection, error) {
	sid, err := relay.DecodeOptionalID("Space", "spaceId", spaceID)
	if err != nil {
		return nil, err
	}
	n, err := relay.PageSize(first)
	if err != nil {
		return nil, err
	}
	list := "log." + sid.Hex()
	before, err := relay.DecodeIDCursor(list, after)
	if err != nil {
		return nil, err
	}
	entries, more, err := r.Community.Moderation().ModerationLog(ctx, member.PrincipalFrom(ctx), sid, before, n)
	if err != nil {
		return nil, err
	}
	es, info := relay.Edges(entries, more, after, func(e *moderation.LogEntry) string { return relay.EncodeIDCursor(list, e.ID) },
		func(c string, e *moderation.LogEntry) *model.ModerationLogEdge {
			return &model.ModerationLogEdge{Cursor: c, Node: e}
		})
	return &model.ModerationLogConnection{Edges: es, PageInfo: info}, nil
}

// MyCommunitySanctions is the resolver for the myCommunitySanctions field.
func (r Query) MyCommunitySanctions(ctx context.Context) ([]*moderation.Sanction, error) {
	return r.Community.Sanctions(ctx, member.PrincipalFrom(ctx))
}

// WatchedWords is the resolver for the watchedWords field.
func (r Query) WatchedWords(ctx context.Context) ([]*moderation.WatchedWord, error) {
	return r.Community.Moderation().WatchedWords(ctx, member.PrincipalFrom(ctx))
}

// Score is the resolver for the score field.
func (r ReviewItem) Score(ctx context.Context, obj *community.QueueEntry) (int, error) {
	return int(obj.Item.Score), nil
}

// FlagCount is the resolver for the flagCount field.
func (r ReviewItem) FlagCount(ctx context.Context, obj *community.QueueEntry) (int, error) {
	return int(obj.Item.Flags), nil
}

// Reasons is the resolver for the reasons field.
func (r ReviewItem) Reasons(ctx context.Context, obj *community.QueueEntry) ([]string, error) {
	return obj.Item.Reasons, nil
}

// Author is the resolver for the author field.
func (r ReviewItem) Author(ctx context.Context, obj *community.QueueEntry) (*model.AuthorHistory, error) {
	a := obj.Author
	return &model.AuthorHistory{DisplayName: a.DisplayName, TrustLevel: a.Trust, PostsLast30Days: int(a.PostsLast30d), HiddenRecently: a.HiddenRecent,
		MemberID: relay.EncodeID("Member", a.MemberID), Sanctions: obj.AuthorSanctions}, nil
}

// Status is the resolver for the status field.
func (r ReviewItem) Status(ctx context.Context, obj *community.QueueEntry) (moderation.ItemStatus, error) {
	return obj.Item.Status, nil
}

// SpaceID is the resolver for the spaceId field.
func (r Sanction) SpaceID(ctx context.Context, obj *moderation.Sanction) (*string, error) {
	if obj.SpaceID.IsZero() {
		return nil, nil
	}
	id := relay.EncodeID("Space", obj.SpaceID)
	return &id, nil
}

// ID is the resolver for the id field.
func (r Space) ID(ctx context.Context, obj *forum.Space) (string, error) {
	return relay.EncodeID("Space", obj.ID), nil
}

// ModeratedByMe is the resolver for the moderatedByMe field.
func (r Space) ModeratedByMe(ctx context.Context, obj *forum.Space) (bool, error) {
	return community.Moderates(member.PrincipalFrom(ctx), obj), nil
}

// ThreadUpdates is the resolver for the threadUpdates field.
func (r Subscription) ThreadUpdates(ctx context.Context, threadID string, after *string) (<-chan *feed.Event, error) {
	tid, err := relay.DecodeID("Thread", "threadId", threadID)
	if err != nil {
		return nil, err
	}
	if _, _, err := r.Community.Thread(ctx, member.PrincipalFrom(ctx), tid); err != nil {
		return nil, input.Wrap("threadId", err)
	}
	from := int64(-1)
	if after != nil {
		if from, err = relay.DecodeCursor("events."+tid.Hex(), after); err != nil {
			return nil, err
		}
	}
	return r.Community.Feed().Stream(ctx, tid, from)
}

// ID is the resolver for the id field.
func (r Thread) ID(ctx context.Context, obj *forum.Thread) (string, error) {
	return relay.EncodeID("Thread", obj.ID), nil
}

// Space is the resolver for the space field.
func (r Thread) Space(ctx context.Context, obj *forum.Thread) (*forum.Space, error) {
	return r.Community.Forum().Spaces.Get(ctx, obj.SpaceID)
}

// Author is the resolver for the author field.
func (r Thread) Author(ctx context.Context, obj *forum.Thread) (*model.CommunityMember, error) {
	return r.communityMember(ctx, obj.AuthorID)
}

// Pinned is the resolver for the pinned field.
func (r Thread) Pinned(ctx context.Context, obj *forum.Thread) (bool, error) {
	return obj.Pinned == 1, nil
}

// PostCount is the resolver for the postCount field.
func (r Thread) PostCount(ctx context.Context, obj *forum.Thread) (int, error) {
	return int(obj.Posts), nil
}

// Cursor is the resolver for the cursor field.
func (r ThreadEvent) Cursor(ctx context.Context, obj *feed.Event) (string, error) {
	return relay.EncodeCursor("events."+obj.ThreadID.Hex(), obj.Seq), nil
}

// Post is the resolver for the post field.
func (r ThreadEvent) Post(ctx context.Context, obj *feed.Event) (*forum.Post, error) {
	if obj.PostID.IsZero() {
		return nil, nil
	}
	return r.Community.Forum().Posts.Get(ctx, obj.PostID)
}

// Reactions is the resolver for the reactions field.
func (r ThreadEvent) Reactions(ctx context.Context, obj *feed.Event) ([]*model.ReactionCount, error) {
	if obj.Kind != feed.Reactions {
		return nil, nil
	}
	return reactionCounts(obj.Reactions), nil
}

// ID is the resolver for the id field.
func (r WatchedWord) ID(ctx context.Context, obj *moderation.WatchedWord) (string, error) {
	return relay.EncodeID("WatchedWord", obj.ID), nil
}
