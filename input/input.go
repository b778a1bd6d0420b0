// Package input describes client input that the domain refuses.
//
// Every domain package reports a bad field with an *Error, so the GraphQL
// layer can name the field in one place without knowing each package.
package input

import (
	"errors"
	"fmt"
)

// Error says which input field is wrong and why.
type Error struct {
	Field   string // the field's path as the client sent it, e.g. "input.email"
	Message string
}

func (e *Error) Error() string { return e.Field + ": " + e.Message }

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
