package events

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/member"
)

// Who may see which event, and what of it. The GraphQL layer's @auth lets
// a caller in (deny by default); these rules decide what that caller
// reaches.

// MaySeeDraft reports whether p may read an event before it is
// published: the brand only (door staff see published events only).
func MaySeeDraft(p member.Principal) bool { return p.Has(member.RoleBrand) }

// WorksTheDoor reports whether p checks members in at events' doors:
// BRAND and STAFF (and the brand's backend).
func WorksTheDoor(p member.Principal) bool {
	return p.Has(member.RoleBrand) || p.Has(member.RoleStaff)
}

// MaySee reports whether p may read event e: the brand any event; door
// staff any published, cancelled or ended one, whoever may attend it (a
// tier or member list limits who answers, not who works the door); a
// member any but a draft and one listed for other members only.
func MaySee(p member.Principal, e *Event) bool {
	switch {
	case MaySeeDraft(p):
		return true
	case e.Status == StatusDraft:
		return false
	case WorksTheDoor(p):
		return true
	}
	return !p.MemberID.IsZero() && !hidden(e, p.MemberID)
}

// MaySeeAnnouncement reports whether p may read how far announcing e got:
// the brand, once e was published (a draft has nothing announced).
func MaySeeAnnouncement(p member.Principal, e *Event) bool {
	return p.Has(member.RoleBrand) && e.Status != StatusDraft
}

// Read returns event id as p may see it (MaySee); ErrEventNotFound for one
// p may not see, whether it exists or not. A caller who neither works the
// door nor has a member profile gets member.Principal.Self's error.
func (s *Service) Read(ctx context.Context, p member.Principal, id bson.ObjectID) (*Event, error) {
	if !WorksTheDoor(p) {
		if _, err := p.Self(); err != nil {
			return nil, err
		}
	}
	e, err := s.events.get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !MaySee(p, e) {
		return nil, ErrEventNotFound
	}
	return e, nil
}

// StatusNow is e's status at the service's clock (Event.StatusAt): a
// published event is ENDED once over.
func (s *Service) StatusNow(e *Event) Status { return e.StatusAt(s.now()) }
