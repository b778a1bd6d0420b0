// Package fault is the error a domain package returns when it refuses a
// request: a Code saying what kind of refusal it is and a Message safe to
// show the caller (after benbjohnson/wtf's Error).
//
// Every exported sentinel error of a domain package is a *fault.Error, so
// the transport (graph/) turns any of them into a client-facing code in one
// place, by its Code, without a row per error. An error that carries no
// code is an internal one: its details go to the log, not to the client.
package fault

import (
	"errors"
	"time"
)

// Code is the kind of refusal. The transport maps each Code to one of its
// own codes; graph/ maps them to GraphQL's extensions.code.
type Code string

const (
	Invalid         Code = "INVALID"         // the input is wrong; nothing was written
	Unauthenticated Code = "UNAUTHENTICATED" // the caller must sign in (again)
	Forbidden       Code = "FORBIDDEN"       // the caller may not do this
	NotFound        Code = "NOT_FOUND"       // the thing named does not exist (for this caller)
	Conflict        Code = "CONFLICT"        // the state of things refuses it now (out of stock, taken)
	RateLimited     Code = "RATE_LIMITED"    // too many attempts: retry later (see Throttled)
	Unavailable     Code = "UNAVAILABLE"     // a service it needs (the database) cannot be reached now; retry later
	// IdempotencyKeyReused: a key sent again with different input; the
	// first request's result stands and nothing was written.
	IdempotencyKeyReused Code = "IDEMPOTENCY_KEY_REUSED"
	Internal             Code = "INTERNAL" // anything else: a bug or a failing database
)

// Codes lists every Code, for tests that check the transport maps each one.
var Codes = []Code{Invalid, Unauthenticated, Forbidden, NotFound, Conflict, RateLimited, Unavailable, IdempotencyKeyReused, Internal}

// Error is a refusal with its code and a message safe to show.
type Error struct {
	Code    Code
	Message string
}

// New returns an error of code with a safe message. Domain packages declare
// their sentinels with it: var ErrRewardNotFound = fault.New(fault.NotFound, "reward not found").
func New(code Code, message string) *Error { return &Error{Code: code, Message: message} }

func (e *Error) Error() string { return e.Message }

// ErrorCode returns the error's code.
func (e *Error) ErrorCode() Code { return e.Code }

// Throttled refuses a request for now, RATE_LIMITED: the caller may try
// again after RetryAfter.
type Throttled struct {
	Message    string
	RetryAfter time.Duration
}

func (e *Throttled) Error() string { return e.Message }

// ErrorCode is RateLimited.
func (e *Throttled) ErrorCode() Code { return RateLimited }

// Coder is an error that knows its code (an *Error, or an input error that
// names a field).
type Coder interface {
	error
	ErrorCode() Code
}

// CodeOf returns the code of the first error in err's chain that knows one,
// Internal for one that does not (nil included).
func CodeOf(err error) Code {
	var c Coder
	if errors.As(err, &c) {
		return c.ErrorCode()
	}
	return Internal
}
