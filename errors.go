// Package tact holds the vocabulary every part of tact shares: application
// error codes, and the one place they map to HTTP status codes.
package tact

import (
	"errors"
	"fmt"
	"net/http"
)

// Application error codes.
const (
	EINVALID      = "invalid"      // the input is wrong; the message says how
	ENOTFOUND     = "not_found"    // the thing asked for does not exist
	ECONFLICT     = "conflict"     // the input clashes with what exists
	EUNAUTHORIZED = "unauthorized" // no or bad credential
	EFORBIDDEN    = "forbidden"    // the credential may not do this
	ETOOLARGE     = "too_large"    // the request is over its size limit
	ERATELIMITED  = "rate_limited" // slow down
	EUNAVAILABLE  = "unavailable"  // shutting down or not ready
	EINTERNAL     = "internal"     // our fault; the cause is logged, not shown
)

// Error is an error with a code and a message safe to show to the caller.
// The message must never contain personal data.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("tact error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the public message of err: the *Error's message, or a
// generic text for internal errors whose cause must not reach the caller.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// HTTPStatus is the HTTP status of an application error code (500 for
// EINTERNAL and unknown codes).
func HTTPStatus(code string) int {
	switch code {
	case EINVALID:
		return http.StatusBadRequest
	case ENOTFOUND:
		return http.StatusNotFound
	case ECONFLICT:
		return http.StatusConflict
	case EUNAUTHORIZED:
		return http.StatusUnauthorized
	case EFORBIDDEN:
		return http.StatusForbidden
	case ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case ERATELIMITED:
		return http.StatusTooManyRequests
	case EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
