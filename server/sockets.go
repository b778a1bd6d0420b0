package main

import (
	"context"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/regulars/regulars/graph"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/server/edge"
	"github.com/regulars/regulars/server/live"
)

// newHub builds the WebSocket transport from the settings.
func (m *Main) newHub() *live.Hub {
	cfg := m.Config
	return live.New(live.Config{
		MaxMessageBytes: cfg.MaxBodyBytes,
		InitTimeout:     cfg.WSInitTimeout,
		StallTimeout:    cfg.WSStallTimeout,
		PingInterval:    cfg.WSPingInterval,
		SendQueue:       cfg.WSSendQueue,
		MaxPerIP:        cfg.WSMaxPerIP,
		MaxPerMember:    cfg.WSMaxPerMember,
		CORSOrigins:     cfg.CORSOrigins,
		CheckTimeout:    cfg.MongoTimeout,
	}, socketBackend{m})
}

// socketBackend runs sockets' operations as HTTP requests run theirs: the
// same authentication, member rate limit, executor, refusals and metrics.
type socketBackend struct{ m *Main }

var _ live.Backend = socketBackend{}

func (b socketBackend) Principal(authorization string) (member.Principal, error) {
	return b.m.principal(authorization)
}

func (b socketBackend) CheckSession(ctx context.Context, p member.Principal) error {
	return b.m.members.CheckSession(ctx, p)
}

func (b socketBackend) Allow(p member.Principal) (bool, int) {
	if p.MemberID.IsZero() {
		return true, 0
	}
	ok, wait := b.m.memberLimit.Allow(p.MemberID.Hex())
	return ok, edge.RetrySeconds(wait)
}

func (b socketBackend) Prepare(ctx context.Context, p member.Principal, reqID, ip string, params *graphql.RawParams) (context.Context, *graphql.OperationContext, gqlerror.List) {
	m := b.m
	ctx = m.operationContext(ctx, p, reqID, ip)
	rc, errs := m.exec.CreateOperationContext(ctx, params)
	if errs != nil {
		resp := m.exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
		return ctx, rc, m.withoutSuggestions(resp.Errors)
	}
	if e := m.introspectionRefused(rc); e != nil {
		return ctx, rc, gqlerror.List{e}
	}
	if ok, wait, e := m.chargeFields(p, rc); e != nil {
		return ctx, rc, gqlerror.List{e}
	} else if !ok {
		e := gqlErr("too many operations; retry after "+strconv.Itoa(edge.RetrySeconds(wait))+"s", graph.CodeRateLimited)
		e.Extensions["retryAfter"] = edge.RetrySeconds(wait)
		return ctx, rc, gqlerror.List{e}
	}
	if !m.dbHealth.Available() {
		return ctx, rc, gqlerror.List{unavailableError()}
	}
	return ctx, rc, nil
}

func (b socketBackend) Dispatch(ctx context.Context, rc *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	return b.m.exec.DispatchOperation(ctx, rc)
}

func (b socketBackend) Observe(operation string, start time.Time, resp *graphql.Response) {
	b.m.metrics.Observe("ws", operation, start, resp)
}

func (b socketBackend) SocketsOpen(delta int) { b.m.metrics.SocketsOpen(delta) }
