package main

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/cors"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/regulars/regulars/graph"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/server/dbhealth"
	"github.com/regulars/regulars/server/edge"
)

const (
	mediaGraphQLResponse = "application/graphql-response+json"
	mediaJSON            = "application/json"
)

func (m *Main) newApp() *fiber.App {
	app := fiber.New(fiber.Config{
		AppName:   "regulars",
		BodyLimit: m.Config.MaxBodyBytes,
		// Bodies are read through readBody, which answers one over the limit
		// with 413 after reading it (up to maxDrainBytes): fasthttp alone
		// closes before reading, and the client, still sending, sees a
		// reset instead of the answer.
		StreamRequestBody:     true,
		DisableStartupMessage: true,
		ErrorHandler:          errorHandler,
		ReadTimeout:           m.Config.HTTPReadTimeout,
		WriteTimeout:          m.Config.HTTPWriteTimeout,
		IdleTimeout:           m.Config.HTTPIdleTimeout,
		// X-Forwarded-Proto and -Host are believed from these proxies only;
		// the client address is worked out by clientIP.
		EnableTrustedProxyCheck: true,
		TrustedProxies:          m.Config.TrustedProxies,
	})
	app.Use(recover.New(recover.Config{EnableStackTrace: true, StackTraceHandler: func(c *fiber.Ctx, p any) {
		slog.Error("panic in request", "requestId", requestID(c), "clientIp", c.Locals(edge.ClientIPLocal), "panic", p)
	}}))
	app.Use(requestid.New())
	if m.Config.CORSOrigins != "" {
		app.Use(cors.New(cors.Config{
			AllowOrigins: m.Config.CORSOrigins,
			AllowHeaders: "Authorization, Content-Type, Accept, X-Request-Id",
			AllowMethods: "GET, POST, OPTIONS",
		}))
	}

	app.Get("/healthz", func(c *fiber.Ctx) error { return c.SendString("ok") })
	app.Get("/readyz", m.readyz)
	app.Get("/metrics", adaptor.HTTPHandler(m.metrics.Handler()))

	app.Use("/graphql", m.rateLimitIP)
	app.Get("/graphql", func(c *fiber.Ctx) error {
		if websocket.IsWebSocketUpgrade(c) {
			return m.sockets.Upgrade(c, requestID(c), m.proxies.ClientIP(c))
		}
		return c.Next()
	})
	app.All("/graphql", m.graphqlHTTP)
	app.Get("/events/*", m.rateLimitIP, m.fileCaller, m.eventFile)
	app.Get("/analytics/export/*", m.rateLimitIP, m.fileCaller, m.analyticsExport)
	app.Get("/exports/:id", m.rateLimitIP, m.fileCaller, m.exportFile)
	m.mountConsole(app)
	return app
}

func requestID(c *fiber.Ctx) string {
	id, _ := c.Locals(requestid.ConfigDefault.ContextKey).(string)
	return id
}

// readyz answers 200 once the database answers a ping and its indexes
// exist. Otherwise 503, saying where the database is (host:port, never the
// URI with its credentials) and the last error the driver or a ping saw.
func (m *Main) readyz(c *fiber.Ctx) error {
	err := errors.New("not connected yet")
	if m.ready.Load() {
		err = m.dbHealth.Ping(c.UserContext(), m.mongo)
	}
	if err != nil {
		return c.Status(fiber.StatusServiceUnavailable).SendString(m.dbHealth.Explain(err))
	}
	return c.SendString("ready")
}

// errorHandler answers what Fiber itself refuses (an oversized body: 413, an
// unknown route: 404) with a GraphQL-shaped error, so clients parse one format.
func errorHandler(c *fiber.Ctx, err error) error {
	status := fiber.StatusInternalServerError
	var fe *fiber.Error
	if errors.As(err, &fe) {
		status = fe.Code
	} else {
		slog.Error("request failed", "requestId", requestID(c), "clientIp", c.Locals(edge.ClientIPLocal), "err", err)
	}
	code := graph.CodeBadUserInput
	switch {
	case status == fiber.StatusNotFound:
		code = graph.CodeNotFound
	case status == fiber.StatusUnauthorized:
		code = graph.CodeUnauthenticated
	case status == fiber.StatusForbidden:
		code = graph.CodeForbidden
	case status >= 500:
		code = graph.CodeInternal
	}
	msg := http.StatusText(status)
	if status == fiber.StatusRequestEntityTooLarge {
		msg = "request body is larger than " + strconv.Itoa(c.App().Config().BodyLimit) + " bytes"
	}
	return writeErrors(c, status, mediaJSON, gqlErr(msg, code))
}

func gqlErr(msg, code string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": code}}
}

