package main

import (
	"strings"
	"testing"
)

const membersQuery = `query($s: String, $first: Int, $after: String) { members(search: $s, first: $first, after: $after) {
  edges { cursor node { id email displayName } } pageInfo { hasNextPage endCursor } } }`

type memberPage struct {
	Edges []struct {
		Node struct{ ID, Email, DisplayName string }
	}
	PageInfo struct {
		HasNextPage bool
		EndCursor   *string
	}
}

func (p memberPage) emails() []string {
	var out []string
	for _, e := range p.Edges {
		out = append(out, e.Node.Email)
	}
	return out
}

func TestBrandFindsMembers(t *testing.T) {
	a := startApp(t, nil)
	ann := a.signUp(t, "ann@example.com")
	a.signUp(t, "bob@example.com")
	zoe := a.signUp(t, "zoe.martin@shop.example")
	var z struct{ DisplayName string }
	a.do(t, zoe.bearer(), `mutation { updateProfile(input: {displayName: "Zoë STRASSE"}) { displayName } }`, nil).decode(t, "updateProfile", &z)

	search := func(vars map[string]any) memberPage {
		t.Helper()
		var p memberPage
		a.service(t, membersQuery, vars).decode(t, "members", &p)
		return p
	}
	// By the start of an address, in any case; by the start of a display
	// name, case-folded (ß matches SS); by id.
	for _, c := range []struct {
		search string
		want   string
	}{
		{"ANN@", "[ann@example.com]"},
		{"zoe.m", "[zoe.martin@shop.example]"},
		{"zoë straße", "[zoe.martin@shop.example]"},
		{zoe.Member.ID, "[zoe.martin@shop.example]"},
		{"nobody", "[]"},
		{"a.*", "[]"}, // not a pattern
	} {
		if got := search(map[string]any{"s": c.search}).emails(); fmtList(got) != c.want {
			t.Errorf("members(search: %q) = %v, want %s", c.search, got, c.want)
		}
	}
	// Every member, paged by cursor, each once.
	p1 := search(map[string]any{"first": 2})
	if len(p1.Edges) != 2 || !p1.PageInfo.HasNextPage {
		t.Fatalf("first page: %+v", p1)
	}
	p2 := search(map[string]any{"first": 2, "after": *p1.PageInfo.EndCursor})
	if got := append(p1.emails(), p2.emails()...); fmtList(got) != "[ann@example.com bob@example.com zoe.martin@shop.example]" || p2.PageInfo.HasNextPage {
		t.Fatalf("all members over two pages: %v (more: %v)", got, p2.PageInfo.HasNextPage)
	}

	// A one-letter search would match a large share of members.
	if r := a.service(t, membersQuery, map[string]any{"s": "a"}); r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "search" {
		t.Fatalf("one-letter search: %+v", r)
	}
	// A customer may not list members.
	if r := a.do(t, ann.bearer(), membersQuery, nil); r.code() != "FORBIDDEN" {
		t.Fatalf("customer listing members: %+v", r)
	}
}

func fmtList(s []string) string { return "[" + strings.Join(s, " ") + "]" }
