package gateway

import (
	"bytes"
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
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/requestid"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/regulars/regulars/graph"
	"github.com/regulars/regulars/member"
	"github.com/regulars/regulars/server/dbhealth"
	"github.com/regulars/regulars/server/edge"
	"github.com/regulars/regulars/server/metrics"
)

// The response media types of GraphQL over HTTP: the spec's own, and the
// JSON every client reads (see responseMedia).
const (
	MediaGraphQLResponse = "application/graphql-response+json"
	MediaJSON            = "application/json"
)

// RequestID is the request's id (X-Request-Id, or made up).
func RequestID(c *fiber.Ctx) string {
	id, _ := c.Locals(requestid.ConfigDefault.ContextKey).(string)
	return id
}

// ErrorHandler answers what Fiber itself refuses (an oversized body: 413, an
// unknown route: 404) with a GraphQL-shaped error, so clients parse one format.
func ErrorHandler(c *fiber.Ctx, err error) error {
	status := fiber.StatusInternalServerError
	var fe *fiber.Error
	if errors.As(err, &fe) {
		status = fe.Code
	} else {
		slog.Error("request failed", "requestId", RequestID(c), "clientIp", c.Locals(edge.ClientIPLocal), "err", err)
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
	return writeErrors(c, status, MediaJSON, gqlErr(msg, code))
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

// responseMedia picks the response type from Accept, as GraphQL over HTTP
// says: the new application/graphql-response+json when the client asks for
// it, application/json otherwise. "" means the client accepts neither.
func responseMedia(c *fiber.Ctx) string {
	accept := c.Get(fiber.HeaderAccept)
	if accept == "" {
		return MediaJSON
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
		case MediaGraphQLResponse:
			candidate = MediaGraphQLResponse
		case MediaJSON, "application/*", "*/*":
			candidate = MediaJSON
		default:
			continue
		}
		if q > bestQ || (q == bestQ && candidate == MediaGraphQLResponse) {
			best, bestQ = candidate, q
		}
	}
	if bestQ <= 0 {
		return ""
	}
	return best
}

// ServeGraphQL serves GraphQL over HTTP: POST for any operation but
// subscriptions, GET for queries only. What the request is comes first
// (method, media types, body, a mutation over GET), then who sends it
// (token, member rate limit), then the document.
func (g *Gateway) ServeGraphQL(c *fiber.Ctx) error {
	start := time.Now()
	if c.Method() != fiber.MethodGet && c.Method() != fiber.MethodPost {
		c.Set(fiber.HeaderAllow, "GET, POST")
		return writeErrors(c, fiber.StatusMethodNotAllowed, MediaJSON, gqlErr("use POST, or GET for queries", graph.CodeBadUserInput))
	}
	media := responseMedia(c)
	if media == "" {
		return writeErrors(c, fiber.StatusNotAcceptable, MediaJSON,
			gqlErr("Accept must allow application/graphql-response+json or application/json", graph.CodeBadUserInput))
	}

	params := &graphql.RawParams{ReadTime: graphql.TraceTiming{Start: graphql.Now()}}
	if c.Method() == fiber.MethodPost {
		ct, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
		if err != nil || ct != MediaJSON {
			return writeErrors(c, fiber.StatusUnsupportedMediaType, media, gqlErr("Content-Type must be application/json", graph.CodeBadUserInput))
		}
		if enc := c.Get(fiber.HeaderContentEncoding); enc != "" && !strings.EqualFold(enc, "identity") {
			return writeErrors(c, fiber.StatusUnsupportedMediaType, media, gqlErr("Content-Encoding "+enc+" is not accepted", graph.CodeBadUserInput))
		}
		body, err := g.readBody(c)
		if errors.Is(err, errBodyTooLarge) {
			return g.bodyTooLarge(c, media)
		}
		if err == nil {
			err = decodeJSON(body, params)
		}
		if err != nil {
			return writeErrors(c, fiber.StatusBadRequest, media, gqlErr("body is not a GraphQL request in JSON: "+err.Error(), graph.CodeBadUserInput))
		}
	} else {
		// Fiber's query values point into the request's buffer, which the
		// next request reuses; the document (cached by its text) and the
		// operation's name in the metrics outlive this one.
		params.Query = strings.Clone(c.Query("query"))
		params.OperationName = strings.Clone(c.Query("operationName"))
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

	p, ok, err := g.authenticate(c, media)
	if !ok {
		return err
	}
	if ok, err := g.rateLimitMember(c, p); !ok {
		return err
	}
	if g.Ended.Ended(p) {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="regulars"`)
		return writeErrors(c, statusFor(media, graph.CodeUnauthenticated), media, gqlErr(member.ErrSessionEnded.Error(), graph.CodeUnauthenticated))
	}
	ctx := g.operationContext(c.UserContext(), p, RequestID(c), g.Proxies.ClientIP(c))
	rc, errs := g.Exec.CreateOperationContext(ctx, params)
	if errs != nil {
		resp := g.Exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
		g.Metrics.Observe("http", operationName(rc, params.OperationName), start, resp)
		return writeJSON(c, statusForRequestErrors(media, errs), media, requestError{Errors: g.withoutSuggestions(resp.Errors), Extensions: resp.Extensions})
	}
	if e := g.introspectionRefused(rc); e != nil {
		g.Metrics.Observe("http", operationName(rc, params.OperationName), start, &graphql.Response{Errors: gqlerror.List{e}})
		return writeErrors(c, statusFor(media, graph.CodeIntrospectionDisabled), media, e)
	}
	if ok, wait, e := g.chargeFields(p, rc); e != nil {
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
	if !g.Database.Available() {
		e := unavailableError()
		g.Metrics.Observe("http", operationName(rc, params.OperationName), start, &graphql.Response{Errors: gqlerror.List{e}})
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(edge.RetrySeconds(dbhealth.RetryAfter)))
		return writeErrors(c, statusFor(media, graph.CodeUnavailable), media, e)
	}
	responses, ctx := g.Exec.DispatchOperation(metrics.CountCommands(ctx), rc)
	resp := responses(ctx)
	name := operationName(rc, params.OperationName)
	g.Metrics.Observe("http", name, start, resp)
	g.Metrics.ObserveCommands(ctx, name)
	return writeJSON(c, fiber.StatusOK, media, resp)
}

// operationName names the operation in the metrics: the one the request
// asked for (operationName), or else the name the document gives its one
// operation (clients need not send operationName then), also when the
// operation was refused before it ran.
func operationName(rc *graphql.OperationContext, requested string) string {
	switch {
	case requested != "" || rc == nil:
		return requested
	case rc.Operation != nil:
		return rc.Operation.Name
	case rc.Doc != nil && len(rc.Doc.Operations) == 1:
		return rc.Doc.Operations[0].Name
	}
	return ""
}

// maxDrainBytes bounds what is read of a body over MAX_BODY_BYTES before
// answering 413: a client that sends it all then reads the answer; past
// this, the connection is closed under it.
const maxDrainBytes = 8 << 20

// errBodyTooLarge: the body is longer than MAX_BODY_BYTES.
var errBodyTooLarge = errors.New("body too large")

// readBody reads the request body, at most MAX_BODY_BYTES of it.
func (g *Gateway) readBody(c *fiber.Ctx) ([]byte, error) {
	limit := g.MaxBodyBytes
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
func (g *Gateway) bodyTooLarge(c *fiber.Ctx, media string) error {
	return writeErrors(c, fiber.StatusRequestEntityTooLarge, media,
		gqlErr("request body is larger than "+strconv.Itoa(g.MaxBodyBytes)+" bytes (MAX_BODY_BYTES)", graph.CodeBadUserInput))
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

// statusForRequestErrors follows GraphQL over HTTP: with application/json a
// well-formed request gets 200 whatever the GraphQL errors; with
// application/graphql-response+json a request that cannot run gets 4xx.
func statusForRequestErrors(media string, errs gqlerror.List) int {
	if media == MediaJSON {
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
	if media == MediaJSON {
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
