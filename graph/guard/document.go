package guard

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/lru"
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
	errTooManyFields     = errors.New("the operation or fragment expands to too many field selections")
	errTooDeeplyNested   = errors.New("selection sets are nested too deeply")
	errTooManyErrors     = errors.New("too many validation errors; validation stopped")
	errValidationBudget  = errors.New("parsing and validation took too long")
)

// DocumentLimits bounds the work one document may cause before it runs.
// Zero fields take the defaults (DefaultDocumentLimits).
type DocumentLimits struct {
	Tokens                int           // lexical tokens in the document (QUERY_MAX_TOKENS)
	DirectivesPerLocation int           // directives on one field, fragment or operation (QUERY_MAX_DIRECTIVES)
	FragmentSpreads       int           // fragment spreads one operation expands to, counted through fragments (QUERY_MAX_FRAGMENT_SPREADS)
	Fields                int           // field selections one operation or fragment definition expands to, counted through fragments (QUERY_MAX_FIELDS)
	Nesting               int           // selection sets nested in the text, fields and inline fragments alike (QUERY_MAX_NESTING)
	Errors                int           // validation errors reported before validation stops (QUERY_MAX_ERRORS)
	Budget                time.Duration // wall-clock time for lexing, parsing and validating documents over budgetMinTokens tokens (QUERY_VALIDATION_BUDGET)
}

// budgetMinTokens: documents with fewer tokens are never refused by the
// wall-clock budget. Their work is bounded by the other limits; what the
// clock would measure for them under load is the wait for a CPU, not
// their own cost, so a harmless query must not be refused for it.
const budgetMinTokens = 1000

// DefaultDocumentLimits fill DocumentLimits fields left zero (the same
// defaults as the server settings).
var DefaultDocumentLimits = DocumentLimits{
	Tokens:                5000,
	DirectivesPerLocation: 10,
	FragmentSpreads:       500,
	Fields:                500,
	Nesting:               32,
	Errors:                10,
	Budget:                100 * time.Millisecond,
}

// OrDefault returns d with its zero fields set from DefaultDocumentLimits.
func (d DocumentLimits) OrDefault() DocumentLimits {
	def := DefaultDocumentLimits
	pick := func(v, d int) int {
		if v > 0 {
			return v
		}
		return d
	}
	d.Tokens = pick(d.Tokens, def.Tokens)
	d.DirectivesPerLocation = pick(d.DirectivesPerLocation, def.DirectivesPerLocation)
	d.FragmentSpreads = pick(d.FragmentSpreads, def.FragmentSpreads)
	d.Fields = pick(d.Fields, def.Fields)
	d.Nesting = pick(d.Nesting, def.Nesting)
	d.Errors = pick(d.Errors, def.Errors)
	if d.Budget <= 0 {
		d.Budget = def.Budget
	}
	return d
}

// Documents checks every new document: lexed, parsed and validated under
// DocumentLimits, then put in the executor's query cache, so gqlgen's own
// parse finds it there and never sees an unbounded one.
type Documents struct {
	schema *ast.Schema
	cache  graphql.Cache[*ast.QueryDocument]
	// refused maps the SHA-256 of a refused document to its refusal, so a
	// repeated bomb costs a hash and a look-up. Refusals by the wall-clock
	// budget are not kept: they depend on the load of the moment.
	refused graphql.Cache[gqlerror.List]
	lim     DocumentLimits
}

