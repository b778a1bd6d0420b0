package graph

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/lexer"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// Document bounds: a request over any of them is refused before gqlgen
// parses or validates it, with code QUERY_LIMIT_EXCEEDED and the setting
// that refused it in extensions.limit. Each error wraps one of these.
var (
	errTooManyTokens     = errors.New("the document has too many tokens")
	errTooManyDirectives = errors.New("too many directives at one location")
	errTooManySpreads    = errors.New("the operation expands too many fragment spreads")
	errTooDeeplyNested   = errors.New("selection sets are nested too deeply")
	errTooManyErrors     = errors.New("too many validation errors; validation stopped")
	errValidationBudget  = errors.New("parsing and validation took too long")
)

// DocumentLimits bounds the work one document may cause before it runs.
// Zero fields take the defaults (defaultDocumentLimits).
type DocumentLimits struct {
	Tokens                int           // lexical tokens in the document (QUERY_MAX_TOKENS)
	DirectivesPerLocation int           // directives on one field, fragment or operation (QUERY_MAX_DIRECTIVES)
	FragmentSpreads       int           // fragment spreads one operation expands to, counted through fragments (QUERY_MAX_FRAGMENT_SPREADS)
	Nesting               int           // selection sets nested in the text, fields and inline fragments alike (QUERY_MAX_NESTING)
	Errors                int           // validation errors reported before validation stops (QUERY_MAX_ERRORS)
	Budget                time.Duration // wall-clock time for lexing, parsing and validating (QUERY_VALIDATION_BUDGET)
}

// Executor is gqlgen's executor behind a guard: every new document is
// lexed, parsed and validated here under DocumentLimits and then cached, so
// gqlgen's own parse finds it in the cache and never sees an unbounded one.
type Executor struct {
	*executor.Executor
	guard documentGuard
}

// CreateOperationContext checks the document's bounds, then hands over to gqlgen.
func (e *Executor) CreateOperationContext(ctx context.Context, params *graphql.RawParams) (*graphql.OperationContext, gqlerror.List) {
	if errs := e.guard.check(ctx, params.Query); errs != nil {
		return &graphql.OperationContext{RawQuery: params.Query, OperationName: params.OperationName}, errs
	}
	return e.Executor.CreateOperationContext(ctx, params)
}

type documentGuard struct {
	schema *ast.Schema
	cache  graphql.Cache[*ast.QueryDocument]
	lim    DocumentLimits
}

// limitError is a refusal by one of the bounds: coded through its sentinel,
// and naming the setting, so an operator knows what to raise.
func limitError(sentinel error, setting string, format string, args ...any) *gqlerror.Error {
	return &gqlerror.Error{
		Err:        sentinel,
		Message:    fmt.Sprintf(format, args...),
		Extensions: map[string]any{"code": CodeQueryLimit, "limit": setting},
	}
}

// abortValidation stops a validation walk from inside a rule (too many
// errors, or out of time): gqlparser offers no other way to stop it.
type abortValidation struct{ err *gqlerror.Error }

func (g *documentGuard) check(ctx context.Context, query string) (errs gqlerror.List) {
	if query == "" {
		return nil // a persisted-query hash: gqlgen looks it up; it was checked when stored
	}
	if _, ok := g.cache.Get(ctx, query); ok {
		return nil
	}
	deadline := time.Now().Add(g.lim.Budget)
	budgetErr := func() *gqlerror.Error {
		return limitError(errValidationBudget, "QUERY_VALIDATION_BUDGET", "parsing and validating the document took over %s", g.lim.Budget)
	}

	// Tokens are counted with gqlparser's own lexer before the parser builds
	// anything; a lexing error is left for the parser to report.
	lex := lexer.New(&ast.Source{Input: query})
	for n := 0; ; n++ {
		tok, err := lex.ReadToken()
		if err != nil || tok.Kind == lexer.EOF {
			break
		}
		if n >= g.lim.Tokens {
			return gqlerror.List{limitError(errTooManyTokens, "QUERY_MAX_TOKENS", "the document has over %d tokens", g.lim.Tokens)}
		}
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, g.lim.Tokens+1) // +1: the parser may count EOF
	if err != nil {
		var gqlErr *gqlerror.Error
		if !errors.As(err, &gqlErr) {
			gqlErr = gqlerror.Wrap(err)
		}
		errcode.Set(gqlErr, errcode.ParseFailed)
		return gqlerror.List{gqlErr}
	}
	if time.Now().After(deadline) {
		return gqlerror.List{budgetErr()}
	}
	if e := g.checkShape(doc); e != nil {
		return gqlerror.List{e}
	}
	if len(doc.Operations) == 0 {
		return nil // gqlgen says "no operation provided"
	}

	defer func() {
		if p := recover(); p != nil {
			a, ok := p.(abortValidation)
			if !ok {
				panic(p)
			}
			errs = append(errs, a.err)
		}
	}()
	validate(g.schema, doc, g.lim.Errors, deadline, budgetErr, &errs)
	if len(errs) > 0 {
		return errs
	}
	g.cache.Add(ctx, query, doc)
	return nil
}

