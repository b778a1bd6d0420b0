package graph

import (
	"context"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// valueField names the argument or input field a value gqlgen refused
// before any resolver ran belongs to, as domain input errors name theirs
// (input.Error.Field): "first", "amountMinor" (a field of an argument
// named input: the argument is left out, as the domain leaves it out),
// "place.address", "events[1]". Two refusals are named: a variable's
// value that does not coerce to its type (its path is "variable", the
// variable's name, then the path inside it), named by where the operation
// uses the variable; and a literal value of the wrong type (rule
// ValuesOfCorrectType), named by its place in the document. ok is false
// for anything else, or when the document is not at hand.
func valueField(ctx context.Context, e *gqlerror.Error) (field string, ok bool) {
	if !graphql.HasOperationContext(ctx) {
		return "", false
	}
	oc := graphql.GetOperationContext(ctx)
	if oc == nil {
		return "", false
	}
	var match func(v *ast.Value) bool
	var rest []string
	switch {
	case len(e.Path) >= 2 && e.Path[0] == ast.PathName("variable"):
		name, isName := e.Path[1].(ast.PathName)
		if !isName {
			return "", false
		}
		match = func(v *ast.Value) bool { return v.Kind == ast.Variable && v.Raw == string(name) }
		for _, p := range e.Path[2:] {
			rest = append(rest, pathPart(p))
		}
	case len(e.Path) == 0 && e.Rule == "ValuesOfCorrectType" && len(e.Locations) == 1:
		at := e.Locations[0]
		match = func(v *ast.Value) bool {
			return v.Position != nil && v.Position.Line == at.Line && v.Position.Column == at.Column
		}
	default:
		return "", false
	}
	doc := oc.Doc
	if doc == nil {
		// A document that failed validation is not kept: read it again
		// (only on this error's path), without validating it.
		var err error
		if doc, err = parser.ParseQuery(&ast.Source{Input: oc.RawQuery}); err != nil {
			return "", false
		}
	}
	var found []string
	var inSet func(ast.SelectionSet) bool
	inSet = func(set ast.SelectionSet) bool {
		for _, s := range set {
			switch s := s.(type) {
			case *ast.Field:
				for _, a := range s.Arguments {
					if p, ok := findValue(a.Value, match, []string{a.Name}); ok {
						found = p
						return true
					}
				}
				if inSet(s.SelectionSet) {
					return true
				}
			case *ast.InlineFragment:
				if inSet(s.SelectionSet) {
					return true
				}
			}
		}
		return false
	}
	ops := doc.Operations
	if oc.Operation != nil && oc.Doc != nil {
		ops = ast.OperationList{oc.Operation}
	}
	done := false
	for _, op := range ops {
		if done = inSet(op.SelectionSet); done {
			break
		}
	}
	for _, f := range doc.Fragments {
		if done = done || inSet(f.SelectionSet); done {
			break
		}
	}
	if !done {
		return "", false
	}
	parts := append(found, rest...)
	if parts[0] == "input" && len(parts) > 1 {
		parts = parts[1:]
	}
	var b strings.Builder
	for i, p := range parts {
		if i > 0 && !strings.HasPrefix(p, "[") {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String(), true
}

// findValue looks for the value match accepts in v, returning the names
// of the input fields and list indices on the way to it after at.
func findValue(v *ast.Value, match func(*ast.Value) bool, at []string) ([]string, bool) {
	if v == nil {
		return nil, false
	}
	if match(v) {
		return at, true
	}
	for i, c := range v.Children {
		part := c.Name
		if v.Kind == ast.ListValue {
			part = "[" + strconv.Itoa(i) + "]"
		}
		if p, ok := findValue(c.Value, match, append(at[:len(at):len(at)], part)); ok {
			return p, true
		}
	}
	return nil, false
}

// argumentField names the argument or input field at path (the path of a
// scalar that failed to parse in an argument: the field's own path, then
// the argument and the input fields under it) as valueField does:
// "birthday" for updateProfile.input.birthday, "place.address",
// "events[1]". Without the field at hand, the whole path.
func argumentField(ctx context.Context, path ast.Path) string {
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		if own := fc.Path(); len(own) < len(path) && own.String() == path[:len(own)].String() {
			path = path[len(own):]
		}
	}
	if len(path) > 1 && path[0] == ast.PathName("input") {
		path = path[1:]
	}
	var b strings.Builder
	for i, p := range path {
		part := pathPart(p)
		if i > 0 && !strings.HasPrefix(part, "[") {
			b.WriteByte('.')
		}
		b.WriteString(part)
	}
	return b.String()
}

func pathPart(p ast.PathElement) string {
	if i, ok := p.(ast.PathIndex); ok {
		return "[" + strconv.Itoa(int(i)) + "]"
	}
	return string(p.(ast.PathName))
}

// coercionMessage says in words a client can act on what gqlgen's
// coercion of an Int refused ("cannot use value 0 as Int" for 2.5, "Int
// cannot represent non 32-bit signed integer value: …"); other messages
// are kept.
func coercionMessage(msg string) string {
	if strings.HasSuffix(msg, " as Int") || strings.HasPrefix(msg, "Int cannot represent") {
		return "must be a whole number from -2147483648 to 2147483647 (an Int)"
	}
	return msg
}
