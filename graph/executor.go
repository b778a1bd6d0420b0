package graph

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Limits bounds what one operation may ask for.
type Limits struct {
	Depth         int  // deepest field nesting
	Complexity    int  // gqlgen complexity; a connection counts first × its node
	Introspection bool // __schema and __type answered
	Document      DocumentLimits
}

// defaultDocumentLimits fill DocumentLimits fields left zero (the same
// defaults as the server settings).
var defaultDocumentLimits = DocumentLimits{
	Tokens:                5000,
	DirectivesPerLocation: 10,
	FragmentSpreads:       500,
	Fields:                500,
	Nesting:               32,
	Errors:                10,
	Budget:                100 * time.Millisecond,
}

// NewExecutor returns the executor every transport runs operations through.
func NewExecutor(r *Resolver, lim Limits) *Executor {
	cfg := Config{Resolvers: r}
	cfg.Complexity.Query.Notifications = connectionComplexity
	cfg.Complexity.Query.Nodes = func(child int, ids []string) int { return 1 + len(ids)*child }
	schema := NewExecutableSchema(cfg)
	exec := executor.New(schema)
	cache := lru.New[*ast.QueryDocument](1000)
	exec.SetQueryCache(cache)
	exec.SetParserTokenLimit(lim.Document.orDefault().Tokens + 1)
	exec.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	if lim.Introspection {
		exec.Use(extension.Introspection{})
	}
	exec.Use(extension.FixedComplexityLimit(lim.Complexity))
	exec.Use(depthLimit{max: lim.Depth})
	exec.Use(authorizer{})
	exec.SetErrorPresenter(presentError)
	exec.SetRecoverFunc(recoverPanic)
	// Loaders live for one operation, so batching never mixes callers.
	exec.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		return next(withLoaders(ctx, r))
	})
	return &Executor{Executor: exec, guard: documentGuard{
		schema: schema.Schema(), cache: cache, refused: lru.New[gqlerror.List](1000), lim: lim.Document.orDefault(),
	}}
}

func (d DocumentLimits) orDefault() DocumentLimits {
	def := defaultDocumentLimits
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

func connectionComplexity(child int, first *int, _ *string) int {
	n := defaultFirst
	if first != nil && *first > 0 {
		n = *first
	}
	return 1 + n*child
}

// loaderWait is how long a loader gathers keys before one batched query.
const loaderWait = time.Millisecond