// requestError is a response to a request that never ran: it has no data
// entry at all, as GraphQL says, rather than "data": null.
type requestError struct {
	Errors     gqlerror.List  `json:"errors"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

func writeErrors(c *fiber.Ctx, status int, media string, errs ...*gqlerror.Error) error {
	return writeJSON(c, status, media, requestError{Errors: errs})
}

func writeJSON(c *fiber.Ctx, status int, media string, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, media+"; charset=utf-8")
	return c.Status(status).Send(body)
}

// authenticate reads the Authorization header into a Principal. A token that
// is present but bad is refused outright rather than treated as anonymous:
// the response is written and ok is false.
func (m *Main) authenticate(c *fiber.Ctx, media string) (p member.Principal, ok bool, err error) {
	p, perr := m.principal(c.Get(fiber.HeaderAuthorization))
	if perr != nil {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="regulars"`)
		return p, false, writeErrors(c, statusFor(media, graph.CodeUnauthenticated), media, gqlErr(perr.Error(), graph.CodeUnauthenticated))
	}
	return p, true, nil
}

var errBadAuthorization = errors.New("the Authorization header must be 'Bearer <accessToken>' or 'ApiKey <key>'")

// principal checks an Authorization value: a member's bearer token or the
// brand backend's API key. Empty means anonymous.
func (m *Main) principal(header string) (member.Principal, error) {
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
		p, err := m.members.Authenticate(cred)
		if err != nil {
			return member.Principal{}, member.ErrTokenInvalid
		}
		return p, nil
	case "apikey":
		for _, k := range m.Config.ServiceAPIKeys {
			if subtle.ConstantTimeCompare([]byte(k), []byte(cred)) == 1 {
				return member.Principal{Service: true}, nil
			}
		}
		return member.Principal{}, errors.New("unknown API key")
	}
	return member.Principal{}, errBadAuthorization
}

func (m *Main) rateLimitIP(c *fiber.Ctx) error {
	if ok, wait := m.ipLimit.Allow(m.proxies.ClientIP(c)); !ok {
		return rateLimited(c, wait)
	}
	return c.Next()
}

// rateLimitMember limits signed-in members by id, so one account cannot
// hammer the API from many addresses. The brand's backend is not limited.
// false: the refusal is written.
func (m *Main) rateLimitMember(c *fiber.Ctx, p member.Principal) (bool, error) {
	if !p.MemberID.IsZero() {
		if ok, wait := m.memberLimit.Allow(p.MemberID.Hex()); !ok {
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
		media = mediaJSON
	}
	// 429 under both media types: the request is refused before it is read,
	// at the HTTP level, as GraphQL over HTTP allows.
	return writeErrors(c, fiber.StatusTooManyRequests, media, e)
}

// responseMedia picks the response type from Accept, as GraphQL over HTTP
// says: the new application/graphql-response+json when the client asks for
// it, application/json otherwise. "" means the client accepts neither.
func responseMedia(c *fiber.Ctx) string {
	accept := c.Get(fiber.HeaderAccept)
	if accept == "" {
		return mediaJSON
	}
	best, bestQ := "", -1.0
	for _, part := range strings.Split(accept, ",") {
		media, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			q, _ = strconv.ParseFloat(v, 64)
		}
		var candidate string
		switch media {
		case mediaGraphQLResponse:
			candidate = mediaGraphQLResponse
		case mediaJSON, "application/*", "*/*":
			candidate = mediaJSON
		default:
			continue
		}
		if q > bestQ || (q == bestQ && candidate == mediaGraphQLResponse) {
			best, bestQ = candidate, q
		}
	}
	if bestQ <= 0 {
		return ""
	}
	return best
}

// graphqlHTTP serves GraphQL over HTTP: POST for any operation but
// subscriptions, GET for queries only. What the request is comes first
// (method, media types, body, a mutation over GET), then who sends it
// (token, member rate limit), then the document.
func (m *Main) graphqlHTTP(c *fiber.Ctx) error {
	start := time.Now()
	if c.Method() != fiber.MethodGet && c.Method() != fiber.MethodPost {
		c.Set(fiber.HeaderAllow, "GET, POST")
		return writeErrors(c, fiber.StatusMethodNotAllowed, mediaJSON, gqlErr("use POST, or GET for queries", graph.CodeBadUserInput))
	}
	media := responseMedia(c)
	if media == "" {
		return writeErrors(c, fiber.StatusNotAcceptable, mediaJSON,
			gqlErr("Accept must allow application/graphql-response+json or application/json", graph.CodeBadUserInput))
	}

	params := &graphql.RawParams{ReadTime: graphql.TraceTiming{Start: graphql.Now()}}
	if c.Method() == fiber.MethodPost {
		ct, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
		if err != nil || ct != mediaJSON {
			return writeErrors(c, fiber.StatusUnsupportedMediaType, media, gqlErr("Content-Type must be application/json", graph.CodeBadUserInput))
		}
		if enc := c.Get(fiber.HeaderContentEncoding); enc != "" && !strings.EqualFold(enc, "identity") {
			return writeErrors(c, fiber.StatusUnsupportedMediaType, media, gqlErr("Content-Encoding "+enc+" is not accepted", graph.CodeBadUserInput))
		}
		body, err := m.readBody(c)
		if errors.Is(err, errBodyTooLarge) {
			return m.bodyTooLarge(c, media)
		}
		if err == nil {
			err = decodeJSON(body, params)
		}
		if err != nil {
			return writeErrors(c, fiber.StatusBadRequest, media, gqlErr("body is not a GraphQL request in JSON: "+err.Error(), graph.CodeBadUserInput))
		}
	} else {
		params.Query = c.Query("query")
		params.OperationName = c.Query("operationName")
		for name, dst := range map[string]any{"variables": &params.Variables, "extensions": &params.Extensions} {
			if v := c.Query(name); v != "" {
				if err := decodeJSON([]byte(v), dst); err != nil {
					return writeErrors(c, fiber.StatusBadRequest, media, gqlErr(name+" is not a JSON object", graph.CodeBadUserInput))
				}
			}
		}
		// A mutation over GET is the wrong method whoever sends it, so it is
		// refused before the token is looked at.
		if op, ok := selectedOperation(params.Query, params.OperationName); ok && op != ast.Query {
			c.Set(fiber.HeaderAllow, "POST")
			return writeErrors(c, fiber.StatusMethodNotAllowed, media, gqlErr(string(op)+"s must use POST", graph.CodeBadUserInput))
		}
	}
	params.ReadTime.End = graphql.Now()
	params.Headers = http.Header{}
	if params.Query == "" && params.Extensions["persistedQuery"] == nil {
		// Not a GraphQL request at all: 400 whatever the media type.
		return writeErrors(c, fiber.StatusBadRequest, media, gqlErr("a GraphQL request needs a query (or a persisted query's hash)", graph.CodeBadUserInput))
	}

	p, ok, err := m.authenticate(c, media)
	if !ok {
		return err
	}
	if ok, err := m.rateLimitMember(c, p); !ok {
		return err
	}
	if m.endedSessions.ended(p) {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="regulars"`)
		return writeErrors(c, statusFor(media, graph.CodeUnauthenticated), media, gqlErr(member.ErrSessionEnded.Error(), graph.CodeUnauthenticated))
	}
	ctx := m.operationContext(c.UserContext(), p, requestID(c), m.proxies.ClientIP(c))
	rc, errs := m.exec.CreateOperationContext(ctx, params)
	if errs != nil {
		resp := m.exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
		m.metrics.Observe("http", params.OperationName, start, resp)
		return writeJSON(c, statusForRequestErrors(media, errs), media, requestError{Errors: m.withoutSuggestions(resp.Errors), Extensions: resp.Extensions})
	}
	if e := m.introspectionRefused(rc); e != nil {
		m.metrics.Observe("http", rc.OperationName, start, &graphql.Response{Errors: gqlerror.List{e}})
		return writeErrors(c, statusFor(media, graph.CodeIntrospectionDisabled), media, e)
	}
	if ok, wait, e := m.chargeFields(p, rc); e != nil {
		return writeErrors(c, statusFor(media, graph.CodeQueryLimit), media, e)
	} else if !ok {
		return rateLimited(c, wait)
	}
	switch op := rc.Operation.Operation; {
	case op == ast.Subscription:
		return writeErrors(c, fiber.StatusBadRequest, media, gqlErr("subscriptions run over WebSocket (graphql-transport-ws) on this path", graph.CodeBadUserInput))
	case op != ast.Query && c.Method() == fiber.MethodGet:
		c.Set(fiber.HeaderAllow, "POST")
		return writeErrors(c, fiber.StatusMethodNotAllowed, media, gqlErr("mutations must use POST", graph.CodeBadUserInput))
	}
	if !m.dbHealth.Available() {
		e := unavailableError()
		m.metrics.Observe("http", rc.OperationName, start, &graphql.Response{Errors: gqlerror.List{e}})
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(edge.RetrySeconds(dbhealth.RetryAfter)))
		return writeErrors(c, statusFor(media, graph.CodeUnavailable), media, e)
	}
	responses, ctx := m.exec.DispatchOperation(ctx, rc)
	resp := responses(ctx)
	m.metrics.Observe("http", rc.OperationName, start, resp)
	return writeJSON(c, fiber.StatusOK, media, resp)
}

// maxDrainBytes bounds what is read of a body over MAX_BODY_BYTES before
// answering 413: a client that sends it all then reads the answer; past
// this, the connection is closed under it.
const maxDrainBytes = 8 << 20

// errBodyTooLarge: the body is longer than MAX_BODY_BYTES.
var errBodyTooLarge = errors.New("body too large")

// readBody reads the request body, at most MAX_BODY_BYTES of it.
func (m *Main) readBody(c *fiber.Ctx) ([]byte, error) {
	limit := m.Config.MaxBodyBytes
	stream := c.Context().RequestBodyStream()
	if stream == nil {
		b := c.Request().Body()
		if len(b) > limit {
			return nil, errBodyTooLarge
		}
		return b, nil
	}
	b, err := io.ReadAll(io.LimitReader(stream, int64(limit)+1))
	if err != nil {
		c.Context().SetConnectionClose() // the rest of the body is still on the wire
		return nil, err
	}
	if len(b) > limit {
		// The rest is read and dropped, up to a bound, so the client gets
		// to read the 413; the connection is not reused.
		_, _ = io.CopyN(io.Discard, stream, maxDrainBytes)
		c.Context().SetConnectionClose()
		return nil, errBodyTooLarge
	}
	return b, nil
}

// bodyTooLarge answers a body over MAX_BODY_BYTES.
func (m *Main) bodyTooLarge(c *fiber.Ctx, media string) error {
	return writeErrors(c, fiber.StatusRequestEntityTooLarge, media,
		gqlErr("request body is larger than "+strconv.Itoa(m.Config.MaxBodyBytes)+" bytes (MAX_BODY_BYTES)", graph.CodeBadUserInput))
}

// unavailableError answers an operation while no database server can take
// it, at once rather than after MONGODB_TIMEOUT.
func unavailableError() *gqlerror.Error {
	e := gqlErr(dbhealth.ErrUnavailable.Error(), graph.CodeOf(dbhealth.ErrUnavailable))
	e.Extensions["retryAfter"] = edge.RetrySeconds(dbhealth.RetryAfter)
	return e
}

// selectedOperation returns the kind of operation a GET request would run:
// the one named, or the only one. false when the document does not parse
// or names none; the executor then answers with its own error.
func selectedOperation(query, name string) (ast.Operation, bool) {
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		return "", false
	}
	if name == "" && len(doc.Operations) == 1 {
		return doc.Operations[0].Operation, true
	}
	if op := doc.Operations.ForName(name); op != nil && name != "" {
		return op.Operation, true
	}
	return "", false
}

// operationContext carries who is calling, the request id and the client
// address into the executor, which logs both with an internal error.
func (m *Main) operationContext(ctx context.Context, p member.Principal, reqID, clientIP string) context.Context {
	ctx = member.WithPrincipal(ctx, p)
	ctx = graph.WithRequestID(ctx, reqID)
	ctx = graph.WithClientIP(ctx, clientIP)
	return graphql.StartOperationTrace(ctx)
}

// statusForRequestErrors follows GraphQL over HTTP: with application/json a
// well-formed request gets 200 whatever the GraphQL errors; with
// application/graphql-response+json a request that cannot run gets 4xx.
func statusForRequestErrors(media string, errs gqlerror.List) int {
	if media == mediaJSON {
		return fiber.StatusOK
	}
	if errcode.GetErrorKind(errs) == errcode.KindProtocol {
		return fiber.StatusBadRequest
	}
	status := fiber.StatusBadRequest
	for _, e := range errs {
		if code, _ := e.Extensions["code"].(string); statusFor(media, code) != fiber.StatusBadRequest {
			status = statusFor(media, code)
		}
	}
	return status
}

// statusFor is the HTTP status of a well-formed request refused with code:
// 200 under application/json, where the body says what happened, as GraphQL
// over HTTP says; under application/graphql-response+json the status says
// it too.
func statusFor(media, code string) int {
	if media == mediaJSON {
		return fiber.StatusOK
	}
	switch code {
	case graph.CodeUnauthenticated:
		return fiber.StatusUnauthorized
	case graph.CodeForbidden:
		return fiber.StatusForbidden
	case graph.CodeRateLimited:
		return fiber.StatusTooManyRequests
	case graph.CodeUnavailable:
		return fiber.StatusServiceUnavailable
	case graph.CodeInternal:
		return fiber.StatusInternalServerError
	}
	return fiber.StatusBadRequest
}

// decodeJSON decodes one JSON value, keeping numbers exact as gqlgen expects.
func decodeJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}
