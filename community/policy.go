package community

import (
	"context"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/community/forum"
	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/member"
)

// Who may do what in the community. The API's @auth lets a caller in;
// these rules decide what they reach.

var (
	ErrNoAccess      = fault.New(fault.Forbidden, "this space is not open to you")
	ErrMayNotPost    = fault.New(fault.Forbidden, "you may read this space but not post in it")
	ErrNotModerator  = fault.New(fault.Forbidden, "only a moderator of this space may do this")
	ErrBrandOnly     = fault.New(fault.Forbidden, "only the brand may do this")
	ErrOwnPost       = fault.New(fault.Invalid, "you cannot flag your own post")
	ErrLinksNotYet   = fault.New(fault.Forbidden, "links are allowed after your first purchase")
	ErrUnknownTarget = fault.New(fault.NotFound, "nothing to moderate here")
)

// ManagesCommunity reports whether p runs the community: BRAND users and
// the brand's backend create spaces, appoint moderators and read the log.
func ManagesCommunity(p member.Principal) bool { return p.Has(member.RoleBrand) }

// Moderates reports whether p moderates space sp: the brand, a global
// MODERATOR, or a member appointed to this space. An appointed moderator
// of another space has no power here.
func Moderates(p member.Principal, sp *forum.Space) bool {
	if p.Has(member.RoleBrand) || p.Has(member.RoleModerator) {
		return true
	}
	return !p.MemberID.IsZero() && sp != nil && slices.Contains(sp.Moderators, p.MemberID)
}

// staff reports whether p is the brand or a global moderator.
func staff(p member.Principal) bool { return p.Has(member.RoleBrand) || p.Has(member.RoleModerator) }

// inAudience reports whether a member of standing st is in audience a.
func inAudience(a forum.Audience, st Standing) bool {
	switch a.Kind {
	case forum.AudienceTiers:
		for _, t := range a.Tiers {
			if t == st.Tier {
				return true
			}
		}
		return false
	case forum.AudienceBadge:
		return a.Badge != nil && slices.Contains(st.Badges, *a.Badge)
	}
	return true
}

// mayRead decides whether p reads space sp: moderators always; others when
// in its read audience and, for a members-only space, not suspended.
func (s *Service) mayRead(ctx context.Context, p member.Principal, sp *forum.Space) error {
	if Moderates(p, sp) {
		return nil
	}
	if sp.Read.Kind == forum.AudienceEveryone || sp.Read.Kind == "" {
		return nil
	}
	if p.MemberID.IsZero() {
		return ErrNoAccess
	}
	st, err := s.economy.Standing(ctx, p.MemberID)
	if err != nil {
		return err
	}
	if !inAudience(sp.Read, st) {
		return ErrNoAccess
	}
	if sn, err := s.sanctioned(ctx, p.MemberID, sp.ID, true); err != nil || sn != nil {
		if sn != nil {
			return sn
		}
		return err
	}
	return nil
}

// Trust levels (Discourse's, tied to the program): what a member may do
// without a moderator's eye on them.
const (
	TrustNew     = 0 // account younger than a week, or a post hidden in the last 30 days
	TrustMember  = 1
	TrustRegular = 2 // above the lowest tier: skips slow mode
	TrustLeader  = 3 // the top tier
)

// newMemberAge is how long a member is new.
const newMemberAge = 7 * 24 * time.Hour

// Trust is member's trust level now.
func (s *Service) Trust(ctx context.Context, memberID bson.ObjectID) (int, Standing, error) {
	m, err := s.members.Get(ctx, memberID)
	if err != nil {
		return 0, Standing{}, err
	}
	st, err := s.economy.Standing(ctx, memberID)
	if err != nil {
		return 0, st, err
	}
	now := s.now()
	hidden, err := s.forum.Posts.HiddenSince(ctx, memberID, now.Add(-30*24*time.Hour))
	if err != nil {
		return 0, st, err
	}
	switch {
	case hidden || now.Sub(m.CreatedAt) < newMemberAge:
		return TrustNew, st, nil
	case st.TopTier && st.TierRank > 0:
		return TrustLeader, st, nil
	case st.TierRank > 0:
		return TrustRegular, st, nil
	}
	return TrustMember, st, nil
}
