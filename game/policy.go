package game

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/program"
	"github.com/regulars/regulars/member"
)

// Who may see what of the economy. The GraphQL layer's @auth lets a caller
// in (deny by default); these rules decide what that caller then sees.

// VisibleBadges lists the badges p may see: every one for those who manage
// the program; otherwise the public ones and the secret ones p has earned
// (secret badges stay hidden until earned).
func (s *Service) VisibleBadges(ctx context.Context, p member.Principal) ([]*Badge, error) {
	all, err := s.Badges(ctx)
	if err != nil || program.ManagesProgram(p) {
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
