package guard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// The cost rule, one for the whole schema (QUERY_MAX_COMPLEXITY bounds the
// sum over an operation):
//
//   - a field costs 1 plus what its selection costs (gqlgen's default);
//   - a field that returns a list costs 1 plus its size × its element's
//     selection, where the size is
//   - for a connection (a field with a first argument returning a type
//     with a list field edges): first, or first's default when it is left
//     out; its edges are then costed once, by the connection;
//   - for any other list of objects: the entry for it in listSizes, by an
//     argument or by the most the domain holds;
//   - a list of scalars or enums costs 1: its elements select nothing.
//
// CostRules derives the sizes from the schema at start-up and refuses a
// schema with a list field it cannot size, so a new list or connection is
// costed from the day it is added.

// listSizes sizes the lists of objects that are not connections, keyed
// "Type.field". Where the domain sets no bound the size is what a program
// plausibly holds; such a list should become a connection when it can grow.
var listSizes = map[string]sizeFunc{
	"Query.nodes":                     argLen("ids"),                                                      // at most 100 ids
	"Query.aroundMe":                  func(a map[string]any) int { return 2*intArg(a, "radius", 5) + 1 }, // radius ≤ 50, the member in the middle
	"Query.myDevices":                 fixed(20),                                                          // push.MaxDevices
	"Query.badges":                    fixed(50),                                                          // the program's badges
	"Query.offers":                    fixed(50),                                                          // offers running now for the member
	"Query.notificationTemplates":     fixed(20),                                                          // one per template name
	"Program.tiers":                   fixed(10),                                                          // a program's tiers
	"Program.promotions":              fixed(20),                                                          // a program's promotions
	"Badge.levels":                    fixed(10),                                                          // a badge's levels
	"MemberBadges.earned":             fixed(50),                                                          // one per badge
	"MemberBadges.inProgress":         fixed(50),                                                          // one per badge
	"ActivityResult.badges":           fixed(10),                                                          // badge levels one activity unlocks
	"ActivityResult.entries":          fixed(10),                                                          // ledger entries of one activity
	"LedgerEntry.lines":               fixed(10),                                                          // lots one entry touches
	"Query.myCommunitySanctions":      fixed(100),                                                         // moderation.Store.InForce reads at most 100
	"Query.myDataExports":             fixed(10),                                                          // account.MaxListedExports
	"Query.watchedWords":              fixed(500),                                                         // moderation.MaxWords
	"Post.reactions":                  fixed(4),                                                           // one per reaction
	"Post.history":                    fixed(50),                                                          // edits inside the edit window
	"ReviewItem.flags":                fixed(100),                                                         // moderation.Store.Flags reads at most 100
	"CommunityStanding.sanctions":     fixed(100),                                                         // moderation.Store.InForce reads at most 100
	"AuthorHistory.sanctions":         fixed(4),                                                           // moderation.Store.Active: one per kind, in the space and everywhere
	"ReviewItem.firstFlags":           func(a map[string]any) int { return intArg(a, "first", 3) },        // first ≤ 100 (graph/console.go)
	"ThreadEvent.reactions":           fixed(4),                                                           // one per reaction
	"AnalyticsOverview.currencies":    fixed(3),                                                           // currencies a brand sells in
	"AnalyticsRetention.periods":      fixed(60),                                                          // analytics.MaxPeriods
	"CohortMatrix.cohorts":            fixed(60),                                                          // a month each, in a range under 5 years
	"LifetimeValue.cohorts":           fixed(60),                                                          // a month each, in a range under 5 years
	"LTVCohort.values":                fixed(3),                                                           // currencies a brand sells in
	"ProgramEconomics.tiers":          fixed(61),                                                          // each month's end in the range, and its end
	"EarningRule.conditions":          fixed(20),                                                          // a rule's conditions (rules.MaxConditions)
	"EarningRuleVersion.conditions":   fixed(20),                                                          // a rule's conditions
	"EarningExplanation.rules":        fixed(200),                                                         // the active rules (rules.MaxActiveRules)
	"RuleSimulationResult.perRule":    fixed(250),                                                         // today's active rules and the changes' new ones
	"RuleSimulationResult.perTier":    fixed(21),                                                          // the program's tiers and "(unknown)"
	"RuleSimulationResult.topMembers": fixed(10),                                                          // dryrun.TopMembers
	"RuleSimulationResult.sample":     fixed(20),                                                          // dryrun.SampleSize

	// The member's lots with an expiry, filtered in memory from the ledger
	// head already read: withinDays (at most 3650) filters, it sizes nothing.
	"Points.expiringSoon": fixed(100),
}

// sizeFunc returns the number of elements a list field may hold given its
// arguments (defaults filled in).
type sizeFunc func(args map[string]any) int

func fixed(n int) sizeFunc { return func(map[string]any) int { return n } }

func argLen(name string) sizeFunc {
	return func(args map[string]any) int {
		l, _ := args[name].([]any)
		return len(l)
	}
}