// validate runs gqlgen's default rules (as executor.parseQuery does) with
// every error collected into *out, stopping the walk at maxErrors errors or
// at deadline.
func validate(schema *ast.Schema, doc *ast.QueryDocument, maxErrors int, deadline time.Time, budgetErr func() *gqlerror.Error, out *gqlerror.List) {
	bounded := rules.NewRules()
	for name, rule := range rules.NewDefaultRules().GetInner() {
		bounded.AddRule(name, func(obs *core.Events, _ core.AddErrFunc) {
			rule(obs, func(opts ...core.ErrorOption) {
				e := &gqlerror.Error{Rule: name}
				for _, o := range opts {
					o(e)
				}
				errcode.Set(e, errcode.ValidationFailed)
				*out = append(*out, e)
				if len(*out) >= maxErrors {
					panic(abortValidation{limitError(errTooManyErrors, "QUERY_MAX_ERRORS", "validation stopped after %d errors", maxErrors)})
				}
			})
		})
	}
	// The clock is read at every node the walk visits; a walk is at most a
	// few thousand nodes once the shape bounds hold.
	bounded.AddRule("~ValidationBudget", func(obs *core.Events, _ core.AddErrFunc) {
		tick := func() {
			if time.Now().After(deadline) {
				panic(abortValidation{budgetErr()})
			}
		}
		obs.OnOperation(func(*core.Walker, *ast.OperationDefinition) { tick() })
		obs.OnFragment(func(*core.Walker, *ast.FragmentDefinition) { tick() })
		obs.OnField(func(*core.Walker, *ast.Field) { tick() })
		obs.OnInlineFragment(func(*core.Walker, *ast.InlineFragment) { tick() })
		obs.OnFragmentSpread(func(*core.Walker, *ast.FragmentSpread) { tick() })
		obs.OnDirective(func(*core.Walker, *ast.Directive) { tick() })
		obs.OnValue(func(*core.Walker, *ast.Value) { tick() })
	})
	// The rules above collect every error into *out; the returned list adds nothing.
	_ = validator.ValidateWithRules(schema, doc, bounded)
}

// checkShape bounds directives per location, textual nesting and fragment
// spreads expanded per operation, in time linear in the document.
func (g *documentGuard) checkShape(doc *ast.QueryDocument) *gqlerror.Error {
	directives := func(ds ast.DirectiveList, pos *ast.Position) *gqlerror.Error {
		if len(ds) > g.lim.DirectivesPerLocation {
			e := limitError(errTooManyDirectives, "QUERY_MAX_DIRECTIVES", "%d directives at one location, over the limit of %d", len(ds), g.lim.DirectivesPerLocation)
			if pos != nil {
				e.Locations = []gqlerror.Location{{Line: pos.Line, Column: pos.Column}}
			}
			return e
		}
		return nil
	}
	var walk func(set ast.SelectionSet, depth int) *gqlerror.Error
	walk = func(set ast.SelectionSet, depth int) *gqlerror.Error {
		if len(set) > 0 && depth > g.lim.Nesting {
			e := limitError(errTooDeeplyNested, "QUERY_MAX_NESTING", "selection sets are nested over %d levels deep", g.lim.Nesting)
			if p := set[0].GetPosition(); p != nil {
				e.Locations = []gqlerror.Location{{Line: p.Line, Column: p.Column}}
			}
			return e
		}
		for _, sel := range set {
			var err *gqlerror.Error
			switch s := sel.(type) {
			case *ast.Field:
				if err = directives(s.Directives, s.Position); err == nil {
					err = walk(s.SelectionSet, depth+1)
				}
			case *ast.InlineFragment:
				if err = directives(s.Directives, s.Position); err == nil {
					err = walk(s.SelectionSet, depth+1)
				}
			case *ast.FragmentSpread:
				err = directives(s.Directives, s.Position)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
	for _, op := range doc.Operations {
		if err := directives(op.Directives, op.Position); err != nil {
			return err
		}
		for _, v := range op.VariableDefinitions {
			if err := directives(v.Directives, v.Position); err != nil {
				return err
			}
		}
		if err := walk(op.SelectionSet, 1); err != nil {
			return err
		}
	}
	for _, f := range doc.Fragments {
		if err := directives(f.Directives, f.Position); err != nil {
			return err
		}
		if err := walk(f.SelectionSet, 1); err != nil {
			return err
		}
	}

	// Spreads are counted as if every fragment were inlined, memoised per
	// fragment, so doubling fragments cost one pass. Counts saturate just
	// over the limit; a cycle counts nothing here (validation refuses it).
	limit := g.lim.FragmentSpreads
	defs := make(map[string]*ast.FragmentDefinition, len(doc.Fragments))
	for _, f := range doc.Fragments {
		if _, dup := defs[f.Name]; !dup {
			defs[f.Name] = f
		}
	}
	memo := map[string]int{}
	const visiting = -1
	var spreads func(set ast.SelectionSet) int
	spreads = func(set ast.SelectionSet) int {
		n := 0
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				n += spreads(s.SelectionSet)
			case *ast.InlineFragment:
				n += spreads(s.SelectionSet)
			case *ast.FragmentSpread:
				n++
				c, seen := memo[s.Name]
				if !seen {
					memo[s.Name] = visiting
					c = 0
					if def := defs[s.Name]; def != nil {
						c = spreads(def.SelectionSet)
					}
					memo[s.Name] = c
				} else if c == visiting {
					c = 0
				}
				n += c
			}
			n = min(n, limit+1)
		}
		return n
	}
	for _, op := range doc.Operations {
		if n := spreads(op.SelectionSet); n > limit {
			e := limitError(errTooManySpreads, "QUERY_MAX_FRAGMENT_SPREADS", "the operation expands over %d fragment spreads", limit)
			if op.Position != nil {
				e.Locations = []gqlerror.Location{{Line: op.Position.Line, Column: op.Position.Column}}
			}
			return e
		}
	}
	return nil
}
