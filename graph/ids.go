package graph

import (
	"encoding/base64"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/leaderboard"
	"github.com/regulars/regulars/input"
)

// IDs are opaque to clients: the type name and the database id, base64url
// encoded, so an id of one type is never taken for another.
func encodeID(typ string, id bson.ObjectID) string {
	return base64.RawURLEncoding.EncodeToString([]byte(typ + ":" + id.Hex()))
}

// APIID is the id this API shows for an object of GraphQL type typ whose
// database id is hexID: the ids of webhook payloads (webhook.Deps.APIID),
// so a receiver can fetch the object with node(id:).
func APIID(typ, hexID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(typ + ":" + hexID))
}

// decodeID reads an id of type typ given in argument field.
func decodeID(typ, field, s string) (bson.ObjectID, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		if hex, ok := strings.CutPrefix(string(raw), typ+":"); ok {
			if id, err := bson.ObjectIDFromHex(hex); err == nil {
				return id, nil
			}
		}
	}
	return bson.ObjectID{}, input.Errorf(field, "is not an id of a %s (ids are the opaque strings this API returns)", typ)
}

// decodeOptionalID is decodeID for an optional argument: the zero id when
// it is not given.
func decodeOptionalID(typ, field string, s *string) (bson.ObjectID, error) {
	if s == nil {
		return bson.ObjectID{}, nil
	}
	return decodeID(typ, field, *s)
}

// Page sizes: first defaults to defaultFirst and may not exceed maxFirst.
const (
	defaultFirst = 20
	maxFirst     = 100
)

func pageSize(first *int) (int, error) {
	if first == nil {
		return defaultFirst, nil
	}
	if *first < 1 || *first > maxFirst {
		return 0, input.Errorf("first", "must be between 1 and %d, got %d", maxFirst, *first)
	}
	return *first, nil
}

// edges builds a connection page: an edge per node with its cursor, and
// the page info the Relay cursor connections spec asks for.
//
// Pages run forward (first/after). hasPreviousPage is true when the page was
// asked for with after: the cursor names an item the client was given,
// which sits before this page. The spec lets a server answer false for
// forward paging; answering true here lets a client that started mid-list
// know there is more above. It is not re-checked against the database: if
// every item before the cursor was deleted since, it stays true.
func edges[N, E any](nodes []N, more bool, after *string, cursor func(N) string, edge func(cursor string, node N) E) ([]E, *PageInfo) {
	out := make([]E, len(nodes))
	info := &PageInfo{HasNextPage: more, HasPreviousPage: after != nil && *after != ""}
	for i, n := range nodes {
		c := cursor(n)
		out[i] = edge(c, n)
		if i == 0 {
			info.StartCursor = &c
		}
		if i == len(nodes)-1 {
			info.EndCursor = &c
		}
	}
	return out, info
}

// Cursors are opaque too: a prefix naming the list and a position in it.
func encodeCursor(list string, pos int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(list + ":" + strconv.FormatInt(pos, 10)))
}

// decodeCursor reads an "after" cursor of list; nil means the start.
func decodeCursor(list string, after *string) (int64, error) {
	if after == nil || *after == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(*after)
	if err == nil {
		if n, ok := strings.CutPrefix(string(raw), list+":"); ok {
			if pos, err := strconv.ParseInt(n, 10, 64); err == nil && pos > 0 {
				return pos, nil
			}
		}
	}
	return 0, input.Errorf("after", "is not a cursor of this list")
}

// ID cursors page lists ordered by database id.
func encodeIDCursor(list string, id bson.ObjectID) string {
	return base64.RawURLEncoding.EncodeToString([]byte(list + ":" + id.Hex()))
}

func decodeIDCursor(list string, after *string) (bson.ObjectID, error) {
	if after == nil || *after == "" {
		return bson.ObjectID{}, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(*after)
	if err == nil {
		if hex, ok := strings.CutPrefix(string(raw), list+":"); ok {
			if id, err := bson.ObjectIDFromHex(hex); err == nil {
				return id, nil
			}
		}
	}
	return bson.ObjectID{}, input.Errorf("after", "is not a cursor of this list")
}

// Standing cursors hold a row's score and member, the board's sort key.
func encodeStandingCursor(s leaderboard.Standing) string {
	return base64.RawURLEncoding.EncodeToString([]byte("standing:" + strconv.FormatInt(s.Score, 10) + ":" + s.MemberID.Hex()))
}

func decodeStandingCursor(after *string) (*leaderboard.Standing, error) {
	if after == nil || *after == "" {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(*after)
	if err == nil {
		parts := strings.Split(string(raw), ":")
		if len(parts) == 3 && parts[0] == "standing" {
			score, err1 := strconv.ParseInt(parts[1], 10, 64)
			id, err2 := bson.ObjectIDFromHex(parts[2])
			if err1 == nil && err2 == nil && score >= 0 {
				return &leaderboard.Standing{Score: score, MemberID: id}, nil
			}
		}
	}
	return nil, input.Errorf("after", "is not a cursor of this leaderboard")
}

// DecodeID reads the database id out of an opaque id of type typ (say
// "Member"), for tools and tests that hold an API id; an error if it is
// not one.
func DecodeID(typ, id string) (bson.ObjectID, error) { return decodeID(typ, "id", id) }

// EncodeID is the opaque API id of a database id of type typ (CSV exports).
func EncodeID(typ string, id bson.ObjectID) string { return encodeID(typ, id) }