// NewDocuments returns the check for schema. cache must be the executor's
// query cache (executor.SetQueryCache); refusals are kept (by the
// document's SHA-256) in their own cache of refusedSize entries.
func NewDocuments(schema *ast.Schema, cache graphql.Cache[*ast.QueryDocument], refusedSize int, lim DocumentLimits) *Documents {
	return &Documents{schema: schema, cache: cache, refused: lru.New[gqlerror.List](refusedSize), lim: lim.OrDefault()}
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

// Check returns the refusal of query, nil if it may go on to gqlgen (which
// then finds it parsed and validated in the cache).
func (g *Documents) Check(ctx context.Context, query string) gqlerror.List {
	if query == "" {
		return nil // a persisted-query hash: gqlgen looks it up; it was checked when stored
	}
	if _, ok := g.cache.Get(ctx, query); ok {
		return nil
	}
	sum := sha256.Sum256([]byte(query))
	key := hex.EncodeToString(sum[:])
	if errs, ok := g.refused.Get(ctx, key); ok {
		return cloneErrors(errs)
	}
	errs := g.checkNew(ctx, query)
	if errs != nil && !errors.Is(errs[len(errs)-1], errValidationBudget) {
		g.refused.Add(ctx, key, cloneErrors(errs))
	}
	return errs
}

// cloneErrors copies a refusal, so a cached one is never shared with the
// presenter of a request, which may change it.
func cloneErrors(errs gqlerror.List) gqlerror.List {
	out := make(gqlerror.List, len(errs))
	for i, e := range errs {
		c := *e
		c.Extensions = maps.Clone(e.Extensions)
		c.Locations = slices.Clone(e.Locations)
		c.Path = slices.Clone(e.Path)
		out[i] = &c
	}
	return out
}

// checkNew checks a document not seen before, caching it if it passes.
func (g *Documents) checkNew(ctx context.Context, query string) (errs gqlerror.List) {
	start := time.Now()
	deadline := start.Add(g.lim.Budget)
	budgetErr := func() *gqlerror.Error {
		return limitError(errValidationBudget, "QUERY_VALIDATION_BUDGET", "parsing and validating the document took over %s", g.lim.Budget)
	}

	// Tokens are counted with gqlparser's own lexer before the parser builds
	// anything; a lexing error is left for the parser to report.
	lex := lexer.New(&ast.Source{Input: query})
	tokens := 0
	for ; ; tokens++ {
		tok, err := lex.ReadToken()
		if err != nil || tok.Kind == lexer.EOF {
			break
		}
		if tokens >= g.lim.Tokens {
			return gqlerror.List{limitError(errTooManyTokens, "QUERY_MAX_TOKENS", "the document has over %d tokens", g.lim.Tokens)}
		}
	}
	if tokens < budgetMinTokens {
		deadline = time.Time{} // never refused by the clock
	}
	late := func() bool { return !deadline.IsZero() && time.Now().After(deadline) }
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, g.lim.Tokens+1) // +1: the parser may count EOF
	if err != nil {
		var gqlErr *gqlerror.Error
		if !errors.As(err, &gqlErr) {
			gqlErr = gqlerror.Wrap(err)
		}
		errcode.Set(gqlErr, errcode.ParseFailed)
		return gqlerror.List{gqlErr}
	}
	// The shape bounds first: they are linear and their refusals do not
	// depend on the load, so a bomb is named (and its refusal kept) even
	// when the clock has already run out.
	if e := g.checkShape(doc); e != nil {
		return gqlerror.List{e}
	}
	if late() {
		return gqlerror.List{budgetErr()}
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
	validate(g.schema, doc, g.lim.Errors, late, budgetErr, &errs)
	if len(errs) > 0 {
		return errs
	}
	g.cache.Add(ctx, query, doc)
	return nil
}

// validate runs gqlgen's default rules (as executor.parseQuery does) with
// every error collected into *out, stopping the walk at maxErrors errors or
// once late reports true.
func validate(schema *ast.Schema, doc *ast.QueryDocument, maxErrors int, late func() bool, budgetErr func() *gqlerror.Error, out *gqlerror.List) {
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
	// few thousand nodes once the shape bounds hold. Inside one node, the
	// work of OverlappingFieldsCanBeMerged (quadratic in the fields that
	// share a selection set) is bounded by QUERY_MAX_FIELDS beforehand.
	bounded.AddRule("~ValidationBudget", func(obs *core.Events, _ core.AddErrFunc) {
		tick := func() {
			if late() {
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
func (g *Documents) checkShape(doc *ast.QueryDocument) *gqlerror.Error {
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

	// Spreads and fields are counted as if every fragment were inlined,
	// memoised per fragment, so doubling fragments cost one pass. Counts
	// saturate just over their limit; a cycle counts nothing here
	// (validation refuses it). Fields are counted expanded because that is
	// what OverlappingFieldsCanBeMerged compares: its work grows with the
	// square of the fields merged into one selection set, fragments'
	// fields included; a fragment is bounded on its own too, since the
	// rule checks every definition, used or not.
	defs := make(map[string]*ast.FragmentDefinition, len(doc.Fragments))
	for _, f := range doc.Fragments {
		if _, dup := defs[f.Name]; !dup {
			defs[f.Name] = f
		}
	}
	type expansion struct{ spreads, fields int }
	add := func(a, b expansion) expansion {
		return expansion{min(a.spreads+b.spreads, g.lim.FragmentSpreads+1), min(a.fields+b.fields, g.lim.Fields+1)}
	}
	memo := map[string]*expansion{}
	visiting := &expansion{} // a fragment met again inside itself
	var expand func(set ast.SelectionSet) expansion
	expand = func(set ast.SelectionSet) expansion {
		var n expansion
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				n = add(n, add(expansion{fields: 1}, expand(s.SelectionSet)))
			case *ast.InlineFragment:
				n = add(n, expand(s.SelectionSet))
			case *ast.FragmentSpread:
				c, seen := memo[s.Name]
				if !seen {
					memo[s.Name] = visiting
					c = &expansion{}
					if def := defs[s.Name]; def != nil {
						*c = expand(def.SelectionSet)
					}
					memo[s.Name] = c
				}
				n = add(n, add(expansion{spreads: 1}, *c))
			}
		}
		return n
	}
	at := func(e *gqlerror.Error, pos *ast.Position) *gqlerror.Error {
		if pos != nil {
			e.Locations = []gqlerror.Location{{Line: pos.Line, Column: pos.Column}}
		}
		return e
	}
	tooManyFields := func(n expansion, pos *ast.Position) *gqlerror.Error {
		if n.fields > g.lim.Fields {
			return at(limitError(errTooManyFields, "QUERY_MAX_FIELDS", "the selection expands to over %d fields", g.lim.Fields), pos)
		}
		return nil
	}
	for _, op := range doc.Operations {
		n := expand(op.SelectionSet)
		if n.spreads > g.lim.FragmentSpreads {
			return at(limitError(errTooManySpreads, "QUERY_MAX_FRAGMENT_SPREADS", "the operation expands over %d fragment spreads", g.lim.FragmentSpreads), op.Position)
		}
		if e := tooManyFields(n, op.Position); e != nil {
			return e
		}
	}
	for _, f := range doc.Fragments {
		if e := tooManyFields(expand(f.SelectionSet), f.Position); e != nil {
			return e
		}
	}
	return nil
}
