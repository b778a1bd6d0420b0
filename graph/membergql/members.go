package membergql

import (
	"context"
	"time"

	"github.com/regulars/regulars/graph/model"
	"github.com/regulars/regulars/graph/relay"
	"github.com/regulars/regulars/graph/request"

	"github.com/regulars/regulars/inbox"
	"github.com/regulars/regulars/input"
	"github.com/regulars/regulars/member"
)

// ID is the resolver for the id field.
func (r Member) ID(ctx context.Context, obj *member.Member) (string, error) {
	return relay.EncodeID("Member", obj.ID), nil
}

// AvatarURL is the resolver for the avatarUrl field.
func (r Member) AvatarURL(ctx context.Context, obj *member.Member) (*string, error) {
	if obj.AvatarURL == "" {
		return nil, nil
	}
	return &obj.AvatarURL, nil
}

// Locale is the resolver for the locale field.
func (r Member) Locale(ctx context.Context, obj *member.Member) (*string, error) {
	return model.Optional(obj.Locale), nil
}

// SignUp is the resolver for the signUp field.
func (r Mutation) SignUp(ctx context.Context, input model.SignUpInput) (*model.AuthPayload, error) {
	s, err := r.Rooms.Referrals.Join(ctx, registrar{r.Auth, r.Members}, member.SignUp{
		Email:            input.Email,
		Password:         input.Password,
		DisplayName:      input.DisplayName,
		Timezone:         input.Timezone,
		Birthday:         input.Birthday,
		AvatarURL:        model.Deref(input.AvatarURL),
		MarketingConsent: model.Deref(input.MarketingConsent),
		Locale:           model.Deref(input.Locale),
	}, model.Deref(input.ReferralCode))
	if err != nil {
		return nil, err
	}
	return authPayload(s), nil
}

// LogIn is the resolver for the logIn field.
func (r Mutation) LogIn(ctx context.Context, input model.LogInInput) (*model.AuthPayload, error) {
	s, err := r.Auth.LogIn(ctx, input.Email, input.Password, request.ClientIP(ctx))
	if err != nil {
		return nil, err
	}
	return authPayload(s), nil
}

// RefreshToken is the resolver for the refreshToken field.
func (r Mutation) RefreshToken(ctx context.Context, refreshToken string) (*model.AuthPayload, error) {
	s, err := r.Auth.Refresh(ctx, refreshToken)
	if err != nil {
		return nil, err
	}
	return authPayload(s), nil
}

// LogOut is the resolver for the logOut field.
func (r Mutation) LogOut(ctx context.Context, refreshToken string) (bool, error) {
	if err := r.Auth.LogOut(ctx, refreshToken); err != nil {
		return false, err
	}
	return true, nil
}

// UpdateProfile is the resolver for the updateProfile field.
func (r Mutation) UpdateProfile(ctx context.Context, input model.UpdateProfileInput) (*member.Member, error) {
	id, err := member.PrincipalFrom(ctx).Self()
	if err != nil {
		return nil, err
	}
	return r.Members.UpdateProfile(ctx, id, member.ProfileChange{
		DisplayName:      input.DisplayName,
		AvatarURL:        input.AvatarURL,
		Birthday:         input.Birthday,
		Timezone:         input.Timezone,
		MarketingConsent: input.MarketingConsent,
		Locale:           input.Locale,
	})
}

// GrantRole is the resolver for the grantRole field.
func (r Mutation) GrantRole(ctx context.Context, memberID string, role member.Role) (*member.Member, error) {
	id, err := relay.DecodeID("Member", "memberId", memberID)
	if err != nil {
		return nil, err
	}
	return r.Auth.GrantRole(ctx, id, role)
}

// RevokeRole is the resolver for the revokeRole field.
func (r Mutation) RevokeRole(ctx context.Context, memberID string, role member.Role) (*member.Member, error) {
	id, err := relay.DecodeID("Member", "memberId", memberID)
	if err != nil {
		return nil, err
	}
	return r.Auth.RevokeRole(ctx, id, role)
}

// SendNotification is the resolver for the sendNotification field.
func (r Mutation) SendNotification(ctx context.Context, memberID string, title string, body string, deepLink *string, expiresAt *time.Time) (*inbox.Notification, error) {
	id, err := relay.DecodeID("Member", "memberId", memberID)
	if err != nil {
		return nil, err
	}
	if _, err := request.LoadMember(ctx, id); err != nil {
		return nil, input.Wrap("memberId", err)
	}
	return r.Inbox.Send(ctx, inbox.Message{MemberID: id, Kind: inbox.KindSystem, Title: title, Body: body, DeepLink: model.Deref(deepLink), ExpiresAt: expiresAt})
}

// MarkNotificationsRead is the resolver for the markNotificationsRead field.
func (r Mutation) MarkNotificationsRead(ctx context.Context, ids []string) (int, error) {
	self, oids, err := r.ownNotifications(ctx, ids)
	if err != nil {
		return 0, err
	}
	if err := r.Inbox.MarkRead(ctx, self, oids); err != nil {
		return 0, err
	}
	return r.unread(ctx, self)
}

// MarkAllNotificationsRead is the resolver for the markAllNotificationsRead field.
func (r Mutation) MarkAllNotificationsRead(ctx context.Context) (int, error) {
	self, err := member.PrincipalFrom(ctx).Self()
	if err != nil {
		return 0, err
	}
	if err := r.Inbox.MarkAllRead(ctx, self); err != nil {
		return 0, err
	}
	return r.unread(ctx, self)
}

// DeleteNotifications is the resolver for the deleteNotifications field.
func (r Mutation) DeleteNotifications(ctx context.Context, ids []string) (int, error) {
	self, oids, err := r.ownNotifications(ctx, ids)
	if err != nil {
		return 0, err
	}
	if err := r.Inbox.Delete(ctx, self, oids); err != nil {
		return 0, err
	}
	return r.unread(ctx, self)
}

