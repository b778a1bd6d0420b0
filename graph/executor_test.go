package graph

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// refusal returns the code (and gqlgen's reason) with which the executor
// refuses query before running it, "" if it would run.
func refusal(t *testing.T, exec *Executor, query string) string {
	t.Helper()
	ctx := graphql.StartOperationTrace(context.Background())
	_, errs := exec.CreateOperationContext(ctx, &graphql.RawParams{Query: query, ReadTime: graphql.TraceTiming{Start: graphql.Now(), End: graphql.Now()}})
	if len(errs) == 0 {
		return ""
	}
	e := presentError(ctx, errs[0])
	return fmt.Sprintf("%v/%v", e.Extensions["code"], e.Extensions["reason"])
}

// Issue 13 item 6: 40 aliases of a leaderboard page of 100 cost what the
// same with notifications costs, and are refused under the default 2,000.
func TestLeaderboardAliasesAreCostedLikeNotifications(t *testing.T) {
	exec := NewExecutor(&Resolver{}, Limits{Depth: 12, Complexity: 2000})
	aliases := func(field string) string {
		var b strings.Builder
		b.WriteString("{")
		for i := range 40 {
			fmt.Fprintf(&b, " a%d: %s { edges { node { __typename } } }", i, field)
		}
		return b.String() + " }"
	}
	const tooComplex = CodeBadUserInput + "/COMPLEXITY_LIMIT_EXCEEDED"
	for _, field := range []string{
		"leaderboard(period: ALL_TIME, first: 100)",
		"notifications(first: 100)",
	} {
		if got := refusal(t, exec, aliases(field)); got != tooComplex {
			t.Errorf("40 × %s: %q, want %s", field, got, tooComplex)
		}
	}
	const example = "{ leaderboard(period: ALL_TIME, first: 100) { edges { node { rank score member { displayName } } } } }"
	var b strings.Builder
	for i := range 40 {
		fmt.Fprintf(&b, "a%d: %s ", i, strings.Trim(example, "{} ")+" } } } }")
	}
	if got := refusal(t, exec, "{ "+b.String()+"}"); got != tooComplex {
		t.Errorf("issue 13's example: %q, want %s", got, tooComplex)
	}
	if got := refusal(t, exec, example); strings.Contains(got, "COMPLEXITY") {
		t.Errorf("one page of 100: refused %q", got)
	}
}

// Every connection on Query is costed first × its node at run time: 40
// pages of 100 of any of them are refused. (graph/guard's rule test covers
// every list of the schema; this one proves the executor applies it.)
func TestEveryQueryConnectionIsCosted(t *testing.T) {
	exec := NewExecutor(&Resolver{}, Limits{Depth: 12, Complexity: 2000})
	s := Schema()
	n := 0
	for _, f := range s.Query.Fields {
		if f.Arguments.ForName("first") == nil {
			continue
		}
		n++
		args := []string{"first: 100"}
		for _, a := range f.Arguments {
			if !a.Type.NonNull || a.DefaultValue != nil {
				continue
			}
			if a.Type.Name() == "ID" { // refused before any resolver runs: any id does
				args = append(args, a.Name+`: "x"`)
				continue
			}
			def := s.Types[a.Type.Name()]
			if a.Type.Name() == "ID" { // refused later, by the resolver: the cost rule runs first
				args = append(args, a.Name+`: "x"`)
				continue
			}
			if def.Kind != ast.Enum {
				t.Fatalf("%s(%s:): give the test a value of %s", f.Name, a.Name, a.Type)
			}
			args = append(args, a.Name+": "+def.EnumValues[0].Name)
		}
		var b strings.Builder
		for i := range 40 {
			fmt.Fprintf(&b, " a%d: %s(%s) { edges { node { __typename } } }", i, f.Name, strings.Join(args, ", "))
		}
		if got := refusal(t, exec, "{"+b.String()+" }"); !strings.Contains(got, "COMPLEXITY_LIMIT_EXCEEDED") {
			t.Errorf("40 × %s(first: 100): %q, want refused as too complex", f.Name, got)
		}
	}
	if n < 4 {
		t.Fatalf("found %d connections on Query", n)
	}
}

// Issue 13 item 5: 200 aliased logIn are refused before any runs (the
// resolver here has no member service: running one would be an INTERNAL
// error, not this refusal), naming the field.
func TestAliasedLogInsAreRefused(t *testing.T) {
	exec := NewExecutor(&Resolver{}, Limits{Depth: 12, Complexity: 2000})
	var b strings.Builder
	b.WriteString("mutation {")
	for i := range 200 {
		fmt.Fprintf(&b, ` a%d: logIn(input: {email: "ann@example.com", password: "guess %d"}) { accessToken }`, i, i)
	}
	b.WriteString(" }")
	ctx := graphql.StartOperationTrace(context.Background())
	_, errs := exec.CreateOperationContext(ctx, &graphql.RawParams{Query: b.String()})
	if len(errs) != 1 {
		t.Fatalf("errors %v, want one refusal", errs)
	}
	e := presentError(ctx, errs[0])
	if e.Extensions["code"] != CodeQueryLimit || e.Extensions["field"] != "logIn" || e.Extensions["limit"] != "ONCE_PER_REQUEST" {
		t.Fatalf("refusal %+v", e)
	}
}
