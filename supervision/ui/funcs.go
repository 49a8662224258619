package ui

import (
	"fmt"
	"html/template"
	"strconv"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
)

// funcs are the template functions every page has; Parse adds the page's own after them. None
// of them returns template.HTML: everything a page shows is escaped, but for the evidence
// section, which evidence.Render escapes itself.
var funcs = template.FuncMap{
	"t":            locale.T,
	"statusLabel":  locale.StatusLabel,
	"roleLabel":    locale.RoleLabel,
	"sevLabel":     locale.SeverityLabel,
	"detLabel":     locale.DetectorLabel,
	"officerLabel": locale.OfficerLabel,
	"cityName":     voucherwatch.CityName,
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.In(voucherwatch.CST).Format("2006-01-02 15:04")
	},
	"day": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.In(voucherwatch.CST).Format(time.DateOnly)
	},
	"yuan":       FormatYuan,
	"money":      func(y voucherwatch.Yuan) voucherwatch.Money { return voucherwatch.Money(y) },
	"maskPhone":  voucherwatch.MaskPhone,
	"maskEmail":  voucherwatch.MaskEmail,
	"maskAcct":   voucherwatch.MaskAccount,
	"maskText":   voucherwatch.MaskText,
	"pct":        func(v float64) string { return fmt.Sprintf("%.2f%%", v) },
	"ratio":      func(v float64) string { return fmt.Sprintf("%.0f%%", v*100) },
	"num":        func(v float64) string { return fmt.Sprintf("%.1f", v) },
	"score":      func(v float64) string { return fmt.Sprintf("%.2f", v) },
	"originName": func(o string) string { return locale.T("origin." + o) },

	// The spot-check pages' labels.
	"outcomeLabel": func(o any) string { return locale.T("spotcheck.outcome." + fmt.Sprint(o)) },
	"drawnBy":      func(s string) string { return locale.T("spotcheck.drawn_by." + s) },
	"trigger":      func(s string) string { return locale.T("spotcheck.trigger." + s) },
	// share writes a fraction as a percentage with the digits it needs: 0.05 is 5%, 0.025 2.5%.
	"share": func(v float64) string { return strconv.FormatFloat(v*100, 'g', 6, 64) + "%" },
}
