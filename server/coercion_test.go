package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// A value gqlgen refuses before any resolver runs — a float or a number
// past an Int's range, in a variable, in an input object's field sent as
// a variable or inline — is BAD_USER_INPUT naming the argument or field
// in extensions.field and the message, over HTTP; nothing is written.
func TestIntCoercionNamesTheField(t *testing.T) {
	a := startApp(t, nil)
	ann := a.signUp(t, "ann@example.com")
	members := `query($first: Int) { members(first: $first) { edges { cursor } } }`
	record := `mutation($in: RecordActivityInput!) { recordActivity(input: $in) { points } }`
	purchase := func(amount any) map[string]any {
		v := purchaseVars(ann.Member.ID, "coerce", 0)
		v["in"].(map[string]any)["amountMinor"] = amount
		return v
	}
	for _, c := range []struct {
		name, query string
		vars        map[string]any
		field       string
	}{
		{"a float variable", members, map[string]any{"first": 2.5}, "first"},
		{"a variable past int64", members, map[string]any{"first": json.Number("99999999999999999999")}, "first"},
		{"a variable past 32 bits", members, map[string]any{"first": json.Number("3000000000")}, "first"},
		{"a list item past 32 bits", `query($h: [Int!]) { analytics { ltv(horizons: $h, range: {from: "2026-01-01", to: "2026-02-01"}) { horizons } } }`,
			map[string]any{"h": []any{30, json.Number("-3000000000")}}, "horizons[1]"},
		{"a variable of another name", `query($n: Int) { members(first: $n) { edges { cursor } } }`, map[string]any{"n": 2.5}, "first"},
		{"a float literal", `{ members(first: 2.5) { edges { cursor } } }`, nil, "first"},
		{"a literal past 32 bits", `{ members(first: 99999999999999999999) { edges { cursor } } }`, nil, "first"},
		{"a literal past 32 bits within 64", `{ members(first: 3000000000) { edges { cursor } } }`, nil, "first"},
		{"a mutation's literal past 32 bits", `mutation { adjustPoints(memberId: "` + ann.Member.ID + `", amount: 99999999999, reason: "x", idempotencyKey: "k") { amount } }`, nil, "amount"},
		{"a literal past 32 bits in a fragment", `query { ...F } fragment F on Query { members(first: -3000000000) { edges { cursor } } }`, nil, "first"},
		{"an input object's literal past 32 bits", `mutation { recordActivity(input: {memberId: "` + ann.Member.ID +
			`", kind: PURCHASE, externalId: "x", amountMinor: 2147483648, currency: "USD", occurredAt: "2026-01-01T00:00:00Z"}) { points } }`, nil, "amountMinor"},
		{"a float in an input variable", record, purchase(2.5), "amountMinor"},
		{"a huge number in an input variable", record, purchase(json.Number("99999999999999999999")), "amountMinor"},
		{"an input field past 32 bits", record, purchase(json.Number("2147483648")), "amountMinor"},
		{"a float variable inside an inline input", `mutation($a: Int!) { recordActivity(input: {memberId: "` + ann.Member.ID +
			`", kind: PURCHASE, externalId: "x", amountMinor: $a, currency: "USD", occurredAt: "2026-01-01T00:00:00Z"}) { points } }`,
			map[string]any{"a": 2.5}, "amountMinor"},
	} {
		r := a.service(t, c.query, c.vars)
		if r.status != 200 || len(r.Errors) != 1 || r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != c.field ||
			!strings.HasPrefix(r.Errors[0].Message, c.field+": ") {
			t.Errorf("%s: HTTP %d %+v, want BAD_USER_INPUT on %s", c.name, r.status, r.Errors, c.field)
		}
	}
	var me struct{ Points struct{ Balance int } }
	a.do(t, ann.bearer(), `{ me { points { balance } } }`, nil).decode(t, "me", &me)
	if me.Points.Balance != 0 {
		t.Fatalf("refused purchases wrote points: %d", me.Points.Balance)
	}
}

