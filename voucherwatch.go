// Package voucherwatch holds the domain of the compute-voucher (算力券) monitoring engine:
// the records of the wire contract, alerts, and the small interfaces that the machinery at
// the edges (ingest, store, detectors, supervision) implements. It imports no transport or
// storage library.
package voucherwatch

import (
	"errors"
	"fmt"
	"time"
)

// Error codes shared by every layer. HTTP handlers map them to status codes.
const (
	ENOTFOUND  = "not_found"
	EINVALID   = "invalid"
	EFORBIDDEN = "forbidden"
	ECONFLICT  = "conflict"
	EUNAUTH    = "unauthorized"
	EINTERNAL  = "internal"
)

// Error is the one error type of the domain. Field names the offending input field, where there
// is one, as a dotted JSON path ("data.window_end").
type Error struct {
	Code    string
	Field   string
	Message string
}

// Error reports the field first, so that a dead-letter reason reads "data.cards: must be >= 1".
func (e *Error) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Message
	}
	return e.Message
}

// Errorf builds an *Error with a code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf builds an EINVALID *Error about one input field.
func FieldErrorf(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err, EINTERNAL for errors that are not an *Error, "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// CST is China Standard Time, the zone of every contract date.
var CST = time.FixedZone("CST", 8*3600)
