package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime/debug"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/regulars/regulars/fault"
	"github.com/regulars/regulars/graph/guard"
	"github.com/regulars/regulars/graph/request"
	"github.com/regulars/regulars/input"
)

// The error codes clients see in extensions.code; no others are sent.
const (
	CodeBadUserInput    = guard.CodeBadUserInput
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeNotFound        = "NOT_FOUND"
	CodeConflict        = "CONFLICT"
	CodeRateLimited     = "RATE_LIMITED"
	CodeQueryLimit      = guard.CodeQueryLimit
	CodeInternal        = "INTERNAL"
	// CodeUnavailable answers while the database cannot be reached, at once,
	// with extensions.retryAfter in seconds.
	CodeUnavailable = "UNAVAILABLE"
	// CodeIntrospectionDisabled answers __schema or __type where
	// introspection is off.
	CodeIntrospectionDisabled = "INTROSPECTION_DISABLED"
	// CodeIdempotencyKeyReused refuses a key sent again with other input
	// (the IETF Idempotency-Key draft's 422; Stripe's idempotency_error).
	CodeIdempotencyKeyReused = "IDEMPOTENCY_KEY_REUSED"
	// CodePersistedQueryNotFound answers a persisted-query hash the server
	// does not know (yet): the client sends the hash again with its query.
	// The code Apollo, urql and other servers use; the message stays
	// "PersistedQueryNotFound", which Apollo's link matches.
	CodePersistedQueryNotFound = "PERSISTED_QUERY_NOT_FOUND"
)

var (
	ErrUnauthenticated = fault.New(fault.Unauthenticated, "sign in first: send Authorization: Bearer <accessToken>")
	ErrForbidden       = fault.New(fault.Forbidden, "you may not do this")
)

// transportCodes maps each domain fault.Code to its extensions.code: the one
// place that does. Domain errors carry their codes (see package fault), so a
// new error needs no row here.
var transportCodes = map[fault.Code]string{
	fault.Invalid:              CodeBadUserInput,
	fault.Unauthenticated:      CodeUnauthenticated,
	fault.Forbidden:            CodeForbidden,
	fault.NotFound:             CodeNotFound,
	fault.Conflict:             CodeConflict,
	fault.RateLimited:          CodeRateLimited,
	fault.Unavailable:          CodeUnavailable,
	fault.IdempotencyKeyReused: CodeIdempotencyKeyReused,
	fault.Internal:             CodeInternal,
}

// protocolCodes maps gqlgen's own codes into ours; the original stays in
// extensions.reason, which Apollo's persisted-query link also reads.
var protocolCodes = map[string]string{
	"GRAPHQL_PARSE_FAILED":          CodeBadUserInput,
	"GRAPHQL_VALIDATION_FAILED":     CodeBadUserInput,
	"COMPLEXITY_LIMIT_EXCEEDED":     CodeBadUserInput,
	"PERSISTED_QUERY_NOT_FOUND":     CodePersistedQueryNotFound,
	"PERSISTED_QUERY_NOT_SUPPORTED": CodeBadUserInput,
}

// CodeOf returns the client-facing code of err.
func CodeOf(err error) string {
	// First: a domain may have wrapped the database's failure as being
	// about a field (input.Wrap of a lookup); it is still no input error.
	if databaseUnreachable(err) {
		return CodeUnavailable
	}
	if c := fault.CodeOf(err); c != fault.Internal {
		return transportCodes[c]
	}
	var gqlErr *gqlerror.Error
	if errors.As(err, &gqlErr) {
		if c, ok := gqlErr.Extensions["code"].(string); ok {
			if mapped, ok := protocolCodes[c]; ok {
				return mapped
			}
			return c
		}
		// An error gqlgen raised itself (bad argument types, unknown enum
		// values) wraps no domain error: it is the client's input.
		if gqlErr.Err == nil {
			return CodeBadUserInput
		}
	}
	return CodeInternal
}

