package ui

import (
	"errors"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
)

// uiErrorMessage says in Chinese why a request was refused: by the field at fault where the
// catalogue has a message for it, else by the error's code.
func uiErrorMessage(err error) string {
	var e *voucherwatch.Error
	if errors.As(err, &e) && e.Field != "" {
		if m, ok := locale.Lookup("error.field." + e.Field); ok {
			return m
		}
	}
	code := voucherwatch.ErrorCode(err)
	if m, ok := locale.Lookup("error." + code); ok && code != voucherwatch.EUNAUTH {
		return m
	}
	return locale.T("error.internal")
}
