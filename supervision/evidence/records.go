package evidence

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
)

// duplicateSection lays out a duplicate_claim alert: the records that repeat one another side
// by side, the fields they share highlighted, then the remaining facts.
func duplicateSection(kind string, d voucherwatch.DuplicateEvidence, ev map[string]any) string {
	var b strings.Builder
	var shown []string
	switch kind {
	case "claim_resubmitted", "invoice_in_two_claims":
		claim, earlier := record(d.Claim), record(d.EarlierClaim)
		if claim == nil || earlier == nil {
			return ""
		}
		// The amount each claim lists for the invoice belongs in its column.
		claim, earlier = without(claim), without(earlier)
		if v, ok := jsonValue(d.ClaimedAmount); ok {
			claim["invoice_claimed"] = v
		}
		if v, ok := jsonValue(d.EarlierClaimedAmount); ok {
			earlier["invoice_claimed"] = v
		}
		b.WriteString("<h3>申报对照</h3>")
		if d.Invoice != nil {
			b.WriteString(`<p class="ev-note">所涉发票：` + esc(invoiceText(*d.Invoice)) + "</p>")
		}
		sideBySide(&b, []column{{"此前申报 " + str(earlier["claim_id"]), earlier}, {"本申报 " + str(claim["claim_id"]), claim}}, notCounts)
		shown = []string{"claim", "earlier_claim", "claimed_amount", "earlier_claimed_amount", "invoice"}
		if s := record(d.Settlement); s != nil {
			b.WriteString("<h3>发票的结算记录</h3>")
			writeFacts(&b, s, sortedKeys(s), 0)
			shown = append(shown, "settlement")
		}
	case "payment_ref_shared":
		settlements := records(d.Settlements)
		if len(settlements) == 0 {
			return ""
		}
		b.WriteString("<h3>同一支付凭证对应的结算记录</h3>")
		b.WriteString(`<p class="ev-note">支付凭证号：` + esc(d.PaymentRef) + "</p>")
		var cols []column
		for i, s := range settlements {
			title := "结算 " + str(s["settlement_id"])
			if i == 0 {
				title = "首次付款：" + str(s["settlement_id"])
			}
			cols = append(cols, column{title, s})
		}
		sideBySide(&b, cols, notCounts)
		shown = []string{"settlements", "first_settlement", "payment_ref"}
	case "resource_two_tenants_overlap":
		tenancy := record(d.Tenancy)
		others := records(d.EarlierTenants)
		if tenancy == nil || len(others) == 0 {
			return ""
		}
		b.WriteString("<h3>同一资源的租户对照</h3>")
		b.WriteString(`<p class="ev-note">供应商 ` + esc(d.SupplierUSCC) + "，资源 " + esc(d.ResourceID) + "</p>")
		cols := []column{{"本租户 " + str(tenancy["buyer_uscc"]), tenancy}}
		for _, o := range others {
			cols = append(cols, column{"同时计量的租户 " + str(o["buyer_uscc"]), o})
		}
		sideBySide(&b, cols, notCounts)
		shown = []string{"tenancy", "earlier_tenants", "supplier_uscc", "resource_id"}
	case "invoice_of_another_buyer", "settlement_not_to_contract_buyer", "contract_of_another_buyer":
		claim := record(d.Claim)
		other := record(d.Settlement)
		title := "他人的结算记录"
		if other == nil {
			other, title = record(d.Contract), "他人的合同"
		}
		if claim == nil || other == nil {
			return ""
		}
		b.WriteString("<h3>申报与他人的采购</h3>")
		sideBySide(&b, []column{{"本申报 " + str(claim["claim_id"]), without(claim)}, {title, other}}, notCounts)
		shown = []string{"claim", "settlement", "contract"}
		if tie := d.ControlTie; tie != nil {
			b.WriteString(`<h3>控制关系</h3><p class="ev-note">` + esc(tie.Summary) + "</p>")
			shown = append(shown, "control_tie")
		}
	case "invoice_repeated_in_claim":
		claim := record(d.Claim)
		amounts := d.ClaimedAmounts
		if claim == nil || len(amounts) == 0 {
			return ""
		}
		b.WriteString("<h3>同一申报中的重复列报</h3>")
		var inv voucherwatch.EvidenceInvoice
		if d.Invoice != nil {
			inv = *d.Invoice
			b.WriteString(`<p class="ev-note">所涉发票：` + esc(invoiceText(inv)) + "</p>")
		}
		var cols []column
		for i, raw := range amounts {
			a, _ := jsonValue(raw)
			cols = append(cols, column{"第 " + strconv.Itoa(i+1) + " 次列报", map[string]any{"claim_id": claim["claim_id"], "invoice": invoiceText(inv), "invoice_claimed": a}})
		}
		sideBySide(&b, cols, nil)
		b.WriteString("<h3>申报</h3>")
		writeFacts(&b, claim, sortedKeys(claim), 0)
		shown = []string{"claim", "claimed_amounts", "invoice"}
	default:
		return ""
	}
	if rest := without(ev, shown...); len(rest) > 0 {
		b.WriteString("<h3>其他事实</h3>")
		writeFacts(&b, rest, sortedKeys(rest), 0)
	}
	return b.String()
}

