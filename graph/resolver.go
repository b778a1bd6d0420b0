package graph

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/account"
	"github.com/regulars/regulars/analytics"
	"github.com/regulars/regulars/community"
	"github.com/regulars/regulars/community/events"
	"github.com/regulars/regulars/community/events/rsvp"
	"github.com/regulars/regulars/community/reviewlive"
	"github.com/regulars/regulars/game"
	"github.com/regulars/regulars/game/offer/offerlive"
	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/member/auth"
	"github.com/regulars/regulars/push"
	"github.com/regulars/regulars/texts"
	"github.com/regulars/regulars/till"
	"github.com/regulars/regulars/webhook"
)

// Resolver holds what the resolvers need: the domain services.
type Resolver struct {
	Members *member.Service
	// Auth signs members in: sign-up, log-in, tokens, sessions, roles.
	Auth         *auth.Service
	Inbox        *inbox.Inbox
	Game         *game.Service
	Rooms        game.Rooms // the game's rooms: resolvers call the one that owns what they read or change
	Texts        *texts.Templates
	EventService *events.Service
	RSVPs        *rsvp.Service
	// Community is the brand's community (spaces, threads, moderation).
	Community        *community.Service
	AnalyticsService *analytics.Service
	// Till identifies members at a store's till (their cards).
	Till *till.Service
	// Webhooks are the brand's endpoints and their deliveries.
	WebhookService *webhook.Service
	// Accounts: password reset, email verification, deletion, data export.
	Accounts *account.Service
	// Push keeps members' devices (package push).
	Push *push.Service
	// ReviewQueue streams review queues live (community/reviewlive).
	ReviewQueue *reviewlive.Watcher
	// OfferProgress streams offers' publishing live (game/offer/offerlive).
	OfferWatch *offerlive.Watcher
}

// selfID is the signed-in member's id (member.Principal.Self).
func selfID(ctx context.Context) (bson.ObjectID, error) {
	return member.PrincipalFrom(ctx).Self()
}

// principal is the caller, for the domain's policy functions.
func principal(ctx context.Context) member.Principal { return member.PrincipalFrom(ctx) }

// registrar signs members up for referral.Join: the sign-up is auth's,
// the look-up by address member's.
type registrar struct {
	*auth.Service
	members *member.Service
}

func (r registrar) ByEmail(ctx context.Context, email string) (*member.Member, error) {
	return r.members.ByEmail(ctx, email)
}

func authPayload(s *auth.Session) *AuthPayload {
	return &AuthPayload{
		AccessToken: s.AccessToken, AccessTokenExpiresAt: s.AccessTokenExpiresAt,
		RefreshToken: s.RefreshToken, RefreshTokenExpiresAt: s.RefreshTokenExpiresAt,
		Member: s.Member,
	}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// notificationsList names a member's notification cursors, so a cursor of
// another member's inbox is refused.
func notificationsList(memberID bson.ObjectID) string { return "notifications." + memberID.Hex() }

// ownNotifications decodes notification ids for the signed-in member.
func (r *Resolver) ownNotifications(ctx context.Context, raw []string) (bson.ObjectID, []bson.ObjectID, error) {
	self, err := selfID(ctx)
	if err != nil {
		return self, nil, err
	}
	ids := make([]bson.ObjectID, len(raw))
	for i, s := range raw {
		if ids[i], err = decodeID("Notification", fmt.Sprintf("ids[%d]", i), s); err != nil {
			return self, nil, err
		}
	}
	return self, ids, nil
}

func (r *Resolver) unread(ctx context.Context, memberID bson.ObjectID) (int, error) {
	n, err := r.Inbox.UnreadCount(ctx, memberID)
	return int(n), err
}
