package main

import (
	"regexp"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/regulars/regulars/graph"
)

// introspectionRefused answers a query for __schema or __type where
// INTROSPECTION is off: a client error with its own code, before anything
// runs, rather than the executor's "introspection disabled", which reaches
// the client as INTERNAL and logs as a server fault.
func (m *Main) introspectionRefused(rc *graphql.OperationContext) *gqlerror.Error {
	if m.Config.Introspection || rc.Operation == nil || rc.Operation.Operation != ast.Query {
		return nil
	}
	for _, f := range graphql.CollectFields(rc, rc.Operation.SelectionSet, []string{"Query"}) {
		if f.Name == "__schema" || f.Name == "__type" {
			e := gqlErr("introspection is disabled on this server", graph.CodeIntrospectionDisabled)
			e.Path = ast.Path{ast.PathName(f.Alias)}
			return e
		}
	}
	return nil
}

// suggestion is what validation adds to name a field, argument, type or
// enum value close to a wrong one.
var suggestion = regexp.MustCompile(` ?Did you mean [^?]*\?`)

// withoutSuggestions returns errs without "Did you mean …?" where
// introspection is off: the suggestions would spell out the schema that
// introspection keeps to itself. The errors are copied, not changed: a
// refused document's errors are cached and shared.
func (m *Main) withoutSuggestions(errs gqlerror.List) gqlerror.List {
	if m.Config.Introspection {
		return errs
	}
	out := make(gqlerror.List, len(errs))
	for i, e := range errs {
		if e == nil || !suggestion.MatchString(e.Message) {
			out[i] = e
			continue
		}
		c := *e
		c.Message = suggestion.ReplaceAllString(e.Message, "")
		out[i] = &c
	}
	return out
}
