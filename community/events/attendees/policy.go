package attendees

import (
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/member"
)

// Who sees who answered an event. The GraphQL layer's @auth lets a caller
// in (deny by default); these rules decide what that caller reaches.

// ErrNotYourMembersRSVPs: a member's RSVPs are theirs and the brand's to
// read (door staff see an event's attendees, not a member's history).
var ErrNotYourMembersRSVPs = fault.New(fault.Forbidden, "only the member and the brand see a member's RSVPs")

// MaySeeCounts reports whether p may read an event's RSVP counts by
// status (on the event and in its live updates): the brand only.
func MaySeeCounts(p member.Principal) bool { return p.Has(member.RoleBrand) }

// MayListAttendees reports whether p may list an event's RSVPs of a status
// (the attendees list and its CSV): the brand only.
func MayListAttendees(p member.Principal) bool { return p.Has(member.RoleBrand) }

// MayReadRSVPsOf reports whether p may read memberID's answers to events:
// the member and the brand.
func MayReadRSVPsOf(p member.Principal, memberID bson.ObjectID) bool {
	return p.MemberID == memberID || p.Has(member.RoleBrand)
}

// MaySeeMember reports whether p may read the whole member behind an RSVP:
// the brand only. Door staff see the name the door needs (MaySeeName).
func MaySeeMember(p member.Principal) bool { return p.Has(member.RoleBrand) }

// MaySeeName reports whether p may read an RSVP's display name: the
// brand and door staff, who greet the member at check-in.
func MaySeeName(p member.Principal) bool { return p.Has(member.RoleBrand) || p.Has(member.RoleStaff) }
