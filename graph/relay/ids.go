// Package relay gives the API's ids and pages the shapes of the Relay
// specifications (Global Object Identification, Cursor Connections): opaque
// global ids, opaque cursors, page sizes and Edges, and the public ids of
// what notifications, ledger entries and audit-log entries refer to.
package relay

import (
	"encoding/base64"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/game/leaderboard"
	"github.com/regulars/regulars/graph/model"
	"github.com/regulars/regulars/input"
)

// strict reads ids and cursors: only the one string EncodeID (or a cursor's
// encoder) gives, so changing the unused bits of the last character names
// no object twice (base64's non-strict decoding ignores them).
var strict = base64.RawURLEncoding.Strict()

// EncodeID is the opaque id of the object of GraphQL type typ whose
// database id is id: the type name and the database id, base64url
// encoded, so an id of one type is never taken for another.
func EncodeID(typ string, id bson.ObjectID) string {
	return base64.RawURLEncoding.EncodeToString([]byte(typ + ":" + id.Hex()))
}

// APIID is the id this API shows for an object of GraphQL type typ whose
// database id is hexID: the ids of webhook payloads (webhook.Deps.APIID),
// so a receiver can fetch the object with node(id:).
func APIID(typ, hexID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(typ + ":" + hexID))
}

// DecodeID reads the database id out of an opaque id of type typ (say
// "Member") given in argument field; an input error naming field if it is
// not one.
func DecodeID(typ, field, s string) (bson.ObjectID, error) {
	raw, err := strict.DecodeString(s)
	if err == nil {
		if hex, ok := strings.CutPrefix(string(raw), typ+":"); ok {
			// Only the form EncodeID gives: one object, one id.
			if id, err := bson.ObjectIDFromHex(hex); err == nil && id.Hex() == hex {
				return id, nil
			}
		}
	}
	return bson.ObjectID{}, input.Errorf(field, "is not an id of a %s (ids are the opaque strings this API returns)", typ)
}

// TypeOf is the GraphQL type an opaque id names ("Member"), "" for a
// string that is no id of this API; DecodeID then reads the id itself.
func TypeOf(s string) string {
	raw, err := strict.DecodeString(s)
	if err != nil {
		return ""
	}
	typ, hex, ok := strings.Cut(string(raw), ":")
	if _, err := bson.ObjectIDFromHex(hex); !ok || err != nil {
		return ""
	}
	return typ
}

// DecodeOptionalID is DecodeID for an optional argument: the zero id when
// it is not given.
func DecodeOptionalID(typ, field string, s *string) (bson.ObjectID, error) {
	if s == nil {
		return bson.ObjectID{}, nil
	}
	return DecodeID(typ, field, *s)
}

// Page sizes: first defaults to DefaultFirst and may not exceed MaxFirst.
const (
	DefaultFirst = 20
	MaxFirst     = 100
)

// PageSize is a connection's first argument checked: DefaultFirst when
// nil, an input error naming first outside 1..MaxFirst.
func PageSize(first *int) (int, error) {
	if first == nil {
		return DefaultFirst, nil
	}
	if *first < 1 || *first > MaxFirst {
		return 0, input.Errorf("first", "must be between 1 and %d, got %d", MaxFirst, *first)
	}
	return *first, nil
}

// Edges builds a connection page: an edge per node with its cursor, and
// the page info the Relay cursor connections spec asks for.
//
// Pages run forward (first/after). hasPreviousPage is true when the page was
// asked for with after: the cursor names an item the client was given,
// which sits before this page. The spec lets a server answer false for
// forward paging; answering true here lets a client that started mid-list
// know there is more above. It is not re-checked against the database: if
// every item before the cursor was deleted since, it stays true.
func Edges[N, E any](nodes []N, more bool, after *string, cursor func(N) string, edge func(cursor string, node N) E) ([]E, *model.PageInfo) {
	out := make([]E, len(nodes))
	info := &model.PageInfo{HasNextPage: more, HasPreviousPage: after != nil && *after != ""}
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

// EncodeCursor is an opaque cursor: a prefix naming the list and a
// position in it.
func EncodeCursor(list string, pos int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(list + ":" + strconv.FormatInt(pos, 10)))
}

// DecodeCursor reads an "after" cursor of list; nil means the start.
func DecodeCursor(list string, after *string) (int64, error) {
	if after == nil || *after == "" {
		return 0, nil
	}
	raw, err := strict.DecodeString(*after)
	if err == nil {
		if n, ok := strings.CutPrefix(string(raw), list+":"); ok {
			if pos, err := strconv.ParseInt(n, 10, 64); err == nil && pos > 0 {
				return pos, nil
			}
		}
	}
	return 0, input.Errorf("after", "is not a cursor of this list")
}

// EncodeIDCursor is a cursor of a list ordered by database id.
func EncodeIDCursor(list string, id bson.ObjectID) string {
	return base64.RawURLEncoding.EncodeToString([]byte(list + ":" + id.Hex()))
}

// DecodeIDCursor reads an "after" cursor of list made by EncodeIDCursor;
// nil means the start.
func DecodeIDCursor(list string, after *string) (bson.ObjectID, error) {
	if after == nil || *after == "" {
		return bson.ObjectID{}, nil
	}
	raw, err := strict.DecodeString(*after)
	if err == nil {
		if hex, ok := strings.CutPrefix(string(raw), list+":"); ok {
			if id, err := bson.ObjectIDFromHex(hex); err == nil && id.Hex() == hex {
				return id, nil
			}
		}
	}
	return bson.ObjectID{}, input.Errorf("after", "is not a cursor of this list")
}

// BoardList names the list of board b in cursors (StandingCursor): its
// period and key, so a cursor of one board is refused by another.
func BoardList(b leaderboard.Board) string {
	return "leaderboard." + string(b.Period) + "." + b.Key
}

// EncodeStandingCursor holds a row's score and member, the board's sort
// key, as a cursor of list (BoardList).
func EncodeStandingCursor(list string, s leaderboard.Standing) string {
	return EncodeStringCursor(list, strconv.FormatInt(s.Score, 10)+":"+s.MemberID.Hex())
}

// DecodeStandingCursor reads a leaderboard's "after" cursor of list made
// by EncodeStandingCursor; nil means the start. Any other cursor, one of
// another board included, is BAD_USER_INPUT on after.
func DecodeStandingCursor(list string, after *string) (*leaderboard.Standing, error) {
	pos, err := DecodeStringCursor(list, after)
	if err != nil || pos == "" {
		return nil, err
	}
	if score, hex, ok := strings.Cut(pos, ":"); ok {
		n, err1 := strconv.ParseInt(score, 10, 64)
		id, err2 := bson.ObjectIDFromHex(hex)
		if err1 == nil && err2 == nil && n >= 0 {
			return &leaderboard.Standing{Score: n, MemberID: id}, nil
		}
	}
	return nil, input.Errorf("after", "is not a cursor of this leaderboard")
}

// LedgerList names a member's ledger in cursors: a cursor of one
// member's ledger is refused on another's.
func LedgerList(memberID bson.ObjectID) string { return "ledger." + memberID.Hex() }

// DeliveriesList names a webhook's deliveries in cursors: a cursor of
// one webhook's deliveries is refused on another's.
func DeliveriesList(webhookID bson.ObjectID) string { return "webhookDeliveries." + webhookID.Hex() }
