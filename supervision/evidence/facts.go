package evidence

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
)

// keyOrder puts the keys a reviewer reads first at the top of a table.
var keyOrder = []string{
	"summary", "counterparty", "claim_id", "claim", "applicant_uscc", "buyer_uscc", "customer_uscc", "customer_name", "supplier_uscc",
	"supplier_name", "uscc", "name", "contract_no", "contracts", "settlement_id", "invoice", "invoice_code", "invoice_no",
	"invoice_date", "invoice_claimed", "round", "submitted_on", "signed_on", "filed_on", "period", "start", "end", "kinds", "kind",
	"chip_model", "chip_origin", "service_type", "cards", "unit", "unit_price", "normalised", "amount", "tax",
	"usage_amount", "requested", "claimed", "eligible", "settled", "settled_amount", "payment_ref", "paid_on",
	"payer_account", "payee_account", "card_hours", "tokens_million",
}

// moneyKeys hold yuan amounts (decimal strings from the detectors), shown as ¥1,234.56.
var moneyKeys = map[string]bool{
	"amount": true, "tax": true, "usage_amount": true, "requested": true, "claimed": true, "claimed_amount": true,
	"earlier_claimed_amount": true, "claimed_amounts": true, "settled_amount": true, "eligible": true,
	"subsidisable": true, "in_window": true, "contract_amount": true, "claimed_outside_window": true,
	"claimed_not_subsidisable": true, "rate_of_eligible": true, "cap": true, "max_subsidy": true, "over_by": true,
	"total_requested": true, "threshold": true, "shortfall": true, "settled_compute": true, "settled_total": true,
	"contracted": true, "stated_invoices_total": true, "unit_price": true, "invoice_claimed": true, "settled": true, "settled_amount_total": true,
}

// plainNumberKeys hold numbers that are names rather than quantities: no thousands separators.
var plainNumberKeys = map[string]bool{"round": true, "year": true}

// boolWords says yes or no.
var boolWords = map[bool]string{true: "是", false: "否"}

// label is the Chinese name of an evidence key, from the catalogue (fact.<key>).
func label(k string) string { return locale.FactLabel(k) }

// scalar formats a JSON-decoded scalar (or a short list of them) for a table cell, as text
// (not escaped). ok is false for maps and lists of maps.
func scalar(key string, v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "—", true
	case string:
		if x == "" {
			return "—", true
		}
		if moneyKeys[key] {
			if f, err := strconv.ParseFloat(x, 64); err == nil {
				return yuanText(f), true
			}
		}
		return x, true
	case bool:
		return boolWords[x], true
	case float64:
		switch {
		case moneyKeys[key]:
			return yuanText(x), true
		case plainNumberKeys[key]:
			return strconv.FormatFloat(x, 'f', -1, 64), true
		}
		return number(x), true
	case json.Number:
		return x.String(), true
	case []any:
		if len(x) == 0 {
			return "—", true
		}
		parts := make([]string, 0, len(x))
		for i, e := range x {
			if i == 30 {
				parts = append(parts, "等共 "+strconv.Itoa(len(x))+" 项")
				break
			}
			s, ok := scalar(key, e)
			if !ok {
				return "", false
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, "、"), true
	case map[string]any:
		if len(x) == 0 {
			return "—", true
		}
		// A period {start, end} reads as one value.
		if s, ok := x["start"].(string); ok && len(x) <= 2 {
			e, _ := x["end"].(string)
			return s + " 至 " + e, true
		}
		return "", false
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "（无法显示）", true
	}
	return string(b), true
}

// number writes a float without noise: 3, 2.5, 0.8123.
func number(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "—"
	}
	if math.Abs(f) >= 1e15 {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	whole, frac, _ := strings.Cut(strconv.FormatFloat(voucherwatch.RoundTo(f, 4), 'f', -1, 64), ".")
	if frac != "" {
		frac = "." + frac
	}
	return groupThousands(whole) + frac
}

// yuanText formats an amount of yuan as ¥12,345.67.
func yuanText(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "—"
	}
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	s := strconv.FormatFloat(f, 'f', 2, 64)
	whole, frac, _ := strings.Cut(s, ".")
	return sign + "¥" + groupThousands(whole) + "." + frac
}

