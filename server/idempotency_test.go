package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/regulars/regulars/graph"
)

// keyedMutation is a mutation made once per idempotency key: a replay with
// the same input answers the first result; with other input it is refused
// with IDEMPOTENCY_KEY_REUSED naming the key, and nothing is written. The
// README's "Idempotency" table lists the same fingerprints.
type keyedMutation struct {
	key         string // the field naming the key
	fingerprint string // what must match for a replay
	// send makes the call with the key and a variant of the input (0, 1…),
	// as the member or the brand; nil: the key is the whole input.
	send func(e *keyedEnv, key string, variant int) *gqlResponse
}

type keyedEnv struct {
	a        *app
	t        *testing.T
	ann      session
	rewardID [2]string
	eventID  string
	code     string // a redemption's code, for the till
}

func (e *keyedEnv) balance() int {
	var m struct{ Points struct{ Balance int } }
	e.a.do(e.t, e.ann.bearer(), `{ me { points { balance } } }`, nil).decode(e.t, "me", &m)
	return m.Points.Balance
}

var keyedMutations = map[string]keyedMutation{
	"recordActivity": {key: "externalId", fingerprint: "kind, memberId, amountMinor, currency, occurredAt (to the millisecond), refundOf, items",
		send: func(e *keyedEnv, key string, v int) *gqlResponse {
			return e.a.service(e.t, recordActivity, map[string]any{"in": map[string]any{
				"memberId": e.ann.Member.ID, "kind": "PURCHASE", "externalId": key, "amountMinor": 1000 + 500*v, "currency": "USD",
				"occurredAt": "2026-11-20T10:00:00Z",
			}})
		}},
	"adjustPoints": {key: "idempotencyKey", fingerprint: "memberId (keys are per member), amount, reason",
		send: func(e *keyedEnv, key string, v int) *gqlResponse {
			return e.a.service(e.t, `mutation($id: ID!, $n: Int!, $k: String!) { adjustPoints(memberId: $id, amount: $n, reason: "goodwill", idempotencyKey: $k) { id } }`,
				map[string]any{"id": e.ann.Member.ID, "n": 10 + v, "k": key})
		}},
	"redeemReward": {key: "idempotencyKey", fingerprint: "the member (keys are per member), rewardId",
		send: func(e *keyedEnv, key string, v int) *gqlResponse {
			return e.a.do(e.t, e.ann.bearer(), `mutation($r: ID!, $k: String!) { redeemReward(rewardId: $r, idempotencyKey: $k) { id } }`,
				map[string]any{"r": e.rewardID[v], "k": key})
		}},
	"buyStreakFreeze": {key: "idempotencyKey", fingerprint: "the member (keys are per member); no other input"},
	"fulfillRedemption": {key: "idempotencyKey", fingerprint: "code, location (keys are global: one key, one fulfilment)",
		send: func(e *keyedEnv, key string, v int) *gqlResponse {
			if e.code == "" {
				var r struct{ Code string }
				e.a.do(e.t, e.ann.bearer(), `mutation($r: ID!) { redeemReward(rewardId: $r, idempotencyKey: "for-the-till") { code } }`,
					map[string]any{"r": e.rewardID[0]}).decode(e.t, "redeemReward", &r)
				e.code = r.Code
			}
			return e.a.service(e.t, fulfilMutation, map[string]any{"c": e.code, "l": fmt.Sprint("till ", v), "k": key})
		}},
	"rsvp": {key: "idempotencyKey", fingerprint: "the member (keys are per member), eventId, guests",
		send: func(e *keyedEnv, key string, v int) *gqlResponse {
			if e.eventID == "" {
				e.eventID = e.a.publishedEvent(e.t, nil)
			}
			return e.a.do(e.t, e.ann.bearer(), rsvpMutation, map[string]any{"id": e.eventID, "g": v, "k": key})
		}},
}

// keyedInSchema walks the schema's mutations: those with an idempotencyKey
// argument, or an input argument with an idempotencyKey or externalId field.
func keyedInSchema() []string {
	schema := graph.Schema()
	var out []string
	for _, f := range schema.Mutation.Fields {
		for _, arg := range f.Arguments {
			in := schema.Types[arg.Type.Name()]
			if arg.Name == "idempotencyKey" || in != nil && in.Kind == ast.InputObject &&
				(in.Fields.ForName("idempotencyKey") != nil || in.Fields.ForName("externalId") != nil) {
				out = append(out, f.Name)
				break
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestEveryKeyedMutationRefusesAReusedKey(t *testing.T) {
	inSchema := keyedInSchema()
	if got, want := fmt.Sprint(inSchema), fmt.Sprint(slices.Sorted(maps.Keys(keyedMutations))); got != want {
		t.Fatalf("keyed mutations in the schema %s, in keyedMutations %s: classify each with its fingerprint", got, want)
	}
	a := startApp(t, nil)
	a.setProgram(t)
	e := &keyedEnv{a: a, t: t, ann: a.signUp(t, "ann@example.com")}
	a.service(t, recordActivity, purchaseVars(e.ann.Member.ID, "seed", 20000)).decode(t, "recordActivity", &struct{ Points int }{})
	for i, name := range []string{"Tote bag", "Mug"} {
		var r struct{ ID string }
		a.service(t, `mutation($n: String!) { createReward(input: {name: $n, cost: 50}) { id } }`, map[string]any{"n": name}).decode(t, "createReward", &r)
		e.rewardID[i] = r.ID
	}
	for _, name := range inSchema {
		m := keyedMutations[name]
		if m.send == nil {
			continue // the key is the whole input: every replay is the same request
		}
		key := "key-" + name
		first := m.send(e, key, 0)
		if len(first.Errors) > 0 {
			t.Errorf("%s: first call: %+v", name, first.Errors)
			continue
		}
		before := e.balance()
		// The replay answers what the first call did (marked replayed where the type says so).
		if again := m.send(e, key, 0); len(again.Errors) > 0 ||
			strings.Replace(string(again.Data[name]), `"replayed":true`, `"replayed":false`, 1) != string(first.Data[name]) {
			t.Errorf("%s: a replay answered %s %+v, want the first result %s", name, again.Data[name], again.Errors, first.Data[name])
		}
		r := m.send(e, key, 1)
		if r.code() != graph.CodeIdempotencyKeyReused || r.Errors[0].Extensions["field"] != m.key || !strings.Contains(r.Errors[0].Message, m.key) {
			t.Errorf("%s: the key with other input answered %q %+v; want %s naming %s", name, r.code(), r.Errors, graph.CodeIdempotencyKeyReused, m.key)
		}
		if after := e.balance(); after != before {
			t.Errorf("%s: a refused reuse moved the balance from %d to %d", name, before, after)
		}
	}
}
