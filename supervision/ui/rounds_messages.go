package ui

import (
	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
)

// roundObjectionMessage says in Chinese why an objection was refused.
func roundObjectionMessage(err error) string {
	switch {
	case voucherwatch.ErrorCode(err) == voucherwatch.ECONFLICT:
		return locale.T("round.objection.error.closed")
	case fieldOf(err) == "text":
		return locale.T("round.objection.error.text")
	case fieldOf(err) == "contact":
		return locale.T("round.objection.error.contact")
	case fieldOf(err) == "claim_id":
		return locale.T("round.objection.error.claim_id")
	}
	return uiErrorMessage(err)
}
