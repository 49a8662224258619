package locale

// factMessages are the Chinese names of the keys of an alert's evidence, as the web UI's tables
// of facts show them (fact.<key>), and of the resale detector's signals (resale.signal.<name>),
// kept apart from messages.go and merged into it when the package starts. A test in
// supervision/evidence runs the detectors on a province and fails on a key an alert carries
// that has no name here.
var factMessages = map[string]string{}

// factLabels are the evidence keys' names, by key.
var factLabels = map[string]string{
	// An objection's case (detector objection) and a complaint's (detector complaint).
	"round_id": "评审轮次", "channel": "受理渠道", "text": "异议内容", "receipt": "受理编号", "category": "投诉类别",
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
	// Real use: idle paid periods and cycles of purchases.
	"paid_from": "付费期开始", "paid_to": "付费期结束", "metered_days": "计量天数", "idle_days": "闲置天数",
	"longest_idle_days": "最长连续闲置天数", "idle_share": "闲置天数占比", "idle_share_limit": "闲置占比上限",
	"idle_utilisation": "闲置利用率阈值", "min_paid_days": "最短付费天数", "active_windows": "有作业或用户的计量窗口数",
	"used_card_hours": "实际利用卡时", "used_over_settled": "实际利用卡时/结算卡时", "utilisation": "利用率",
	"timeline": "逐日计量", "day": "日期", "active": "有作业或用户",
	"cycle_length": "循环企业数", "cycle_settled": "循环交易结算合计", "amount_ratio": "最小与最大结算金额之比",
	"payback_days": "首次付款相隔天数", "wash_amount_ratio": "金额之比门槛", "wash_payback_days": "付款相隔天数上限",
	"first_paid": "首次付款日期", "last_paid": "末次付款日期", "period_from": "服务期开始", "period_to": "服务期结束",
	"invoice_keys": "发票", "settlement_ids": "结算单号",
	// The idle layout's own rows.
	"paid_period": "付费服务期", "idle": "闲置天数",
	// Applicants' credit.
	"applicant_name": "申请企业名称", "registry_version": "登记信息版本", "seriously_dishonest": "列入严重违法失信名单",
	"major_violation_within_3y": "近三年有重大违法违规记录", "rounding_tolerance": "舍入容差",
	// The related-party graph's relations.
	"from": "起点", "to": "终点", "pct": "持股比例（%）", "role": "职务或联系方式", "value": "共用内容", "side": "所属一方",
}

// resaleSignalLabels name the resale detector's signals.
var resaleSignalLabels = map[string]string{
	"sells_same_kind_while_buying":                  "购入同时出售同类算力",
	"not_a_registered_supplier":                     "非登记算力供应商",
	"no_own_capacity_of_the_kind":                   "无该型号自有算力",
	"sells_most_of_what_it_buys":                    "售出量达购入量一半以上",
	"logins_from_other_orgs":                        "其他单位登录使用",
	"logins_from_its_own_customers":                 "其下游客户登录使用",
	"claimed_subsidy":                               "已申领补贴",
	"sold_through_a_company_under_the_same_control": "同一控制下的关联企业对外出售",
}

func init() {
	for k, v := range factLabels {
		factMessages["fact."+k] = v
	}
	for k, v := range resaleSignalLabels {
		factMessages["resale.signal."+k] = v
	}
	for k, v := range factMessages {
		if _, dup := messages[k]; dup {
			panic("supervision: message " + k + " defined twice")
		}
		messages[k] = v
	}
}

// FactLabel is the Chinese name of an evidence key; the key itself when the catalogue has none.
func FactLabel(key string) string {
	if m, ok := messages["fact."+key]; ok {
		return m
	}
	return key
}

// ResaleSignalLabel is the Chinese name of a resale signal; the signal itself when the
// catalogue has none.
func ResaleSignalLabel(signal string) string {
	if m, ok := messages["resale.signal."+signal]; ok {
		return m
	}
	return signal
}
