package graph

import (
	"context"

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
	me, err := selfID(ctx)
	if err != nil {
		return me, bson.ObjectID{}, err
	}
	eid, err := decodeID("Event", "eventId", eventID)
	return me, eid, err
}

func eventConnection(list string, evs []*events.Event, more bool, after *string) *EventConnection {
	es, info := edges(evs, more, after, func(e *events.Event) string { return encodeIDCursor(list, e.ID) },
		func(c string, e *events.Event) *EventEdge { return &EventEdge{Cursor: c, Node: e} })
	return &EventConnection{Edges: es, PageInfo: info}
}
