package eventsgql

import (
	"context"

	"github.com/regulars/regulars/graph/model"
	"github.com/regulars/regulars/graph/relay"
	"github.com/regulars/regulars/member"

	"github.com/99designs/gqlgen/graphql"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/community/events"
)

// eventFrom is the event whose field is being resolved (for its place).
func eventFrom(ctx context.Context) *events.Event {
	for fc := graphql.GetFieldContext(ctx); fc != nil; fc = fc.Parent {
		if e, ok := fc.Result.(*events.Event); ok {
			return e
		}
	}
	return nil
}

// memberEvent decodes an event id argument for the signed-in member.
func memberEvent(ctx context.Context, eventID string) (bson.ObjectID, bson.ObjectID, error) {
	me, err := member.PrincipalFrom(ctx).Self()
	if err != nil {
		return me, bson.ObjectID{}, err
	}
	eid, err := relay.DecodeID("Event", "eventId", eventID)
	return me, eid, err
}

func eventConnection(list string, evs []*events.Event, more bool, after *string) *model.EventConnection {
	es, info := relay.Edges(evs, more, after, func(e *events.Event) string { return relay.EncodeIDCursor(list, e.ID) },
		func(c string, e *events.Event) *model.EventEdge { return &model.EventEdge{Cursor: c, Node: e} })
	return &model.EventConnection{Edges: es, PageInfo: info}
}
