package graph

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/regulars/regulars/graph/guard"
	"github.com/regulars/regulars/graph/request"
)

// DocumentLimits bounds the work one document may cause before it runs
// (see guard.DocumentLimits).
type DocumentLimits = guard.DocumentLimits

// Limits bounds what one operation may ask for.
type Limits struct {
	Depth         int  // deepest field nesting
	Complexity    int  // cost, by guard's rule: a list costs its size × its element (a connection: first × its node)
	Introspection bool // __schema and __type answered
	Document      DocumentLimits
}

// Executor is gqlgen's executor behind the document guard: every new
// document is checked under DocumentLimits (and cached) before gqlgen
// parses it.
type Executor struct {
	*executor.Executor
	docs *guard.Documents
}

// CreateOperationContext checks the document's bounds, then hands over to gqlgen.
func (e *Executor) CreateOperationContext(ctx context.Context, params *graphql.RawParams) (*graphql.OperationContext, gqlerror.List) {
	if errs := e.docs.Check(ctx, params.Query); errs != nil {
		return &graphql.OperationContext{RawQuery: params.Query, OperationName: params.OperationName}, errs
	}
	return e.Executor.CreateOperationContext(ctx, params)
}

// NewExecutor returns the executor every transport runs operations through.
// It panics on a schema the guards refuse (a list with no cost, an
// unclassified mutation): a bug caught by the first test that starts one.
func NewExecutor(r *Resolver, lim Limits) *Executor {
	schema, err := guard.Costed(NewExecutableSchema(Config{Resolvers: resolverRoot{r}}))
	if err != nil {
		panic(fmt.Sprintf("graph: %v", err))
	}
	exec := executor.New(schema)
	cache := lru.New[*ast.QueryDocument](1000)
	exec.SetQueryCache(cache)
	exec.SetParserTokenLimit(lim.Document.OrDefault().Tokens + 1)
	exec.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	if lim.Introspection {
		exec.Use(extension.Introspection{})
	}
	exec.Use(&guard.IntRange{}) // before the cost rule, which reads page sizes
	exec.Use(extension.FixedComplexityLimit(lim.Complexity))
	exec.Use(guard.DepthLimit{Max: lim.Depth})
	exec.Use(guard.OncePerRequest{})
	exec.Use(authorizer{})
	exec.SetErrorPresenter(presentError)
	exec.SetRecoverFunc(recoverPanic)
	// Loaders live for one operation, so batching never mixes callers.
	exec.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		return next(request.WithLoaders(ctx, r.Members.GetMany, r.Game.Rewards().RewardsByID, r.Game.CurrentLedgers))
	})
	// A mutation's root fields run one after another, each possibly
	// moving points: each starts from the ledgers as they are now, so
	// the second of `a: … { member { points } } b: … { member { points } }`
	// does not answer the first's balance.
	exec.AroundRootFields(func(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
		if graphql.GetOperationContext(ctx).Operation.Operation == ast.Mutation {
			request.ForgetLedgers(ctx)
		}
		return next(ctx)
	})
	return &Executor{Executor: exec, docs: guard.NewDocuments(schema.Schema(), cache, 1000, lim.Document)}
}
