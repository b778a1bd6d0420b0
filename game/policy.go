package game

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/member"
)

// Who may see what of the economy. The GraphQL layer's @auth lets a caller
// in (deny by default); these rules decide what that caller then sees.

// ManagesProgram reports whether p runs the program: BRAND users and the
// brand's backend. They see inactive rewards, secret badges, a badge's
// backfill and an offer's publishing progress.
func ManagesProgram(p member.Principal) bool { return p.Has(member.RoleBrand) }

// Catalog lists the rewards p may see, after the id after: active ones, or
// all of them for those who manage the program.
func (s *Service) Catalog(ctx context.Context, p member.Principal, after bson.ObjectID, limit int) ([]*Reward, bool, error) {
	return s.Rewards(ctx, !ManagesProgram(p), after, limit)
}

// RewardFor returns rw as p may see it: an inactive reward does not exist
// (ErrRewardNotFound) for members.
func RewardFor(p member.Principal, rw *Reward) (*Reward, error) {
	if !rw.Active && !ManagesProgram(p) {
		return nil, ErrRewardNotFound
	}
	return rw, nil
}

// VisibleBadges lists the badges p may see: every one for those who manage
// the program; otherwise the public ones and the secret ones p has earned
// (secret badges stay hidden until earned).
func (s *Service) VisibleBadges(ctx context.Context, p member.Principal) ([]*Badge, error) {
	all, err := s.Badges(ctx)
	if err != nil || ManagesProgram(p) {
		return all, err
	}
	earned := map[bson.ObjectID]bool{}
	if !p.MemberID.IsZero() {
		got, _, err := s.MemberBadges(ctx, p.MemberID)
		if err != nil {
			return nil, err
		}
		for _, e := range got {
			earned[e.Badge.ID] = true
		}
	}
	var visible []*Badge
	for _, b := range all {
		if !b.Secret || earned[b.ID] {
			visible = append(visible, b)
		}
	}
	return visible, nil
}
