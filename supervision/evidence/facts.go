package evidence

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/voucherwatch/voucherwatch"
)

// labels are the Chinese names of the evidence keys the detectors write. A key missing here
// is shown as it is.
var labels = map[string]string{
	// An objection's case (detector objection).
	"round_id": "评审轮次", "channel": "受理渠道", "text": "异议内容",
	// Claims, invoices, settlements.
	"claim": "申报记录", "claim_id": "申报编号", "claim_ids": "涉及申报", "claims": "相关申报", "earlier_claim": "此前申报",
	"applicant_uscc": "申报单位代码", "round": "申报批次", "submitted_on": "提交日期", "contracts": "合同",
	"invoices": "发票", "usage_amount": "算力使用金额", "requested": "申请补贴金额", "record": "记录来源",
	"invoice": "发票", "invoice_code": "发票代码", "invoice_no": "发票号码", "invoice_date": "开票日期",
	"settlement": "结算记录", "settlement_id": "结算单号", "settlements": "结算记录", "first_settlement": "首次付款的结算",
	"contract": "合同", "contract_no": "合同编号", "contract_amount": "合同金额", "supplier_uscc": "供应商代码",
	"buyer_uscc": "需求方代码", "amount": "金额", "tax": "税额", "payment_ref": "支付凭证号", "paid_on": "付款日期",
	"payer_account": "付款账户", "payee_account": "收款账户", "claimed": "申报金额", "claimed_amount": "本申报列报金额",
	"earlier_claimed_amount": "此前申报列报金额", "claimed_amounts": "各次列报金额", "times_cited": "列报次数",
	"same_contracts": "合同相同", "same_amounts": "金额相同", "applicant_is_invoice_buyer": "申报单位为发票购买方",
	"reusing_invoices": "重复使用凭证的发票", "claims_on_contract": "该合同的申报", "one_transfer": "疑为一笔合并付款",
	"settled": "已结算", "settled_amount": "结算金额", "eligible": "可补贴金额", "subsidisable": "可补贴项目金额",
	"period": "服务期", "period_days": "服务天数", "days_in_window": "政策期内天数", "in_window": "政策期内金额",
	"reasons": "核减原因", "signed_on": "签订日期", "filed_on": "备案日期", "filing_days": "备案时限（天）",
	"filing_due": "备案截止日期", "days_after_signing": "签订后备案天数", "days_late": "逾期天数",
	"days_overdue": "逾期天数", "as_of": "截至", "via_platform": "经平台交易", "window": "政策期",
	"days_outside_window": "政策期外天数", "claimed_outside_window": "政策期外申报金额", "items": "明细",
	"service_type": "服务类型", "service_type_name": "服务类型", "service_types": "服务类型",
	"claimed_not_subsidisable": "不可补贴项目申报金额", "rate_percent": "补贴比例（%）", "rate_of_eligible": "按比例计算的补贴",
	"cap": "补贴上限", "max_subsidy": "最高可补贴", "over_by": "超出金额", "arithmetic": "计算过程",
	"reduced_invoices": "核减的发票", "total_requested": "申请补贴合计", "threshold": "门槛", "shortfall": "差额",
	"settled_compute": "已结算算力金额", "settled_contracts": "已结算合同", "settled_total": "结算合计",
	"contracted": "合同金额合计", "contracts_in_year": "年度合同", "suppliers": "供应商", "year": "年度",
	"stated_invoices_total": "申报所列发票合计", "invoices_settled": "已结算发票", "same_number_other_code": "同号码不同代码的发票",
	"other": "其他", "supplier_name": "供应商名称", "supplier_status": "供应商登记状态",
	"supplier_registered_on": "供应商登记日期", "supplier_registry_version": "供应商登记信息版本",
	"seller_purchases": "卖方的采购记录", "claimed_invoices": "申报的发票",
	// Metering and capacity.
	"metered_card_hours": "计量卡时", "billed_card_hours": "结算卡时", "billed_over_metered": "结算/计量比",
	"ratio_limit": "比值上限", "gap_card_hours": "差额卡时", "min_gap_card_hours": "最小差额卡时",
	"card_month_hours": "每卡月折合小时", "periods": "结算期", "periods_awaiting_metering": "待计量的结算期",
	"usage_windows": "计量窗口数", "registered_cards": "登记卡数", "peak_cards": "峰值卡数", "peak_at": "峰值时间",
	"first_above_capacity": "首次超出登记算力", "hours_above_capacity": "超出登记算力的小时数",
	"tenants_at_peak": "峰值时的租户", "resources": "资源", "cards": "卡数", "chip_model": "芯片型号",
	"chip_origin": "芯片来源", "resource_id": "资源编号", "tenancy": "本租户", "earlier_tenants": "同时计量的其他租户",
	"tenancy_start": "租用开始", "tenancy_end": "租用结束", "windows": "计量窗口数",
	"overlapping_window_pairs": "重叠窗口对数", "overlap_hours": "重叠小时数", "overlap_from": "重叠开始",
	"overlap_to": "重叠结束", "card_hours_in_overlap": "重叠期内卡时", "other_card_hours_in_overlap": "对方重叠期内卡时",
	"peak_cards_metered": "同时计量峰值卡数", "card_hours_sold_twice": "重复销售卡时", "more_cards_than_resource": "计量卡数超过资源卡数",
	// Resale.
	"reseller": "转售嫌疑方", "bought": "购入", "sold": "售出", "sold_total": "售出合计", "signals": "信号",
	"bought_of_the_kinds": "同类购入合计", "ratio": "售出/购入比", "ratio_basis": "比值口径",
	"sales_backed_by_own_capacity": "有自有算力支撑的销售", "logins_from_other_orgs": "其他单位登录",
	"kinds": "算力类型", "kind": "算力类型", "card_hours": "卡时", "tokens_million": "百万tokens",
	"settled_card_hours": "已结算卡时", "customer_uscc": "客户代码", "customer_name": "客户名称",
	"registered_supplier": "登记供应商", "of_windows": "计量窗口总数", "orgs": "登录单位", "is_customer": "为其客户",
	"summary": "概述", "counterparty": "交易对方", "invoice_claimed": "本发票列报金额", "uscc": "统一社会信用代码", "name": "名称", "start": "开始", "end": "结束",
	// Prices.
	"worst_item": "偏离最大的明细", "band": "市场区间", "ratio_to_median": "与中位价之比", "unit": "计价单位",
	"unit_price": "单价", "normalised": "折算单价", "normalised_unit": "折算单位", "source": "来源",
	"low": "区间下限", "median": "中位价", "high": "区间上限", "n": "样本数", "method": "估计方法", "of": "市场",
	// Related parties.
	"buyer": "需求方", "supplier": "供应商", "ties": "关联关系", "graph": "关系图", "integrated_ownership": "综合持股比例",
	"controllers": "实际控制人", "buyer_in_supplier": "需求方对供应商", "supplier_in_buyer": "供应商对需求方",
	"buyer_in_supplier_pct": "需求方持有供应商（%）", "supplier_in_buyer_pct": "供应商持有需求方（%）",
	"cross_holding": "相互持股", "controller": "实际控制人", "controller_name": "实际控制人名称", "holder": "持股方",
	"held": "被持股方", "integrated": "综合持股比例", "direct": "直接持股比例", "paths": "持股路径",
	"person": "人员", "masked_id": "证件号（已脱敏）", "buyer_roles": "在需求方的职务", "supplier_roles": "在供应商的职务",
	"account_no": "银行账号", "phone": "联系电话", "email": "电子邮箱", "address": "地址",
	"severity": "严重程度", "score": "评分", "facts": "事实",
	// Canonical forms and control groups (docs/canonical.md).
	"invoice_key": "发票规范号码", "cited_forms": "各记录中的发票写法", "earlier_round": "此前申报批次",
	"buyer_name": "购买方名称", "control_tie": "控制关系", "control_ties": "同一控制下的关联企业",
	"seller_uscc": "卖方代码", "seller_name": "卖方名称", "nodes": "节点", "edges": "关系",
	"pool": "估计所用样本", "own_samples": "本芯片样本数（不含本合同）", "class": "合并估计的同类芯片",
	"class_chips": "同类芯片种数", "leave_one_out": "不含本合同", "samples": "样本数",
	"event_time": "记录时间", "id": "记录编号",
}

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

// signalsZh names the resale detector's signals.
var signalsZh = map[string]string{
	"sells_same_kind_while_buying":                  "购入同时出售同类算力",
	"not_a_registered_supplier":                     "非登记算力供应商",
	"no_own_capacity_of_the_kind":                   "无该型号自有算力",
	"sells_most_of_what_it_buys":                    "售出量达购入量一半以上",
	"logins_from_other_orgs":                        "其他单位登录使用",
	"logins_from_its_own_customers":                 "其下游客户登录使用",
	"claimed_subsidy":                               "已申领补贴",
	"sold_through_a_company_under_the_same_control": "同一控制下的关联企业对外出售",
}

// severityZh names severities.
var severityZh = map[string]string{"high": "高", "medium": "中", "low": "低"}

func label(k string) string {
	if l, ok := labels[k]; ok {
		return l
	}
	return k
}

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

// asMap returns v as a JSON object, or nil.
func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// asMaps returns the objects of a JSON array.
func asMaps(v any) []map[string]any {
	list, _ := v.([]any)
	var out []map[string]any
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// str returns v as a string ("" when it is not one).
func str(v any) string {
	s, _ := v.(string)
	return s
}
