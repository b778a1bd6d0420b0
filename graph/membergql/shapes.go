package membergql

import (
	"context"
	"fmt"

	"github.com/regulars/regulars/graph/model"
	"github.com/regulars/regulars/graph/relay"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/member/auth"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// registrar signs members up for referral.Join: the sign-up is auth's,
// the look-up by address member's.
type registrar struct {
	*auth.Service
	members *member.Service
}

func (r registrar) ByEmail(ctx context.Context, email string) (*member.Member, error) {
	return r.members.ByEmail(ctx, email)
}

func authPayload(s *auth.Session) *model.AuthPayload {
	return &model.AuthPayload{
		AccessToken: s.AccessToken, AccessTokenExpiresAt: s.AccessTokenExpiresAt,
		RefreshToken: s.RefreshToken, RefreshTokenExpiresAt: s.RefreshTokenExpiresAt,
		Member: s.Member,
	}
}

// notificationsList names a member's notification cursors, so a cursor of
// another member's inbox is refused.
func notificationsList(memberID bson.ObjectID) string { return "notifications." + memberID.Hex() }

// ownNotifications decodes notification ids for the signed-in member.
func (r *Resolver) ownNotifications(ctx context.Context, raw []string) (bson.ObjectID, []bson.ObjectID, error) {
	self, err := member.PrincipalFrom(ctx).Self()
	if err != nil {
		return self, nil, err
	}
	ids := make([]bson.ObjectID, len(raw))
	for i, s := range raw {
		if ids[i], err = relay.DecodeID("Notification", fmt.Sprintf("ids[%d]", i), s); err != nil {
			return self, nil, err
		}
	}
	return self, ids, nil
}

func (r *Resolver) unread(ctx context.Context, memberID bson.ObjectID) (int, error) {
	n, err := r.Inbox.UnreadCount(ctx, memberID)
	return int(n), err
}
