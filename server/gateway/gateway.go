// Package gateway is what every GraphQL operation passes before the
// executor runs it, over HTTP or the WebSocket: who calls (a member's
// bearer token or the brand's API key, sessions that ended), the rate
// limits per address and per member, introspection kept off, and fast
// refusals while the database is down. It serves GraphQL over HTTP as the
// spec says (media types, statuses, body limits) and is the sockets'
// live.Backend, so both transports refuse alike.
package gateway

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/regulars/regulars/graph/request"

	"github.com/99designs/gqlgen/graphql"
	"github.com/gofiber/fiber/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/regulars/regulars/graph"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/member/auth"
	"github.com/regulars/regulars/server/dbhealth"
	"github.com/regulars/regulars/server/edge"
	"github.com/regulars/regulars/server/metrics"
)

// Gateway admits and runs operations; set every field before serving.
type Gateway struct {
	Exec    *graph.Executor
	Members Members
	// ServiceAPIKeys are the brand backend's keys (Authorization: ApiKey).
	ServiceAPIKeys []string
	MaxBodyBytes   int
	// Introspection allows __schema and __type and validation's "Did you
	// mean" suggestions.
	Introspection bool
	Proxies       edge.Proxies
	IPLimit       *edge.Limiter
	MemberLimit   *edge.Limiter
	Metrics       *metrics.Metrics
	Database      *dbhealth.Monitor
	// Ended are the sessions ended on any instance whose tokens are refused.
	Ended *EndedSessions
}

// Members checks members' tokens and sessions (auth.Service).
type Members interface {
	Authenticate(token string) (member.Principal, error)
	CheckSession(ctx context.Context, p member.Principal) error
}

// authenticate reads the Authorization header into a Principal. A token that
// is present but bad is refused outright rather than treated as anonymous:
// the response is written and ok is false.
func (g *Gateway) authenticate(c *fiber.Ctx, media string) (p member.Principal, ok bool, err error) {
	p, perr := g.principal(c.Get(fiber.HeaderAuthorization))
	if perr != nil {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="regulars"`)
		return p, false, writeErrors(c, statusFor(media, graph.CodeUnauthenticated), media, gqlErr(perr.Error(), graph.CodeUnauthenticated))
	}
	return p, true, nil
}

var errBadAuthorization = errors.New("the Authorization header must be 'Bearer <accessToken>' or 'ApiKey <key>'")

// principal checks an Authorization value: a member's bearer token or the
// brand backend's API key. Empty means anonymous.
func (g *Gateway) principal(header string) (member.Principal, error) {
	if header == "" {
		return member.Principal{}, nil
	}
	scheme, cred, ok := strings.Cut(strings.TrimSpace(header), " ")
	cred = strings.TrimSpace(cred)
	if !ok || cred == "" {
		return member.Principal{}, errBadAuthorization
	}
	switch strings.ToLower(scheme) {
	case "bearer":
		p, err := g.Members.Authenticate(cred)
		if err != nil {
			return member.Principal{}, auth.ErrTokenInvalid
		}
		return p, nil
	case "apikey":
		for _, k := range g.ServiceAPIKeys {
			if subtle.ConstantTimeCompare([]byte(k), []byte(cred)) == 1 {
				return member.Principal{Service: true}, nil
			}
		}
		return member.Principal{}, errors.New("unknown API key")
	}
	return member.Principal{}, errBadAuthorization
}

// RateLimitIP refuses a request over its client address's rate (429).
func (g *Gateway) RateLimitIP(c *fiber.Ctx) error {
	if ok, wait := g.IPLimit.Allow(g.Proxies.ClientIP(c)); !ok {
		return rateLimited(c, wait)
	}
	return c.Next()
}

// rateLimitMember limits signed-in members by id, so one account cannot
// hammer the API from many addresses. The brand's backend is not limited.
// false: the refusal is written.
func (g *Gateway) rateLimitMember(c *fiber.Ctx, p member.Principal) (bool, error) {
	if !p.MemberID.IsZero() {
		if ok, wait := g.MemberLimit.Allow(p.MemberID.Hex()); !ok {
			return false, rateLimited(c, wait)
		}
	}
	return true, nil
}

func rateLimited(c *fiber.Ctx, wait time.Duration) error {
	secs := edge.RetrySeconds(wait)
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
	e := gqlErr("too many requests; retry after "+strconv.Itoa(secs)+"s", graph.CodeRateLimited)
	e.Extensions["retryAfter"] = secs
	media := responseMedia(c)
	if media == "" {
		media = MediaJSON
	}
	// 429 under both media types: the request is refused before it is read,
	// at the HTTP level, as GraphQL over HTTP allows.
	return writeErrors(c, fiber.StatusTooManyRequests, media, e)
}

// principalLocal holds the caller of a file route (FileCaller).
const principalLocal = "principal"

// CallerOf is who called a file route, once FileCaller let them through
// (anonymous: the zero Principal).
func CallerOf(c *fiber.Ctx) member.Principal {
	p, _ := c.Locals(principalLocal).(member.Principal)
	return p
}

// FileCaller authenticates a file route's caller as /graphql does (a bad
// token is refused; none is anonymous) and applies the member rate limit.
func (g *Gateway) FileCaller(c *fiber.Ctx) error {
	// A file is no GraphQL answer: a bad token is 401, whatever the media
	// type, so a download never saves an error as the file.
	p, err := g.principal(c.Get(fiber.HeaderAuthorization))
	if err != nil {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="regulars"`)
		return writeErrors(c, fiber.StatusUnauthorized, MediaJSON, gqlErr(err.Error(), graph.CodeUnauthenticated))
	}
	if ok, err := g.rateLimitMember(c, p); !ok {
		return err
	}
	c.Locals(principalLocal, p)
	return c.Next()
}