// SetNotificationPreferences is the resolver for the setNotificationPreferences field.
func (r Mutation) SetNotificationPreferences(ctx context.Context, muted []inbox.Category) (*model.NotificationPreferences, error) {
	self, err := member.PrincipalFrom(ctx).Self()
	if err != nil {
		return nil, err
	}
	m, err := r.Inbox.SetMuted(ctx, self, muted)
	if err != nil {
		return nil, err
	}
	return &model.NotificationPreferences{Muted: m}, nil
}

// ID is the resolver for the id field.
func (r Notification) ID(ctx context.Context, obj *inbox.Notification) (string, error) {
	return relay.EncodeID("Notification", obj.ID), nil
}

// Cursor is the resolver for the cursor field.
func (r Notification) Cursor(ctx context.Context, obj *inbox.Notification) (string, error) {
	return relay.EncodeCursor(notificationsList(obj.MemberID), obj.Seq), nil
}

// DeepLink is the resolver for the deepLink field.
func (r Notification) DeepLink(ctx context.Context, obj *inbox.Notification) (*string, error) {
	return model.Optional(relay.PublicDeepLink(obj)), nil
}

// Related is the resolver for the related field.
func (r Notification) Related(ctx context.Context, obj *inbox.Notification) (*inbox.Related, error) {
	return relay.PublicRelated(obj.Related), nil
}

// Read is the resolver for the read field.
func (r Notification) Read(ctx context.Context, obj *inbox.Notification) (bool, error) {
	return obj.ReadAt != nil, nil
}

// Me is the resolver for the me field.
func (r Query) Me(ctx context.Context) (*member.Member, error) {
	id, err := member.PrincipalFrom(ctx).Self()
	if err != nil {
		return nil, err
	}
	return request.LoadMember(ctx, id)
}

// Member is the resolver for the member field.
func (r Query) Member(ctx context.Context, id string) (*member.Member, error) {
	oid, err := relay.DecodeID("Member", "id", id)
	if err != nil {
		return nil, err
	}
	if err := member.PrincipalFrom(ctx).MayRead(oid); err != nil {
		return nil, err
	}
	return request.LoadMember(ctx, oid)
}

// Members is the resolver for the members field.
func (r Query) Members(ctx context.Context, search *string, first *int, after *string) (*model.MemberConnection, error) {
	limit, err := relay.PageSize(first)
	if err != nil {
		return nil, err
	}
	from, err := relay.DecodeIDCursor("members", after)
	if err != nil {
		return nil, err
	}
	q := member.Search{}
	if search != nil {
		q.Text = *search
		q.ID, _ = relay.DecodeID("Member", "search", *search) // a search that is not an id matches by text only
	}
	ms, more, err := r.Resolver.Members.Search(ctx, member.PrincipalFrom(ctx), q, from, limit)
	if err != nil {
		return nil, err
	}
	conn := &model.MemberConnection{}
	conn.Edges, conn.PageInfo = relay.Edges(ms, more, after,
		func(m *member.Member) string { return relay.EncodeIDCursor("members", m.ID) },
		func(c string, m *member.Member) *model.MemberEdge { return &model.MemberEdge{Cursor: c, Node: m} })
	return conn, nil
}

// Notifications is the resolver for the notifications field.
func (r Query) Notifications(ctx context.Context, first *int, after *string) (*model.NotificationConnection, error) {
	id, err := member.PrincipalFrom(ctx).Self()
	if err != nil {
		return nil, err
	}
	limit, err := relay.PageSize(first)
	if err != nil {
		return nil, err
	}
	before, err := relay.DecodeCursor(notificationsList(id), after)
	if err != nil {
		return nil, err
	}
	ns, more, err := r.Inbox.List(ctx, id, before, limit)
	if err != nil {
		return nil, err
	}
	conn := &model.NotificationConnection{}
	conn.Edges, conn.PageInfo = relay.Edges(ns, more, after,
		func(n *inbox.Notification) string { return relay.EncodeCursor(notificationsList(id), n.Seq) },
		func(c string, n *inbox.Notification) *model.NotificationEdge {
			return &model.NotificationEdge{Cursor: c, Node: n}
		})
	return conn, nil
}

// UnreadNotificationCount is the resolver for the unreadNotificationCount field.
func (r Query) UnreadNotificationCount(ctx context.Context) (int, error) {
	self, err := member.PrincipalFrom(ctx).Self()
	if err != nil {
		return 0, err
	}
	return r.unread(ctx, self)
}

// NotificationPreferences is the resolver for the notificationPreferences field.
func (r Query) NotificationPreferences(ctx context.Context) (*model.NotificationPreferences, error) {
	self, err := member.PrincipalFrom(ctx).Self()
	if err != nil {
		return nil, err
	}
	m, err := r.Inbox.Muted(ctx, self)
	if err != nil {
		return nil, err
	}
	if m == nil {
		m = []inbox.Category{}
	}
	return &model.NotificationPreferences{Muted: m}, nil
}

// Notifications is the resolver for the notifications field.
func (r Subscription) Notifications(ctx context.Context, after *string) (<-chan *inbox.Notification, error) {
	id, err := member.PrincipalFrom(ctx).Self()
	if err != nil {
		return nil, err
	}
	from := int64(-1) // live only
	if after != nil {
		if from, err = relay.DecodeCursor(notificationsList(id), after); err != nil {
			return nil, err
		}
	}
	return request.PushStream(ctx, func(ctx context.Context, ready func()) (<-chan *inbox.Notification, error) {
		return r.Inbox.Stream(ctx, id, from, ready)
	})
}
