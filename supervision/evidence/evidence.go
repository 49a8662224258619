// Package evidence lays out an alert's evidence for a reviewer: for related parties the
// ownership path as an SVG graph, for duplicates the records side by side, for prices the
// market band as a small plot, and for everything else the facts as a table.
//
// Evidence is JSON (voucherwatch.Evidence), the same whether a detector has just built it or
// the alert store read it back. A layout decodes it into the evidence type of its kind
// (voucherwatch.RelatedPartyEvidence, PriceEvidence, ...); the table of facts, the fallback of
// every layout, reads it as JSON values and names each key by the catalogue's label
// (fact.<key>). A shape a layout does not recognise falls back to the generic table; nothing
// in the evidence can make Render panic.
//
// Every text taken from the alert is escaped, and passes through mask first: an identity
// number that slipped into the evidence is shown masked, and mobile numbers are shown with
// their middle digits hidden (138****5678).
package evidence

import (
	"html/template"
	"reflect"
	"sort"
	"strings"

	"github.com/voucherwatch/voucherwatch"
)

// Render returns the evidence section of an alert page, in Chinese. It escapes everything it
// takes from the alert.
func Render(a voucherwatch.Alert) template.HTML {
	body := safely(func() string {
		if l := layouts[voucherwatch.EvidenceLayoutOf(a.Detector, a.Kind)]; l.draw != nil {
			return l.draw(a.Kind, a.Evidence)
		}
		return ""
	})
	if body == "" {
		if ev, ok := factsOf(a.Evidence); ok {
			body = safely(func() string { return factsSection("证据事实", ev) })
		}
	}
	if body == "" {
		body = `<p class="ev-empty">证据无法显示。</p>`
	}
	var b strings.Builder
	b.WriteString(`<section class="evidence evidence-`)
	b.WriteString(classOf(a.Detector))
	b.WriteString(`">`)
	b.WriteString(style)
	b.WriteString(body)
	b.WriteString(`</section>`)
	return template.HTML(b.String())
}

// layouts lay out the evidence of each voucherwatch.EvidenceLayout; EvidenceFacts is the
// fallback of every layout.
var layouts = map[voucherwatch.EvidenceLayout]layout{
	voucherwatch.EvidenceRelatedParty: typed(func(_ string, r voucherwatch.RelatedPartyEvidence, _ map[string]any) string {
		return relatedSection(r)
	}),
	voucherwatch.EvidenceDuplicateRecords: typed(duplicateSection),
	voucherwatch.EvidenceResale: typed(func(_ string, r voucherwatch.ResaleEvidence, ev map[string]any) string {
		return resaleSection(r, ev)
	}),
	voucherwatch.EvidencePrice: typed(func(_ string, p voucherwatch.PriceEvidence, _ map[string]any) string {
		return priceSection(p)
	}),
	voucherwatch.EvidenceIdleTimeline: typed(func(_ string, e voucherwatch.IdleEvidence, _ map[string]any) string {
		return idleSection(e)
	}),
	voucherwatch.EvidenceTradeCycle: typed(func(_ string, e voucherwatch.TradeCycleEvidence, _ map[string]any) string {
		return washSection(e)
	}),
	// The table of facts reads any evidence, key by key: Render draws it for every layout
	// that returns "".
	voucherwatch.EvidenceFacts: {decodes: reflect.TypeFor[voucherwatch.Evidence](), draw: func(string, voucherwatch.Evidence) string { return "" }},
}

// layout is how Render lays out one voucherwatch.EvidenceLayout: the evidence type it decodes
// (one of package voucherwatch's) and the drawing, "" when the evidence does not fit it.
type layout struct {
	decodes reflect.Type
	draw    func(kind string, ev voucherwatch.Evidence) string
}

// typed is the layout that decodes the evidence into T and draws it, with the evidence as
// JSON values beside it for the facts it shows under 其他事实.
func typed[T any](draw func(kind string, e T, facts map[string]any) string) layout {
	return layout{decodes: reflect.TypeFor[T](), draw: func(kind string, ev voucherwatch.Evidence) string {
		var e T
		if ev.Decode(&e) != nil {
			return ""
		}
		facts, ok := factsOf(ev)
		if !ok {
			return ""
		}
		return draw(kind, e, facts)
	}}
}

// Lays reports whether Render has a layout for l.
func Lays(l voucherwatch.EvidenceLayout) bool { return layouts[l].draw != nil }