// operationContext carries who is calling, the request id and the client
// address into the executor, which logs both with an internal error.
func (g *Gateway) operationContext(ctx context.Context, p member.Principal, reqID, clientIP string) context.Context {
	ctx = member.WithPrincipal(ctx, p)
	ctx = request.WithID(ctx, reqID)
	ctx = request.WithClientIP(ctx, clientIP)
	return graphql.StartOperationTrace(ctx)
}

// unavailableError answers an operation while no database server can take
// it, at once rather than after MONGODB_TIMEOUT.
func unavailableError() *gqlerror.Error {
	e := gqlErr(dbhealth.ErrUnavailable.Error(), graph.CodeOf(dbhealth.ErrUnavailable))
	e.Extensions["retryAfter"] = edge.RetrySeconds(dbhealth.RetryAfter)
	return e
}

// rootFields counts the fields an operation asks for at its root, through
// fragments: each is an operation of its own to the rate limit, so aliases
// cannot multiply what one request does (the cost rule bounds the rest).
func rootFields(rc *graphql.OperationContext) int {
	return len(graphql.CollectFields(rc, rc.Operation.SelectionSet, nil))
}

// chargeFields takes a signed-in member's tokens for every root field past
// the first (which the request's own token paid for). An operation with
// more root fields than the burst could never run: it is refused with a
// query-limit error saying so, not a wait.
func (g *Gateway) chargeFields(p member.Principal, rc *graphql.OperationContext) (ok bool, retryAfter time.Duration, err *gqlerror.Error) {
	if p.MemberID.IsZero() {
		return true, 0, nil
	}
	n := rootFields(rc)
	if n > g.MemberLimit.Burst() {
		e := gqlErr(fmt.Sprintf("an operation may ask for at most %d fields at its root (RATE_LIMIT_MEMBER_BURST), this one asks for %d", g.MemberLimit.Burst(), n), graph.CodeQueryLimit)
		return false, 0, e
	}
	if n > 1 {
		ok, wait := g.MemberLimit.AllowN(p.MemberID.Hex(), n-1)
		return ok, wait, nil
	}
	return true, 0, nil
}

// introspectionRefused answers a query for __schema or __type where
// INTROSPECTION is off: a client error with its own code, before anything
// runs, rather than the executor's "introspection disabled", which reaches
// the client as INTERNAL and logs as a server fault.
func (g *Gateway) introspectionRefused(rc *graphql.OperationContext) *gqlerror.Error {
	if g.Introspection || rc.Operation == nil || rc.Operation.Operation != ast.Query {
		return nil
	}
	for _, f := range graphql.CollectFields(rc, rc.Operation.SelectionSet, []string{"Query"}) {
		if f.Name == "__schema" || f.Name == "__type" {
			e := gqlErr("introspection is disabled on this server", graph.CodeIntrospectionDisabled)
			e.Path = ast.Path{ast.PathName(f.Alias)}
			return e
		}
	}
	return nil
}

// suggestion is what validation adds to name a field, argument, type or
// enum value close to a wrong one.
var suggestion = regexp.MustCompile(` ?Did you mean [^?]*\?`)

// withoutSuggestions returns errs without "Did you mean …?" where
// introspection is off: the suggestions would spell out the schema that
// introspection keeps to itself. The errors are copied, not changed: a
// refused document's errors are cached and shared.
func (g *Gateway) withoutSuggestions(errs gqlerror.List) gqlerror.List {
	if g.Introspection {
		return errs
	}
	out := make(gqlerror.List, len(errs))
	for i, e := range errs {
		if e == nil || !suggestion.MatchString(e.Message) {
			out[i] = e
			continue
		}
		c := *e
		c.Message = suggestion.ReplaceAllString(e.Message, "")
		out[i] = &c
	}
	return out
}

// EndedSessions remembers the sessions that ended (log-out, revocation)
// until their access tokens expire, so an HTTP request with such a token
// is refused like a socket would be, without a database read per request.
type EndedSessions struct {
	mu    sync.Mutex
	until map[bson.ObjectID]time.Time // session → when its last token expires
}

// Add remembers ev's session as ended until ttl (the access tokens'
// lifetime) after it ended.
func (e *EndedSessions) Add(ev auth.SessionEvent, ttl time.Duration) {
	if ev.Session.IsZero() {
		return // a change of roles: the token's roles say what it may do until it expires
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := time.Now()
	if e.until == nil {
		e.until = map[bson.ObjectID]time.Time{}
	}
	for id, t := range e.until {
		if t.Before(now) {
			delete(e.until, id)
		}
	}
	e.until[ev.Session] = ev.At.Add(ttl)
}

// Ended reports whether p's session ended.
func (e *EndedSessions) Ended(p member.Principal) bool {
	if p.Session.IsZero() {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t, ok := e.until[p.Session]
	return ok && time.Now().Before(t)
}