// A DateTime or Date that does not parse — words, a month 13, a number, in
// a variable or a literal — is BAD_USER_INPUT naming the argument or
// field, as an Int is, never INTERNAL; nothing is written.
func TestScalarCoercionNamesTheField(t *testing.T) {
	a := startApp(t, nil)
	ann := a.signUp(t, "ann@example.com")
	record := `mutation($in: RecordActivityInput!) { recordActivity(input: $in) { points } }`
	occurred := func(at any) map[string]any {
		v := purchaseVars(ann.Member.ID, "coerce", 100)
		v["in"].(map[string]any)["occurredAt"] = at
		return v
	}
	inline := func(at string) string {
		return `mutation { recordActivity(input: {memberId: "` + ann.Member.ID + `", kind: PURCHASE, externalId: "x", amountMinor: 100, currency: "USD", occurredAt: ` + at + `}) { points } }`
	}
	event := func(starts any) map[string]any {
		return map[string]any{"in": eventInput(func(in map[string]any) { in["startsAt"] = starts })}
	}
	for _, c := range []struct {
		name, query string
		vars        map[string]any
		field       string
	}{
		{"words in a variable", record, occurred("yesterday"), "occurredAt"},
		{"month 13 in a variable", record, occurred("2026-13-01T04:00:00Z"), "occurredAt"},
		{"a number in a variable", record, occurred(12345), "occurredAt"},
		{"words in a literal", inline(`"yesterday"`), nil, "occurredAt"},
		{"a number in a literal", inline(`12345`), nil, "occurredAt"},
		{"an event's start in words", createEventMutation, event("soon"), "startsAt"},
		{"an event's start as a number", createEventMutation, event(12345), "startsAt"},
		{"an event's start as a literal", `mutation { createEvent(input: {title: "Ride", place: {venue: "Club"}, startsAt: "soon", endsAt: "2027-01-01T00:00:00Z", timezone: "UTC", capacity: 5}) { id } }`, nil, "startsAt"},
	} {
		r := a.service(t, c.query, c.vars)
		if r.status != 200 || len(r.Errors) != 1 || r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != c.field ||
			!strings.HasPrefix(r.Errors[0].Message, c.field+": ") {
			t.Errorf("%s: HTTP %d %+v, want BAD_USER_INPUT on %s", c.name, r.status, r.Errors, c.field)
		}
	}
	// A Date is named the same way: by its field, not its path.
	for _, q := range []string{`mutation { updateProfile(input: {birthday: "1990-02-30"}) { birthday } }`, `mutation { updateProfile(input: {birthday: 19900101}) { birthday } }`} {
		r := a.do(t, ann.bearer(), q, nil)
		if len(r.Errors) != 1 || r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "birthday" || !strings.HasPrefix(r.Errors[0].Message, "birthday: ") {
			t.Errorf("%s: %+v, want BAD_USER_INPUT on birthday", q, r.Errors)
		}
	}
	var me struct{ Points struct{ Balance int } }
	a.do(t, ann.bearer(), `{ me { points { balance } } }`, nil).decode(t, "me", &me)
	if me.Points.Balance != 0 {
		t.Fatalf("refused purchases wrote points: %d", me.Points.Balance)
	}
}

// expiringSoon takes its documented maximum, withinDays: 3650: the days
// are a filter, not a list size the cost rule would count.
func TestExpiringSoonTakesItsDocumentedMaximum(t *testing.T) {
	a := startApp(t, nil)
	ann := a.signUp(t, "ann@example.com")
	var me struct {
		Points struct{ ExpiringSoon []struct{ Amount int } }
	}
	a.do(t, ann.bearer(), `{ me { points { expiringSoon(withinDays: 3650) { amount at } } } }`, nil).decode(t, "me", &me)
	if r := a.do(t, ann.bearer(), `{ me { points { expiringSoon(withinDays: 3651) { amount } } } }`, nil); r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "withinDays" {
		t.Fatalf("3651 days: %+v", r.Errors)
	}
}
