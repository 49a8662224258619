package ui

import (
	"github.com/voucherwatch/voucherwatch/supervision/export"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
)

// The supplier register's part of the web UI's templates, added here so that the register lives
// in its own files (ui.go holds the rest; its text is in package locale).
func init() {
	uiPages = append(uiPages, "public_register", "public_register_supplier")
	uiFuncs["percent"] = export.Percent
	uiFuncs["priceRatio"] = export.PriceRatio
	uiFuncs["capacity"] = export.CapacityText
	uiFuncs["bandLabel"] = func(p string) string { return locale.T("register.band." + p) }
}
