package domain

import (
	"errors"
	"fmt"
)

// The error kinds every layer shares. A typed error reports its kind by
// wrapping one of these (errors.Is), and the HTTP layer maps each kind to one
// status code: Invalid 422/400, Forbidden 403, NotFound 404, Conflict 409,
// Locked 423, Refused 400.
var (
	// ErrInvalid marks input that breaks a rule of the domain.
	ErrInvalid = errors.New("invalid")
	// ErrNotFound marks a missing aggregate or read-model row.
	ErrNotFound = errors.New("not found")
	// ErrConflict marks a write that lost a race or breaks uniqueness.
	ErrConflict = errors.New("conflict")
	// ErrForbidden marks an action the caller may not take.
	ErrForbidden = errors.New("forbidden")
	// ErrLocked marks a change of something locked against changes (423).
	ErrLocked = errors.New("locked")
	// ErrRefused marks a request refused as a whole (Langflow answers it
	// 400): a flow name already in use, an upload that is not a flow file.
	ErrRefused = errors.New("refused")
)

// Error is a domain error with a message meant for the client and a kind.
type Error struct {
	Kind    error
	Message string
}

func (e *Error) Error() string { return e.Message }

// Unwrap reports the kind, so errors.Is(err, ErrConflict) works.
func (e *Error) Unwrap() error { return e.Kind }

// Invalidf returns an ErrInvalid error with a client-facing message
// built like fmt.Sprintf.
func Invalidf(format string, args ...any) error {
	return &Error{Kind: ErrInvalid, Message: fmt.Sprintf(format, args...)}
}

// NotFoundf returns an ErrNotFound error with a client-facing message
// built like fmt.Sprintf.
func NotFoundf(format string, args ...any) error {
	return &Error{Kind: ErrNotFound, Message: fmt.Sprintf(format, args...)}
}

// Conflictf returns an ErrConflict error with a client-facing message
// built like fmt.Sprintf.
func Conflictf(format string, args ...any) error {
	return &Error{Kind: ErrConflict, Message: fmt.Sprintf(format, args...)}
}

// Forbiddenf returns an ErrForbidden error with a client-facing message
// built like fmt.Sprintf.
func Forbiddenf(format string, args ...any) error {
	return &Error{Kind: ErrForbidden, Message: fmt.Sprintf(format, args...)}
}

// Refusedf returns an ErrRefused error with a client-facing message built
// like fmt.Sprintf.
func Refusedf(format string, args ...any) error {
	return &Error{Kind: ErrRefused, Message: fmt.Sprintf(format, args...)}
}

// FieldError is input that breaks a rule at one place of the request: Loc
// is where ("body", then field names and list indices), Input the
// offending value (reported as it is: a nil pointer is null). It is an
// ErrInvalid.
type FieldError struct {
	Loc     []any
	Message string
	Input   any
}

func (e *FieldError) Error() string { return e.Message }

// Unwrap reports the kind, ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }
