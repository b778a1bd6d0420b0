package eventsgql

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/community/events/rsvp"
	"github.com/regulars/regulars/graph/model"
	"github.com/regulars/regulars/graph/relay"
	"github.com/regulars/regulars/member"
)

// Rsvps is the resolver for the rsvps field.
func (r Member) Rsvps(ctx context.Context, obj *member.Member, first *int, after *string) (*model.RsvpConnection, error) {
	es, info, err := relay.PageByID("member-rsvps."+obj.ID.Hex(), first, after,
		func(from bson.ObjectID, n int) ([]*rsvp.RSVP, bool, error) {
			return r.AttendeeService.RSVPsOf(ctx, member.PrincipalFrom(ctx), obj.ID, from, n)
		},
		func(x *rsvp.RSVP) bson.ObjectID { return x.EventID },
		func(c string, x *rsvp.RSVP) *model.RsvpEdge { return &model.RsvpEdge{Cursor: c, Node: x} })
	if err != nil {
		return nil, err
	}
	return &model.RsvpConnection{Edges: es, PageInfo: info}, nil
}
