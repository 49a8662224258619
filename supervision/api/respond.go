package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/voucherwatch/voucherwatch"
)

// WriteJSON answers v as JSON with status, HTML characters left as they are.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	body, _ := encodeJSON(v)
	writeJSONBody(w, status, body)
}

// encodeJSON is v as WriteJSON writes it.
func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// writeJSONBody answers body, encoded by encodeJSON.
func writeJSONBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// statusOf is the HTTP status of each error code.
var statusOf = map[string]int{
	voucherwatch.ENOTFOUND:  http.StatusNotFound,
	voucherwatch.EINVALID:   http.StatusBadRequest,
	voucherwatch.EFORBIDDEN: http.StatusForbidden,
	voucherwatch.ECONFLICT:  http.StatusConflict,
	voucherwatch.EUNAUTH:    http.StatusUnauthorized,
}

// WriteError answers {"error": {"code", "message", "field"?}} with the status of the code.
// Internal errors are not shown to the caller beyond a generic message.
func WriteError(w http.ResponseWriter, err error) {
	code := voucherwatch.ErrorCode(err)
	status, ok := statusOf[code]
	msg := err.Error()
	var field string
	var e *voucherwatch.Error
	if errors.As(err, &e) {
		msg, field = e.Message, e.Field
	}
	if !ok {
		status, msg = http.StatusInternalServerError, "internal error"
	}
	body := map[string]string{"code": code, "message": msg}
	if field != "" {
		body["field"] = field
	}
	WriteJSON(w, status, map[string]any{"error": body})
}

// Status is the HTTP status of an error code, and whether the code has one (internal errors
// have none: they are 500s).
func Status(code string) (int, bool) {
	st, ok := statusOf[code]
	return st, ok
}
