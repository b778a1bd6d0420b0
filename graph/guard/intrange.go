package guard

import (
	"context"
	"encoding/json"
	"math"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// IntRange refuses an operation that holds an Int outside the 32 bits
// GraphQL's Int has, in its variables (a variable, a list item, an input
// object's field) or as a literal: gqlgen lets both through up to 64 bits
// (validation refuses only a literal past 64), where they would reach the
// cost rule as a page size of billions, or a resolver. The error is a
// validation error with the variable's path, or the literal's place in
// the document (rule ValuesOfCorrectType), which graph's error presenter
// names by the argument or field it is for. Use it before the cost rule.
type IntRange struct{ schema *ast.Schema }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = (*IntRange)(nil)

func (*IntRange) ExtensionName() string { return "IntRange" }

func (r *IntRange) Validate(es graphql.ExecutableSchema) error {
	r.schema = es.Schema()
	return nil
}

func (r *IntRange) MutateOperationContext(_ context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if rc.Operation == nil {
		return nil
	}
	for _, d := range rc.Operation.VariableDefinitions {
		if v, ok := rc.Variables[d.Variable]; ok {
			if path, bad := r.outOfRange(d.Type, v, ast.Path{ast.PathName("variable"), ast.PathName(d.Variable)}); bad {
				e := gqlerror.ErrorPathf(path, "cannot use value %v as Int", v)
				errcode.Set(e, errcode.ValidationFailed)
				return e
			}
		}
	}
	if rc.Doc == nil {
		return nil
	}
	var bad *ast.Value
	for _, op := range rc.Doc.Operations {
		if bad == nil {
			bad = literalOutOfRange(op.SelectionSet)
		}
	}
	for _, f := range rc.Doc.Fragments {
		if bad == nil {
			bad = literalOutOfRange(f.SelectionSet)
		}
	}
	if bad != nil {
		e := gqlerror.ErrorLocf("", bad.Position.Line, bad.Position.Column, "Int cannot represent non 32-bit signed integer value: %s", bad.Raw)
		e.Rule = "ValuesOfCorrectType"
		errcode.Set(e, errcode.ValidationFailed)
		return e
	}
	return nil
}

// literalOutOfRange returns the first Int literal past 32 bits in the
// arguments of set's fields (and of their directives), at any depth.
func literalOutOfRange(set ast.SelectionSet) *ast.Value {
	var inValue func(v *ast.Value) *ast.Value
	inValue = func(v *ast.Value) *ast.Value {
		if v == nil {
			return nil
		}
		if v.Kind == ast.IntValue && v.Position != nil && (v.ExpectedType == nil || v.ExpectedType.Name() == "Int") {
			if n, err := strconv.ParseInt(v.Raw, 10, 64); err != nil || !fitsInt32(n) {
				return v
			}
		}
		for _, c := range v.Children {
			if b := inValue(c.Value); b != nil {
				return b
			}
		}
		return nil
	}
	inArgs := func(args ast.ArgumentList, dirs ast.DirectiveList) *ast.Value {
		for _, a := range args {
			if b := inValue(a.Value); b != nil {
				return b
			}
		}
		for _, d := range dirs {
			for _, a := range d.Arguments {
				if b := inValue(a.Value); b != nil {
					return b
				}
			}
		}
		return nil
	}
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			if b := inArgs(s.Arguments, s.Directives); b != nil {
				return b
			}
			if b := literalOutOfRange(s.SelectionSet); b != nil {
				return b
			}
		case *ast.InlineFragment:
			if b := inArgs(nil, s.Directives); b != nil {
				return b
			}
			if b := literalOutOfRange(s.SelectionSet); b != nil {
				return b
			}
		case *ast.FragmentSpread:
			if b := inArgs(nil, s.Directives); b != nil {
				return b
			}
		}
	}
	return nil
}

// outOfRange reports the path of the first Int in v, a value of type t,
// past 32 bits.
func (r *IntRange) outOfRange(t *ast.Type, v any, path ast.Path) (ast.Path, bool) {
	if v == nil {
		return nil, false
	}
	if t.Elem != nil {
		list, ok := v.([]any)
		if !ok {
			return r.outOfRange(t.Elem, v, path) // a single value given for a list
		}
		for i, item := range list {
			if p, bad := r.outOfRange(t.Elem, item, append(path[:len(path):len(path)], ast.PathIndex(i))); bad {
				return p, true
			}
		}
		return nil, false
	}
	if t.NamedType == "Int" {
		return path, !fitsInt32(v)
	}
	def := r.schema.Types[t.NamedType]
	obj, ok := v.(map[string]any)
	if def == nil || def.Kind != ast.InputObject || !ok {
		return nil, false
	}
	for _, f := range def.Fields {
		if p, bad := r.outOfRange(f.Type, obj[f.Name], append(path[:len(path):len(path)], ast.PathName(f.Name))); bad {
			return p, true
		}
	}
	return nil, false
}

func fitsInt32(v any) bool {
	var n float64
	switch x := v.(type) {
	case int64:
		return x >= math.MinInt32 && x <= math.MaxInt32
	case int:
		return x >= math.MinInt32 && x <= math.MaxInt32
	case float64:
		n = x
	case json.Number:
		i, err := x.Int64()
		return err == nil && i >= math.MinInt32 && i <= math.MaxInt32
	default:
		return true // another type: coercion has refused it already
	}
	return n >= math.MinInt32 && n <= math.MaxInt32
}
