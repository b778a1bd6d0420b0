package graph

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/community"
	"github.com/regulars/regulars/community/forum"
	"github.com/regulars/regulars/community/moderation"
	"github.com/regulars/regulars/input"
)

// communityMember is what the community shows of a member: display name
// and avatar, never email, birthday or points.
func (r *Resolver) communityMember(ctx context.Context, id bson.ObjectID) (*CommunityMember, error) {
	m, err := loadMember(ctx, id)
	if err != nil {
		return nil, err
	}
	return &CommunityMember{DisplayName: m.DisplayName, AvatarURL: optional(m.AvatarURL)}, nil
}

// showsWords applies community.ShowsWords to a post, reading its space.
func (r *Resolver) showsWords(ctx context.Context, p *forum.Post) bool {
	if p.Status == forum.PostVisible {
		return true
	}
	sp, err := r.Community.Forum().Space(ctx, p.SpaceID)
	return err == nil && community.ShowsWords(principal(ctx), p, sp)
}

func reactionCounts(m map[forum.Reaction]int64) []*ReactionCount {
	out := make([]*ReactionCount, len(forum.Reactions))
	for i, r := range forum.Reactions {
		out[i] = &ReactionCount{Reaction: r, Count: int(m[r])}
	}
	return out
}

func postText(in PostInput) forum.Text {
	return forum.Text{Title: deref(in.Title), Body: in.Body, Images: in.Images}
}

func audience(field string, in *AudienceInput) (forum.Audience, error) {
	if in == nil {
		return forum.Audience{Kind: forum.AudienceEveryone}, nil
	}
	a := forum.Audience{Kind: in.Kind, Tiers: in.Tiers}
	if in.BadgeID != nil {
		id, err := decodeID("Badge", field+".badgeId", *in.BadgeID)
		if err != nil {
			return a, err
		}
		a.Badge = &id
	}
	return a, nil
}

func spaceInput(in SpaceInput) (community.SpaceInput, error) {
	out := community.SpaceInput{Name: in.Name, Description: deref(in.Description), SlowModeSeconds: deref(in.SlowModeSeconds)}
	var err error
	if out.Read, err = audience("read", in.Read); err != nil {
		return out, err
	}
	if out.Post, err = audience("post", in.Post); err != nil {
		return out, err
	}
	for i, raw := range in.ModeratorIds {
		id, err := decodeID("Member", "moderatorIds["+strconv.Itoa(i)+"]", raw)
		if err != nil {
			return out, err
		}
		out.Moderators = append(out.Moderators, id)
	}
	return out, nil
}

// String cursors hold a position the domain writes (a thread order's key).
func encodeStringCursor(list, pos string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(list + ":" + pos))
}

// positionAfter is the position a string cursor of list holds, "" when
// after is empty (from the first).
func positionAfter(list string, after *string) (string, error) {
	if after == nil || *after == "" {
		return "", nil
	}
	return decodeStringCursor(list, after)
}

// pageOf decodes what a list of a space or thread starts with: its
// parent's id (a kind, sent as the argument field) and the page size.
func pageOf(kind, field, id string, first *int) (bson.ObjectID, int, error) {
	pid, err := decodeID(kind, field, id)
	if err != nil {
		return bson.ObjectID{}, 0, err
	}
	n, err := pageSize(first)
	return pid, n, err
}

func decodeStringCursor(list string, after *string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(*after)
	if err == nil {
		if pos, ok := strings.CutPrefix(string(raw), list+":"); ok && pos != "" {
			return pos, nil
		}
	}
	return "", input.Errorf("after", "is not a cursor of this list")
}

// Space, Thread, Post: what spaces, threads and posts show the caller (a
// space they may read; a removed thread to its moderators only).
func (r *Resolver) spaceNodes(ctx context.Context, refs []nodeRef) ([]Node, []error) {
	return each(refs, func(ref nodeRef) (Node, error) {
		if !mayCall(ctx, parsedSchema.Query, "spaces") {
			return nil, forum.ErrSpaceNotFound
		}
		return nonNil(r.Community.Space(ctx, principal(ctx), ref.id))
	})
}

func (r *Resolver) threadNodes(ctx context.Context, refs []nodeRef) ([]Node, []error) {
	return each(refs, func(ref nodeRef) (Node, error) {
		if !mayCall(ctx, parsedSchema.Query, "threads") {
			return nil, forum.ErrThreadNotFound
		}
		t, _, err := r.Community.Thread(ctx, principal(ctx), ref.id)
		return nonNil(t, err)
	})
}

func (r *Resolver) postNodes(ctx context.Context, refs []nodeRef) ([]Node, []error) {
	return each(refs, func(ref nodeRef) (Node, error) {
		if !mayCall(ctx, parsedSchema.Query, "posts") {
			return nil, forum.ErrPostNotFound
		}
		p, _, err := r.Community.Post(ctx, principal(ctx), ref.id)
		return nonNil(p, err)
	})
}

func (r *Resolver) watchedWordNodes(ctx context.Context, refs []nodeRef) ([]Node, []error) {
	return each(refs, func(ref nodeRef) (Node, error) {
		if !mayCall(ctx, parsedSchema.Query, "watchedWords") {
			return nil, moderation.ErrWordNotFound
		}
		return nonNil(r.Community.WatchedWord(ctx, principal(ctx), ref.id))
	})
}
