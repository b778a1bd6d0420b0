package gateway

import (
	"context"
	"strconv"
	"time"

	"github.com/regulars/regulars/graph/request"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/regulars/regulars/graph"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/server/edge"
	"github.com/regulars/regulars/server/live"
)

// socketBackend runs sockets' operations as HTTP requests run theirs: the
// same authentication, member rate limit, executor, refusals and metrics.
type socketBackend struct{ g *Gateway }

var _ live.Backend = socketBackend{}

// Sockets is the WebSocket transport's backend (live.New).
func (g *Gateway) Sockets() live.Backend { return socketBackend{g} }

func (b socketBackend) Principal(authorization string) (member.Principal, error) {
	return b.g.principal(authorization)
}

func (b socketBackend) CheckSession(ctx context.Context, p member.Principal) error {
	return b.g.Members.CheckSession(ctx, p)
}

func (b socketBackend) Allow(p member.Principal) (bool, int) {
	if p.MemberID.IsZero() {
		return true, 0
	}
	ok, wait := b.g.MemberLimit.Allow(p.MemberID.Hex())
	return ok, edge.RetrySeconds(wait)
}

func (b socketBackend) Prepare(ctx context.Context, p member.Principal, reqID, ip string, params *graphql.RawParams) (context.Context, *graphql.OperationContext, gqlerror.List) {
	g := b.g
	ctx = g.operationContext(ctx, p, reqID, ip)
	rc, errs := g.Exec.CreateOperationContext(ctx, params)
	if errs != nil {
		resp := g.Exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
		return ctx, rc, g.withoutSuggestions(resp.Errors)
	}
	if e := g.introspectionRefused(rc); e != nil {
		return ctx, rc, gqlerror.List{e}
	}
	if ok, wait, e := g.chargeFields(p, rc); e != nil {
		return ctx, rc, gqlerror.List{e}
	} else if !ok {
		e := gqlErr("too many operations; retry after "+strconv.Itoa(edge.RetrySeconds(wait))+"s", graph.CodeRateLimited)
		e.Extensions["retryAfter"] = edge.RetrySeconds(wait)
		return ctx, rc, gqlerror.List{e}
	}
	if !g.Database.Available() {
		return ctx, rc, gqlerror.List{unavailableError()}
	}
	return ctx, rc, nil
}

func (b socketBackend) Dispatch(ctx context.Context, rc *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	return b.g.Exec.DispatchOperation(ctx, rc)
}

func (b socketBackend) Execute(ctx context.Context, p member.Principal, reqID, ip string, params *graphql.RawParams, value any) *graphql.Response {
	g := b.g
	ctx = g.operationContext(ctx, p, reqID, ip)
	rc, errs := g.Exec.CreateOperationContext(ctx, params)
	if errs != nil {
		return &graphql.Response{Errors: g.withoutSuggestions(errs)}
	}
	responses, ctx := g.Exec.DispatchOperation(request.WithStreamValue(ctx, value), rc)
	if resp := responses(ctx); resp != nil {
		return resp
	}
	return &graphql.Response{Errors: gqlerror.List{gqlErr("the subscription's result could not be made", graph.CodeInternal)}}
}

func (b socketBackend) Observe(operation string, start time.Time, resp *graphql.Response) {
	b.g.Metrics.Observe("ws", operation, start, resp)
}

func (b socketBackend) SocketsOpen(delta int) { b.g.Metrics.SocketsOpen(delta) }