// databaseUnreachable says whether err is the database not answering: the
// connection broke under the operation, no server could be selected, or the
// operation ran out of its deadline. The client may retry (mutations with
// their idempotency keys), so it is told UNAVAILABLE, not INTERNAL.
func databaseUnreachable(err error) bool {
	var selection topology.ServerSelectionError
	var retryable interface{ Retryable() bool } // the pool was cleared after a network error
	return mongo.IsNetworkError(err) || mongo.IsTimeout(err) || errors.As(err, &selection) ||
		errors.As(err, &retryable) && retryable.Retryable()
}

// presentError gives every error a code; internal details go to the log only.
func presentError(ctx context.Context, err error) *gqlerror.Error {
	gqlErr := graphql.DefaultErrorPresenter(ctx, err)
	code := CodeOf(err)
	if gqlErr.Extensions == nil {
		gqlErr.Extensions = map[string]any{}
	}
	if orig, ok := gqlErr.Extensions["code"].(string); ok && orig != code {
		gqlErr.Extensions["reason"] = orig
	}
	gqlErr.Extensions["code"] = code
	if in, ok := input.As(err); ok && code != CodeUnavailable && code != CodeInternal {
		field := in.Field
		if field == "" {
			// A scalar that failed to parse knows no field; its path names
			// it, as gqlgen's own refusals are named (valueField).
			field = argumentField(ctx, gqlErr.Path)
		}
		gqlErr.Message = field + ": " + in.Message
		gqlErr.Extensions["field"] = field
	} else if code == CodeBadUserInput {
		// A value gqlgen refused before any resolver ran (a float or an
		// out-of-range number for an Int, in a variable or a literal).
		if field, ok := valueField(ctx, gqlErr); ok {
			gqlErr.Message = field + ": " + coercionMessage(gqlErr.Message)
			gqlErr.Extensions["field"] = field
		}
	}
	// A domain error may say more than its code (until when a member is
	// silenced, what another moderator did first).
	var extra interface{ Extensions() map[string]any }
	if errors.As(err, &extra) {
		for k, v := range extra.Extensions() {
			gqlErr.Extensions[k] = v
		}
	}
	var throttled *fault.Throttled
	if errors.As(err, &throttled) {
		gqlErr.Extensions["retryAfter"] = retrySeconds(throttled.RetryAfter)
	} else if code == CodeUnavailable && gqlErr.Extensions["retryAfter"] == nil {
		gqlErr.Extensions["retryAfter"] = retrySeconds(unavailableRetry)
	}
	if code == CodeUnavailable && databaseUnreachable(err) {
		// The driver's words are for the log, not the client.
		slog.WarnContext(ctx, "database unavailable", "requestId", request.ID(ctx), "path", gqlErr.Path.String(), "err", err)
		gqlErr.Message = "the database is not answering; retry after retryAfter seconds"
	}
	if code == CodeInternal {
		id := request.ID(ctx)
		if !errors.Is(err, context.Canceled) { // the client went away: nobody to tell, nothing wrong
			slog.ErrorContext(ctx, "internal error", "requestId", id, "clientIp", request.ClientIP(ctx), "path", gqlErr.Path.String(), "err", err)
		}
		gqlErr.Message = "internal error; quote requestId " + id + " when reporting it"
		gqlErr.Extensions["requestId"] = id
	}
	return gqlErr
}

// unavailableRetry is the retryAfter given with an operation the database
// did not answer: about when the driver looks for it again.
const unavailableRetry = 2 * time.Second

// retrySeconds rounds a wait up to whole seconds, at least one, as
// Retry-After and extensions.retryAfter have it.
func retrySeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// recoverPanic turns a resolver panic into an internal error for this
// request only; the process goes on.
func recoverPanic(ctx context.Context, p any) error {
	slog.ErrorContext(ctx, "panic in resolver", "requestId", request.ID(ctx), "clientIp", request.ClientIP(ctx), "panic", p, "stack", string(debug.Stack()))
	return fmt.Errorf("panic: %v", p)
}
