package guard

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// Every field of the schema that returns a list or a connection is costed
// by the rule: a connection first × its node, a list of objects by its
// size in listSizes, a list of scalars or enums as one value. A new list
// or connection without a size fails here (and the server refuses to start).
func TestEveryListIsCosted(t *testing.T) {
	rules, err := CostRules(schema)
	if err != nil {
		t.Fatal(err)
	}
	c := costed{sizes: rules}
	walked := 0
	for _, typ := range sortedTypes(schema) {
		for _, f := range typ.Fields {
			if strings.HasPrefix(f.Name, "__") || (f.Type.Elem == nil && !isConnection(schema, f.Type)) {
				continue
			}
			walked++
			key := typ.Name + "." + f.Name
			switch {
			case isLeaf(schema, f.Type):
				// one value: its elements select nothing
			case isConnection(schema, f.Type):
				args := map[string]any{"first": int64(100)}
				if got, ok := c.Complexity(context.Background(), typ.Name, f.Name, 5, args); !ok || got != 1+100*5 {
					t.Errorf("%s(first: 100) over a node of 5 costs %d, want 501", key, got)
				}
				def := map[string]any{}
				if got, _ := c.Complexity(context.Background(), typ.Name, f.Name, 5, def); got != 1+20*5 {
					t.Errorf("%s with first left out costs %d, want its default 20 × 5 + 1", key, got)
				}
			case f.Name == "edges":
				// costed by the connection that returns typ (checked by CostRules)
			default:
				if got, ok := c.Complexity(context.Background(), typ.Name, f.Name, 5, defaults(f)); !ok || got <= 5 {
					t.Errorf("%s: a list of objects costs %d (sized %v), want more than one element", key, got, ok)
				}
			}
		}
	}
	if walked < 30 {
		t.Fatalf("walked %d list fields", walked)
	}
}

// defaults are the arguments of f as gqlgen fills them when left out, and
// a list of two for a list argument.
func defaults(f *ast.FieldDefinition) map[string]any {
	args := map[string]any{}
	for _, a := range f.Arguments {
		switch {
		case a.DefaultValue != nil:
			v, err := a.DefaultValue.Value(nil)
			if err != nil {
				panic(fmt.Sprintf("%s(%s): default %v", f.Name, a.Name, err)) // the schema's own defaults
			}
			args[a.Name] = v
		case a.Type.Elem != nil:
			args[a.Name] = []any{"a", "b"}
		}
	}
	return args
}

// A list or connection added without a size is refused by name, and so is
// a size left behind for a field that is gone.
func TestUncostedListsAreRefused(t *testing.T) {
	const extra = `
type Widget { name: String! }
type WidgetEdge { node: Widget! }
type WidgetConnection { edges: [WidgetEdge!]! }
extend type Query {
  widgets: [Widget!]!
  widgetPage(after: String): WidgetConnection!
  names: [String!]!
}`
	s := gqlparser.MustLoadSchema(append(schemaSources(), &ast.Source{Name: "extra", Input: extra})...)
	_, err := CostRules(s)
	if !errors.Is(err, errUncostedList) {
		t.Fatalf("%v, want errUncostedList", err)
	}
	for _, want := range []string{"Query.widgets is a list", "Query.widgetPage returns a connection", "WidgetConnection.edges is a list"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v: does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "Query.names") {
		t.Errorf("%v: a list of strings is costed as one value", err)
	}

	listSizes["Query.gone"] = fixed(1)
	defer delete(listSizes, "Query.gone")
	if _, err := CostRules(schema); err == nil || !strings.Contains(err.Error(), "Query.gone") {
		t.Errorf("a stale size: %v", err)
	}
}

// Sizes by argument: nodes by its ids, aroundMe by its radius (both sides
// and the member), saturating instead of overflowing.
func TestListSizesFollowArguments(t *testing.T) {
	rules, err := CostRules(schema)
	if err != nil {
		t.Fatal(err)
	}
	c := costed{sizes: rules}
	ctx := context.Background()
	if got, _ := c.Complexity(ctx, "Query", "nodes", 3, map[string]any{"ids": []any{"a", "b"}}); got != 1+2*3 {
		t.Errorf("nodes of 2 ids over 3: %d", got)
	}
	if got, _ := c.Complexity(ctx, "Query", "aroundMe", 3, map[string]any{"radius": int64(50)}); got != 1+101*3 {
		t.Errorf("aroundMe radius 50 over 3: %d", got)
	}
	if got, _ := c.Complexity(ctx, "Query", "notifications", 1<<40, map[string]any{"first": int64(1 << 30)}); got <= 1<<40 {
		t.Errorf("a huge connection over a huge node: %d, want saturated", got)
	}
	if _, ok := c.Complexity(ctx, "Member", "displayName", 0, nil); ok {
		t.Error("a field that is no list has a rule; want gqlgen's default")
	}
}
