package workflow

import (
	"crypto/rand"
	"encoding/hex"

	"github.com/voucherwatch/voucherwatch"
)

// MayDraw reports whether a role may draw spot checks, manage the inspector pool, open and
// run rounds and make register editions: the province's (administrator and reviewer).
func MayDraw(r voucherwatch.Role) bool {
	return r == voucherwatch.RoleProvinceAdmin || r == voucherwatch.RoleProvinceReviewer
}

// MayAudit reports whether a role may read the inputs of a draw, an edition or a round's
// exports: they hold every city's data, so the province and auditors only.
func MayAudit(r voucherwatch.Role) bool { return r.MayExport() }

// MayRecordResult reports whether u may record the result of inspecting an item of city: the
// province, or the city reviewer of that city. The API and the web UI (which offers the form
// only where it can succeed) both ask it.
func MayRecordResult(u voucherwatch.User, city string) bool {
	if !u.Role.MayAct() {
		return false
	}
	scope := CityScope(u)
	return scope == "" || scope == city
}

// RandomHex is n random bytes in hex, for ids and tokens.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
