package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/voucherwatch/voucherwatch"
)

// MaxBodyBytes bounds a request body; the workflow's bodies are a few hundred bytes.
const MaxBodyBytes = 1 << 20

// DecodeJSON reads one JSON object from the body into v, refusing unknown fields, and turns
// decoding errors into EINVALID errors that name the field where there is one.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			return voucherwatch.FieldErrorf("body", "want one JSON object, got more after it")
		}
		return nil
	}
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	var sizeErr *http.MaxBytesError
	switch {
	case errors.Is(err, io.EOF):
		return voucherwatch.FieldErrorf("body", "want a JSON object, got nothing")
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return voucherwatch.FieldErrorf(typeErr.Field, "want a JSON %s, got %s", jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
	case errors.As(err, &typeErr):
		return voucherwatch.FieldErrorf("body", "want a JSON object, got %s", typeErr.Value)
	case errors.As(err, &syntaxErr):
		return voucherwatch.FieldErrorf("body", "malformed JSON at byte %d", syntaxErr.Offset)
	case errors.As(err, &sizeErr):
		return voucherwatch.FieldErrorf("body", "larger than %d bytes", MaxBodyBytes)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return voucherwatch.FieldErrorf(name, "unknown field")
	}
	return voucherwatch.FieldErrorf("body", "malformed JSON: %v", err)
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "slice", "array":
		return "array"
	case "struct", "map":
		return "object"
	case "bool":
		return "boolean"
	}
	return "number"
}
