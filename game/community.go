package game

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/regulars/regulars/game/activity"
	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/program"
)

// Community posts enter the economy as activities of kind COMMUNITY_POST
// whose externalId is the post's id, so a post is counted once however
// often it is reported. Package community reaches these through its own
// Activities interface, which the server fills with the game.

// RecordPost records that memberID posted postID at at: points
// per communityPostPoints within communityDailyPointCap of the member's
// local day, and one more POSTS_CREATED. A replay changes nothing.
func (g *Economy) RecordPost(ctx context.Context, memberID, postID bson.ObjectID, at time.Time) (*ActivityResult, error) {
	return g.s.RecordActivity(ctx, ActivityInput{MemberID: memberID, Kind: program.ActivityCommunityPost, ExternalID: postID.Hex(), OccurredAt: at, community: true})
}

// ReversePost takes back, once, what post postID earned memberID
// (a moderator removed it), with an entry sourced by the post that gives
// reason. Nil when the post earned nothing. Points already spent are
// recorded as the entry's shortfall; the balance never goes below zero.
func (g *Economy) ReversePost(ctx context.Context, memberID, postID bson.ObjectID, reason string) (*ledger.Entry, error) {
	a, err := g.s.acts.ByExternalID(ctx, program.ActivityCommunityPost, postID.Hex())
	if errors.Is(err, activity.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	earned, err := g.s.ledger.ByKey(ctx, memberID, "act:"+a.ID.Hex())
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if earned.Amount <= 0 {
		return nil, nil
	}
	p, err := g.s.program.Get(ctx)
	if err != nil {
		return nil, err
	}
	e, _, err := g.s.appendOne(ctx, &p, memberID, "post-removed:"+postID.Hex(), ledger.EntryAdjust,
		ledger.Source{Kind: ledger.SourcePost, ID: postID.Hex()},
		func(st *ledger.State, e *ledger.Entry, now time.Time) (bool, error) {
			taken := st.Debit(e, earned.Amount, now, false, &earned.ID)
			e.Shortfall = earned.Amount - taken
			st.Earn(&p, e, -earned.Amount, earned.CreatedAt)
			e.Reason = "Post removed by a moderator"
			e.Lines = []ledger.Line{{Rule: "community-post-removed", Points: -taken, Reason: reason}}
			return true, nil
		})
	return e, err
}

// CommunityStanding is what the community asks of a member's place in the
// program: their tier (name, rank from 0, whether it is the top one),
// whether they ever purchased, and the badges they hold.
type CommunityStanding struct {
	Tier      string
	TierRank  int
	TopTier   bool
	Purchased bool
	Badges    []bson.ObjectID
}

// CommunityStanding reads a member's standing: one read of the ledger's
// head and one of their badges.
func (g *Economy) CommunityStanding(ctx context.Context, memberID bson.ObjectID) (CommunityStanding, error) {
	p, err := g.s.program.Get(ctx)
	if err != nil {
		return CommunityStanding{}, err
	}
	st, _, err := g.s.ledger.Head(ctx, memberID)
	if err != nil {
		return CommunityStanding{}, err
	}
	out := CommunityStanding{Tier: p.TierOf(st.Tier.Name), Purchased: st.Purchases > 0}
	out.TierRank = max(p.TierRank(out.Tier), 0)
	out.TopTier = out.TierRank == len(p.Tiers)-1
	earned, _, err := g.s.engagement.MemberBadges(ctx, memberID)
	if err != nil {
		return out, err
	}
	for _, b := range earned {
		out.Badges = append(out.Badges, b.Badge.ID)
	}
	return out, nil
}
