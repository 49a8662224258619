package ui

import (
	"errors"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
)

// complaintErrorMessage says in Chinese what is wrong with a complaint form.
func complaintErrorMessage(err error) string {
	if f := fieldOf(err); f != "" {
		if m, ok := locale.Lookup("complaint.error." + f); ok {
			return m
		}
	}
	return uiErrorMessage(err)
}

// fieldOf is the field an EINVALID error names, "" for none.
func fieldOf(err error) string {
	var e *voucherwatch.Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}
