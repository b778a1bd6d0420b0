package eventsgql

import (
	"context"

	"github.com/regulars/regulars/community/events"
	"github.com/regulars/regulars/community/events/rsvp"
	"github.com/regulars/regulars/member"
)

// Announcement is the resolver for the announcement field.
func (r Event) Announcement(ctx context.Context, obj *events.Event) (*events.Announcement, error) {
	if !events.MaySeeAnnouncement(member.PrincipalFrom(ctx), obj) {
		return nil, nil
	}
	return &obj.Announcement, nil
}

// NoShowPenalty is the resolver for the noShowPenalty field.
func (r Rsvp) NoShowPenalty(ctx context.Context, obj *rsvp.RSVP) (*rsvp.NoShowPenalty, error) {
	if !rsvp.MaySeePenalty(member.PrincipalFrom(ctx), obj) {
		return nil, nil
	}
	return obj.NoShowPenalty, nil
}
