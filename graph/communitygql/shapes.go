package communitygql

import (
	"context"
	"strconv"

	"github.com/regulars/regulars/graph/model"
	"github.com/regulars/regulars/graph/relay"
	"github.com/regulars/regulars/graph/request"
	"github.com/regulars/regulars/member"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/community"
	"github.com/regulars/regulars/community/forum"
)

// communityMember is what the community shows of a member: display name
// and avatar, never email, birthday or points.
func (r *Resolver) communityMember(ctx context.Context, id bson.ObjectID) (*model.CommunityMember, error) {
	m, err := request.LoadMember(ctx, id)
	if err != nil {
		return nil, err
	}
	return &model.CommunityMember{DisplayName: m.DisplayName, AvatarURL: model.Optional(m.AvatarURL)}, nil
}

// showsWords applies community.ShowsWords to a post, reading its space.
func (r *Resolver) showsWords(ctx context.Context, p *forum.Post) bool {
	if p.Status == forum.PostVisible {
		return true
	}
	sp, err := r.Community.Forum().Spaces.Get(ctx, p.SpaceID)
	return err == nil && community.ShowsWords(member.PrincipalFrom(ctx), p, sp)
}

func reactionCounts(m map[forum.Reaction]int64) []*model.ReactionCount {
	out := make([]*model.ReactionCount, len(forum.Reactions))
	for i, r := range forum.Reactions {
		out[i] = &model.ReactionCount{Reaction: r, Count: int(m[r])}
	}
	return out
}

func postText(in model.PostInput) forum.Text {
	return forum.Text{Title: model.Deref(in.Title), Body: in.Body, Images: in.Images}
}

func audience(field string, in *model.AudienceInput) (forum.Audience, error) {
	if in == nil {
		return forum.Audience{Kind: forum.AudienceEveryone}, nil
	}
	a := forum.Audience{Kind: in.Kind, Tiers: in.Tiers}
	if in.BadgeID != nil {
		id, err := relay.DecodeID("Badge", field+".badgeId", *in.BadgeID)
		if err != nil {
			return a, err
		}
		a.Badge = &id
	}
	return a, nil
}

func spaceInput(in model.SpaceInput) (community.SpaceInput, error) {
	out := community.SpaceInput{Name: in.Name, Description: model.Deref(in.Description), SlowModeSeconds: model.Deref(in.SlowModeSeconds)}
	var err error
	if out.Read, err = audience("read", in.Read); err != nil {
		return out, err
	}
	if out.Post, err = audience("post", in.Post); err != nil {
		return out, err
	}
	for i, raw := range in.ModeratorIds {
		id, err := relay.DecodeID("Member", "moderatorIds["+strconv.Itoa(i)+"]", raw)
		if err != nil {
			return out, err
		}
		out.Moderators = append(out.Moderators, id)
	}
	return out, nil
}

// pageOf decodes what a list of a space or thread starts with: its
// parent's id (a kind, sent as the argument field) and the page size.
func pageOf(kind, field, id string, first *int) (bson.ObjectID, int, error) {
	pid, err := relay.DecodeID(kind, field, id)
	if err != nil {
		return bson.ObjectID{}, 0, err
	}
	n, err := relay.PageSize(first)
	return pid, n, err
}
