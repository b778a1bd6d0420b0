package game

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/regulars/regulars/game/ledger"
	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/member"
)

// Community posts enter the economy as activities of kind COMMUNITY_POST
// whose externalId is the post's id, so a post is counted once however
// often it is reported. Package community reaches these through its own
// Activities interface, which the server fills with the game.

// communityRule names the daily cap of community points in ledger.State.Capped.
const communityRule = "community"

// RecordCommunityPost records that memberID posted postID at at: points
// per communityPostPoints within communityDailyPointCap of the member's
// local day, and one more POSTS_CREATED. A replay changes nothing.
func (s *Service) RecordCommunityPost(ctx context.Context, memberID, postID bson.ObjectID, at time.Time) (*ActivityResult, error) {
	return s.RecordActivity(ctx, ActivityInput{MemberID: memberID, Kind: program.ActivityCommunityPost, ExternalID: postID.Hex(), OccurredAt: at, community: true})
}

// earnCommunityPost awards a post's points, no more than the room left
// under the daily cap of the member's local day of the post. The entry is
// appended even when the cap leaves nothing (amount 0, saying so), so a
// replay on a later day cannot pay what the cap refused. The chain
// serializes a member's entries, so concurrent posts share one cap exactly.
func earnCommunityPost(p *program.Program, m *member.Member, a *Activity) ledger.Change {
	return func(st *ledger.State, e *ledger.Entry, now time.Time) (bool, error) {
		day := a.OccurredAt.In(m.Location()).Format(time.DateOnly)
		key := communityRule + ":" + day
		pts := p.CommunityPostPoints
		if cap := p.CommunityDailyPointCap; cap > 0 {
			pts = max(0, min(pts, cap-st.Capped[key]))
		}
		if st.Capped == nil {
			st.Capped = map[string]int64{}
		}
		for k := range st.Capped { // keep yesterday for late posts, forget the rest
			if d, ok := strings.CutPrefix(k, communityRule+":"); ok && d < a.OccurredAt.In(m.Location()).AddDate(0, 0, -1).Format(time.DateOnly) {
				delete(st.Capped, k)
			}
		}
		st.Capped[key] += pts
		e.Reason = "Points for your community post"
		why := fmt.Sprintf("%d points per post", p.CommunityPostPoints)
		if pts < p.CommunityPostPoints {
			why = fmt.Sprintf("daily cap of %d community points reached", p.CommunityDailyPointCap)
		}
		e.Lines = []ledger.Line{{Rule: "community-post", Points: pts, Reason: why}}
		if pts > 0 {
			st.Credit(e, pts, now, ledger.ExpiresAfter(now, p.PointsExpireDays))
			st.Earn(p, e, pts, now)
		}
		return true, nil
	}
}

// ReverseCommunityPost takes back, once, what post postID earned memberID
// (a moderator removed it), with an entry sourced by the post that gives
// reason. Nil when the post earned nothing. Points already spent are
// recorded as the entry's shortfall; the balance never goes below zero.
func (s *Service) ReverseCommunityPost(ctx context.Context, memberID, postID bson.ObjectID, reason string) (*ledger.Entry, error) {
	a, err := s.acts.byExternalID(ctx, program.ActivityCommunityPost, postID.Hex())
	if errors.Is(err, ErrActivityNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	earned, err := s.ledger.ByKey(ctx, memberID, "act:"+a.ID.Hex())
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if earned.Amount <= 0 {
		return nil, nil
	}
	p, err := s.program.Get(ctx)
	if err != nil {
		return nil, err
	}
	e, _, err := s.appendOne(ctx, &p, memberID, "post-removed:"+postID.Hex(), ledger.EntryAdjust,
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
func (s *Service) CommunityStanding(ctx context.Context, memberID bson.ObjectID) (CommunityStanding, error) {
	p, err := s.program.Get(ctx)
	if err != nil {
		return CommunityStanding{}, err
	}
	st, _, err := s.ledger.Head(ctx, memberID)
	if err != nil {
		return CommunityStanding{}, err
	}
	out := CommunityStanding{Tier: st.Tier.Name, Purchased: st.Purchases > 0}
	if out.Tier == "" && len(p.Tiers) > 0 {
		out.Tier = p.Tiers[0].Name
	}
	out.TierRank = max(p.TierRank(out.Tier), 0)
	out.TopTier = out.TierRank == len(p.Tiers)-1
	earned, _, err := s.engagement.MemberBadges(ctx, memberID)
	if err != nil {
		return out, err
	}
	for _, b := range earned {
		out.Badges = append(out.Badges, b.Badge.ID)
	}
	return out, nil
}
