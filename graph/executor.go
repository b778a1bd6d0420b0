package graph

import (
	"context"
	"fmt"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/regulars/regulars/game"
	"github.com/regulars/regulars/graph/guard"
	"github.com/regulars/regulars/graph/request"
	"github.com/regulars/regulars/member"
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

// settleWait bounds how long a root field waits for effects under way
// (settle): past it the field reads what is there.
const settleWait = 10 * time.Second

// settle waits for the effects under way that op should see: a member's
// own, and for a query by the brand's team or backend (whose reads span
// members: boards, figures, anyone's account) everyone's. Subscriptions
// wait for nothing: they are told as effects land.
func settle(ctx context.Context, g *game.Service, op ast.Operation) {
	if op == ast.Subscription {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, settleWait)
	defer cancel()
	p := member.PrincipalFrom(ctx)
	switch {
	case op == ast.Query && (p.Service || len(p.Roles) > 0):
		g.SettleAll(ctx)
	case !p.MemberID.IsZero():
		g.Settle(ctx, p.MemberID)
	}
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
	//
	// Each root field also waits for the effects that purchases answered
	// first left under way on this instance (game.Service.Settle), so a
	// request made after an answer sees them: its caller's own; for the
	// brand's reads across members, everyone's.
	exec.AroundRootFields(func(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
		op := graphql.GetOperationContext(ctx).Operation.Operation
		if op == ast.Mutation {
			request.ForgetLedgers(ctx)
		}
		settle(ctx, r.Game, op)
		return next(ctx)
	})
	return &Executor{Executor: exec, docs: guard.NewDocuments(schema.Schema(), cache, 1000, lim.Document)}
}