func groupThousands(digits string) string {
	neg := strings.HasPrefix(digits, "-")
	if neg {
		digits = digits[1:]
	}
	var b strings.Builder
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// factsSection is the generic layout: a heading and a key/value table of every fact.
func factsSection(title string, ev map[string]any) string {
	var b strings.Builder
	b.WriteString("<h3>" + esc(title) + "</h3>")
	if len(ev) == 0 {
		b.WriteString(`<p class="ev-empty">无证据事实。</p>`)
		return b.String()
	}
	writeFacts(&b, ev, sortedKeys(ev), 0)
	return b.String()
}

// writeFacts writes a key/value table of the keys of m.
func writeFacts(b *strings.Builder, m map[string]any, keys []string, depth int) {
	b.WriteString(`<table class="ev-table ev-facts"><tbody>`)
	for _, k := range keys {
		v, ok := m[k]
		if !ok {
			continue
		}
		b.WriteString(`<tr><th class="ev-key" scope="row">` + esc(label(k)) + `</th><td>`)
		writeValue(b, k, v, depth+1)
		b.WriteString("</td></tr>")
	}
	b.WriteString("</tbody></table>")
}

// writeValue writes one value: a scalar as text, a map as a nested table, a list of maps as a
// table with a column per key.
func writeValue(b *strings.Builder, key string, v any, depth int) {
	if s, ok := scalar(key, v); ok {
		b.WriteString(esc(s))
		return
	}
	if depth > 4 {
		j, _ := json.Marshal(v)
		b.WriteString(esc(string(j)))
		return
	}
	switch x := v.(type) {
	case map[string]any:
		writeFacts(b, x, sortedKeys(x), depth)
	case []any:
		writeRecords(b, x, depth)
	}
}

// writeRecords writes a list whose elements are maps (or a mix) as a table, one row each.
func writeRecords(b *strings.Builder, list []any, depth int) {
	cols := map[string]any{}
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			for k := range m {
				cols[k] = nil
			}
		}
	}
	keys := sortedKeys(cols)
	// Records of many fields read better one below the other than as a table too wide.
	if len(keys) > 6 {
		for i, e := range list {
			b.WriteString(`<p class="ev-note">第 ` + strconv.Itoa(i+1) + ` 项</p>`)
			if m, ok := e.(map[string]any); ok {
				writeFacts(b, m, sortedKeys(m), depth)
			} else {
				writeValue(b, "", e, depth+1)
			}
		}
		return
	}
	b.WriteString(`<table class="ev-table ev-records"><thead><tr>`)
	if len(keys) == 0 {
		b.WriteString("<th>值</th>")
	}
	for _, k := range keys {
		b.WriteString("<th>" + esc(label(k)) + "</th>")
	}
	b.WriteString("</tr></thead><tbody>")
	for _, e := range list {
		b.WriteString("<tr>")
		m, ok := e.(map[string]any)
		if !ok {
			b.WriteString(`<td colspan="` + strconv.Itoa(max(1, len(keys))) + `">`)
			writeValue(b, "", e, depth+1)
			b.WriteString("</td></tr>")
			continue
		}
		for _, k := range keys {
			b.WriteString("<td>")
			if v, ok := m[k]; ok {
				writeValue(b, k, v, depth+1)
			}
			b.WriteString("</td>")
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</tbody></table>")
}

// without returns m without the given keys, for a facts table of what a layout did not show.
func without(m map[string]any, keys ...string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

// column is one record of a side-by-side table.
type column struct {
	title  string
	fields map[string]any
}

// sideBySide writes records as columns of one table, a row per field. A row whose value is
// the same in two or more records and differs in none is highlighted as 相同, a row of lists
// that share an element as 部分相同; compare says which keys are worth comparing (nil: all).
// Zeros and blanks never count as coinciding.
func sideBySide(b *strings.Builder, cols []column, compare func(key string) bool) {
	union := map[string]any{}
	for _, c := range cols {
		for k := range c.fields {
			union[k] = nil
		}
	}
	keys := sortedKeys(union)
	b.WriteString(`<table class="ev-table ev-side"><thead><tr><th>项目</th>`)
	for _, c := range cols {
		b.WriteString(`<th scope="col">` + esc(c.title) + "</th>")
	}
	b.WriteString("</tr></thead><tbody>")
	for _, k := range keys {
		cells := make([]string, len(cols))
		var present []string
		elems := map[string]int{} // how many columns hold each list element
		for i, c := range cols {
			v, ok := c.fields[k]
			if !ok {
				cells[i] = "—"
				continue
			}
			var cb strings.Builder
			writeValue(&cb, k, v, 3)
			cells[i] = cb.String()
			if s, ok := scalar(k, v); ok && s != "—" && s != "0" && s != "¥0.00" {
				present = append(present, s)
			}
			if list, ok := v.([]any); ok {
				seen := map[string]bool{}
				for _, e := range list {
					if s, ok := scalar(k, e); ok && !seen[s] {
						seen[s] = true
						elems[s]++
					}
				}
			}
		}
		worth := len(cols) > 1 && (compare == nil || compare(k))
		same := worth && len(present) >= 2
		for _, s := range present {
			same = same && s == present[0]
		}
		partly := false
		for _, n := range elems {
			partly = partly || (worth && n >= 2)
		}
		switch {
		case same:
			b.WriteString(`<tr class="ev-same"><th class="ev-key" scope="row">` + esc(label(k)) + `<span class="ev-tag">相同</span></th>`)
		case partly:
			b.WriteString(`<tr class="ev-partly"><th class="ev-key" scope="row">` + esc(label(k)) + `<span class="ev-tag">部分相同</span></th>`)
		default:
			b.WriteString(`<tr><th class="ev-key" scope="row">` + esc(label(k)) + "</th>")
		}
		for _, c := range cells {
			b.WriteString("<td>" + c + "</td>")
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</tbody></table>")
}

// str returns v as a string ("" when it is not one).
func str(v any) string {
	s, _ := v.(string)
	return s
}