// notCounts leaves counts and record references out of the comparison of duplicates: two
// claims citing five invoices each are not alike for it.
func notCounts(k string) bool {
	switch k {
	case "invoices", "windows", "record", "claim_id", "settlement_id", "overlapping_window_pairs":
		return false
	}
	return true
}

func invoiceText(inv voucherwatch.EvidenceInvoice) string {
	code, no := inv.InvoiceCode, inv.InvoiceNo
	if code == "" {
		return "号码 " + no
	}
	return "代码 " + code + " 号码 " + no
}

// resaleSection lays out a resale alert: what the reseller bought beside what it sold, the
// kinds both share highlighted; its signals; logins from other organisations.
func resaleSection(r voucherwatch.ResaleEvidence, ev map[string]any) string {
	bought := record(r.Bought)
	if bought == nil {
		return ""
	}
	var b strings.Builder
	if r := record(r.Reseller); r != nil {
		b.WriteString("<h3>转售嫌疑方</h3>")
		writeFacts(&b, r, sortedKeys(r), 0)
	}
	if len(r.Signals) > 0 {
		b.WriteString(`<h3>信号</h3><ul class="ev-list">`)
		for _, s := range r.Signals {
			t := locale.ResaleSignalLabel(s)
			b.WriteString("<li>" + esc(t) + "</li>")
		}
		b.WriteString("</ul>")
	}
	b.WriteString("<h3>购入与售出对照</h3>")
	cols := []column{{"购入：" + str(bought["contract_no"]), resaleRow(bought, "supplier")}}
	for _, s := range records(r.Sold) {
		cols = append(cols, column{"售出：" + str(s["contract_no"]), resaleRow(s, "customer")})
	}
	if len(cols) == 1 {
		b.WriteString(`<p class="ev-note">未发现同期售出的合同。</p>`)
	}
	// What was sold is compared with what was bought by its kind; quantities differ anyway.
	sideBySide(&b, cols, func(k string) bool { return k == "kind" })
	shown := []string{"reseller", "signals", "bought", "sold", "summary"}
	if l := r.Logins; l != nil {
		b.WriteString("<h3>其他单位登录</h3>")
		b.WriteString(`<p class="ev-note">` + esc(number(l.Windows)) + " / " + esc(number(l.OfWindows)) +
			" 个计量窗口中有其他单位登录，涉及 " + esc(number(l.CardHours)) + " 卡时</p>")
		if l.Orgs != nil {
			orgs := make([]any, 0, len(l.Orgs))
			for _, o := range records(l.Orgs) {
				orgs = append(orgs, o)
			}
			writeRecords(&b, orgs, 1)
		}
		shown = append(shown, "logins_from_other_orgs")
	}
	if rest := without(ev, shown...); len(rest) > 0 {
		b.WriteString("<h3>其他事实</h3>")
		writeFacts(&b, rest, sortedKeys(rest), 0)
	}
	return b.String()
}

// resaleRow maps a bought or sold record onto the rows both share: the counterparty, the
// kinds of compute, the period, the quantities and amounts.
func resaleRow(m map[string]any, side string) map[string]any {
	out := map[string]any{}
	name, uscc := str(m[side+"_name"]), str(m[side+"_uscc"])
	switch {
	case name != "" && name != uscc:
		out["counterparty"] = name + "（" + uscc + "）"
	default:
		out["counterparty"] = uscc
	}
	for _, k := range []string{"contract_no", "period", "card_hours", "tokens_million", "amount", "settled_amount",
		"settled_card_hours", "metered_card_hours", "usage_windows", "invoices", "claims"} {
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	if v, ok := m["kinds"]; ok {
		out["kind"] = v
	} else if v, ok := m["kind"]; ok {
		out["kind"] = v
	}
	return out
}

// record is one record of the evidence as JSON values; nil when there is none.
func record(e voucherwatch.Evidence) map[string]any {
	if e.Empty() {
		return nil
	}
	m, _ := factsOf(e)
	return m
}

// records are the records of a list, those that have facts.
func records(list []voucherwatch.Evidence) []map[string]any {
	var out []map[string]any
	for _, e := range list {
		if m := record(e); m != nil {
			out = append(out, m)
		}
	}
	return out
}

// jsonValue is one JSON value as a JSON value (float64, string, ...); false when absent.
func jsonValue(raw json.RawMessage) (any, bool) {
	var v any
	if len(raw) == 0 || json.Unmarshal(raw, &v) != nil {
		return nil, false
	}
	return v, true
}
