// Package input describes client input that the domain refuses.
//
// Every domain package reports a bad field with an *Error, so the GraphQL
// layer can name the field in one place without knowing each package. An
// *Error is a fault.Coder: its code is fault.Invalid unless the error it
// wraps has a code of its own.
package input

import (
	"errors"
	"fmt"

	"github.com/regulars/regulars/fault"
)

// Error says which input field is wrong and why.
type Error struct {
	Field   string // the field's name as the client sent it, e.g. "email"
	Message string
	// Err, if set, is the domain error behind it (say, a sentinel for "not
	// found"), which then decides the error's code.
	Err error
}

func (e *Error) Error() string { return e.Field + ": " + e.Message }

func (e *Error) Unwrap() error { return e.Err }

// ErrorCode is the code of the domain error behind it if that has one
// (an unknown id is NOT_FOUND), else fault.Invalid.
func (e *Error) ErrorCode() fault.Code {
	if c := fault.CodeOf(e.Err); c != fault.Internal {
		return c
	}
	return fault.Invalid
}

// Wrap names the field that err is about: an unknown id, say.
func Wrap(field string, err error) error {
	return &Error{Field: field, Message: err.Error(), Err: err}
}

// Errorf returns an *Error for field.
func Errorf(field, format string, args ...any) error {
	return &Error{Field: field, Message: fmt.Sprintf(format, args...)}
}

// As reports whether err is or wraps an *Error.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