// errUncostedList is returned by CostRules for a schema with a list field
// the cost rule cannot size.
var errUncostedList = errors.New("a list field has no cost")

// CostRules returns the size of every list field of schema that multiplies
// its selection, keyed "Type.field", or errUncostedList naming each list
// of objects the rule cannot size (and each listSizes entry that names no
// such field).
func CostRules(schema *ast.Schema) (map[string]sizeFunc, error) {
	rules := map[string]sizeFunc{}
	var uncosted []string
	connections := map[string]bool{} // types returned by a connection field
	var listFields []string          // "Type.field" of lists of objects, edges included
	for _, t := range sortedTypes(schema) {
		for _, f := range t.Fields {
			key := t.Name + "." + f.Name
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			if first := f.Arguments.ForName("first"); first != nil && isConnection(schema, f.Type) {
				rules[key] = connectionSize(first)
				connections[f.Type.Name()] = true
				continue
			}
			if isConnection(schema, f.Type) {
				uncosted = append(uncosted, key+" returns a connection but has no first argument")
				continue
			}
			if f.Type.Elem == nil || isLeaf(schema, f.Type) {
				continue
			}
			listFields = append(listFields, key)
		}
	}
	for _, key := range listFields {
		typ, field, _ := strings.Cut(key, ".")
		switch size, ok := listSizes[key]; {
		case ok:
			rules[key] = size
		case field == "edges" && connections[typ]:
			// costed by the connection field that returns typ
		default:
			uncosted = append(uncosted, key+" is a list with no size in listSizes")
		}
	}
	for key := range listSizes {
		if !slices.Contains(listFields, key) {
			uncosted = append(uncosted, key+" in listSizes is no list of objects in the schema")
		}
	}
	if len(uncosted) > 0 {
		slices.Sort(uncosted)
		return nil, fmt.Errorf("%w: %v", errUncostedList, uncosted)
	}
	return rules, nil
}

// Costed returns es with the cost rule applied to its whole schema, for
// gqlgen's complexity limit (extension.FixedComplexityLimit) to add up. It
// fails on a schema CostRules refuses.
func Costed(es graphql.ExecutableSchema) (graphql.ExecutableSchema, error) {
	rules, err := CostRules(es.Schema())
	if err != nil {
		return nil, err
	}
	return costed{ExecutableSchema: es, sizes: rules}, nil
}

type costed struct {
	graphql.ExecutableSchema
	sizes map[string]sizeFunc
}

// Complexity is 1 + size × childComplexity for a sized list, gqlgen's
// default (1 + childComplexity) for anything else. Saturates at MaxInt.
func (c costed) Complexity(_ context.Context, typeName, field string, child int, args map[string]any) (int, bool) {
	size, ok := c.sizes[typeName+"."+field]
	if !ok {
		return 0, false
	}
	n := max(size(args), 0)
	if child > 0 && n > (math.MaxInt-1)/child {
		return math.MaxInt, true
	}
	return 1 + n*child, true
}

// isConnection: t names an object with a list field edges.
func isConnection(schema *ast.Schema, t *ast.Type) bool {
	if t.Elem != nil {
		return false
	}
	def := schema.Types[t.Name()]
	if def == nil || def.Kind != ast.Object {
		return false
	}
	edges := def.Fields.ForName("edges")
	return edges != nil && edges.Type.Elem != nil
}

func isLeaf(schema *ast.Schema, t *ast.Type) bool {
	for t.Elem != nil {
		t = t.Elem
	}
	def := schema.Types[t.Name()]
	return def != nil && (def.Kind == ast.Scalar || def.Kind == ast.Enum)
}

// connectionSize is first, or its default from the schema when left out
// or not positive.
func connectionSize(first *ast.ArgumentDefinition) sizeFunc {
	def := 0
	if first.DefaultValue != nil {
		def, _ = strconv.Atoi(first.DefaultValue.Raw)
	}
	return func(args map[string]any) int {
		if n := intArg(args, "first", def); n > 0 {
			return n
		}
		return def
	}
}

// intArg reads an Int argument however it was decoded (a literal, a JSON
// variable), def when absent or unreadable.
func intArg(args map[string]any, name string, def int) int {
	switch v := args[name].(type) {
	case int:
		return v
	case int32:
		return int(v)
	case int64:
		return clampInt(v)
	case float64:
		return clampInt(int64(v))
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return clampInt(n)
		}
	case *int:
		if v != nil {
			return *v
		}
	}
	return def
}

func clampInt(v int64) int { return int(min(max(v, math.MinInt32), math.MaxInt32)) }

func sortedTypes(schema *ast.Schema) []*ast.Definition {
	var out []*ast.Definition
	for _, t := range schema.Types {
		if t.BuiltIn || (t.Kind != ast.Object && t.Kind != ast.Interface) {
			continue
		}
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b *ast.Definition) int { return strings.Compare(a.Name, b.Name) })
	return out
}