// Decodes is the evidence type Render decodes for layout l: RelatedPartyEvidence for
// EvidenceRelatedParty, ..., and voucherwatch.Evidence itself for EvidenceFacts, whose table
// reads any evidence key by key; nil when Render has no layout for l.
func Decodes(l voucherwatch.EvidenceLayout) reflect.Type { return layouts[l].decodes }

// safely runs a layout; a panic on an unexpected shape yields "", so the caller falls back.
func safely(layout func() string) (out string) {
	defer func() {
		if recover() != nil {
			out = ""
		}
	}()
	return layout()
}

// factsOf reads evidence as JSON values (float64, []any, map[string]any) for the table of
// facts and the layouts that walk it; false when it does not decode (evidence whose values
// did not encode, or not an object).
func factsOf(ev voucherwatch.Evidence) (map[string]any, bool) {
	out := map[string]any{}
	if err := ev.Decode(&out); err != nil {
		return nil, false
	}
	if out == nil {
		out = map[string]any{}
	}
	return out, true
}

// classOf makes a detector name safe as part of a class name.
func classOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r + 'a' - 'A')
		}
	}
	if b.Len() == 0 {
		return "unknown"
	}
	return b.String()
}

// esc masks and escapes a text for HTML and for SVG (XML): HTMLEscapeString writes only
// entities XML knows (&lt; &gt; &amp; &#39; &#34;).
func esc(s string) string { return template.HTMLEscapeString(mask(s)) }

// sortedKeys returns the keys of m in the order of keyOrder, then alphabetically.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		oi, oj := keyRank(keys[i]), keyRank(keys[j])
		if oi != oj {
			return oi < oj
		}
		return keys[i] < keys[j]
	})
	return keys
}

func keyRank(k string) int {
	if i, ok := keyOrderIndex[k]; ok {
		return i
	}
	return len(keyOrder)
}

var keyOrderIndex = func() map[string]int {
	m := make(map[string]int, len(keyOrder))
	for i, k := range keyOrder {
		if _, dup := m[k]; !dup {
			m[k] = i
		}
	}
	return m
}()

// style is scoped under .evidence: the page's own CSS belongs to the web UI.
const style = `<style>
.evidence{font-family:"PingFang SC","Microsoft YaHei","Noto Sans CJK SC","Source Han Sans SC",sans-serif;font-size:14px;color:#1f2d3d;line-height:1.6}
.evidence h3{font-size:15px;margin:18px 0 8px;padding-left:8px;border-left:4px solid #b3261e;color:#1f2d3d}
.evidence h4{font-size:14px;margin:12px 0 6px;color:#34495e}
.evidence .ev-note{color:#5c6b7a;font-size:13px;margin:4px 0 8px}
.evidence .ev-empty{color:#8a96a3}
.evidence table.ev-table{border-collapse:collapse;width:100%;margin:6px 0 12px;background:#fff}
.evidence .ev-table th,.evidence .ev-table td{border:1px solid #d5dce4;padding:5px 9px;text-align:left;vertical-align:top}
.evidence .ev-table thead th{background:#eef2f7;font-weight:600;color:#2c3e50}
.evidence .ev-table th.ev-key{background:#f6f8fb;font-weight:normal;color:#4a5968;width:11em;white-space:nowrap}
.evidence .ev-table td.ev-num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.evidence .ev-table table.ev-table{margin:0}
.evidence tr.ev-same td,.evidence tr.ev-same th.ev-key{background:#fff4d6}
.evidence tr.ev-partly td,.evidence tr.ev-partly th.ev-key{background:#fffbeb}
.evidence tr.ev-partly .ev-tag{background:#fde7a6}
.evidence .ev-tag{display:inline-block;font-size:12px;line-height:18px;padding:0 6px;margin-left:6px;border-radius:3px;background:#f5c342;color:#5a3d00;white-space:nowrap}
.evidence .ev-ties td:nth-child(2),.evidence .ev-ties th:nth-child(2){white-space:nowrap}
.evidence .ev-sev-high{color:#b3261e;font-weight:600}
.evidence .ev-sev-medium{color:#b26a00;font-weight:600}
.evidence .ev-sev-low{color:#4a5968}
.evidence .ev-figure{border:1px solid #d5dce4;background:#fbfcfe;padding:8px;margin:6px 0 12px;overflow-x:auto}
.evidence .ev-figure svg{display:block;max-width:100%;height:auto}
.evidence ul.ev-list{margin:4px 0 10px;padding-left:20px}
</style>`
