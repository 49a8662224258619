package voucherwatch

// This file is the one place a kind of alert is declared to the rest of the engine: its Chinese
// label and how its evidence is laid out for a reviewer. Detectors list the kinds they emit
// (Kinds); the web UI's catalogue takes the labels in (as kind.<detector>.<kind>) and its
// evidence section picks the layout from here. Adding a kind is one line in alertKinds; a test
// in cmd/voucherwatch fails for a kind a detector lists that has no line here.

// EvidenceLayout is how the web UI lays out an alert's evidence.
type EvidenceLayout string

// The evidence layouts the web UI knows.
const (
	// EvidenceRelatedParty draws the ownership and officer graph of RelatedPartyEvidence and
	// lists its ties.
	EvidenceRelatedParty EvidenceLayout = "related_party"
	// EvidenceDuplicateRecords sets the records that repeat each other side by side.
	EvidenceDuplicateRecords EvidenceLayout = "duplicate_records"
	// EvidenceResale tables what was bought, what was sold and who logged in.
	EvidenceResale EvidenceLayout = "resale"
	// EvidencePrice plots the unit prices of PriceEvidence against the market band.
	EvidencePrice EvidenceLayout = "price"
	// EvidenceIdleTimeline draws IdleEvidence's paid period against the daily utilisation.
	EvidenceIdleTimeline EvidenceLayout = "idle_timeline"
	// EvidenceTradeCycle draws TradeCycleEvidence's cycle of purchases as a graph.
	EvidenceTradeCycle EvidenceLayout = "trade_cycle"
	// EvidenceFacts shows the evidence's facts as a table, each key by its Chinese label.
	EvidenceFacts EvidenceLayout = "facts"
)

// AlertKind is one kind of finding a detector may emit.
type AlertKind struct {
	Detector string
	Kind     string
	Label    string // Chinese, as supervisors read it
	Evidence EvidenceLayout
}

// Kinds is implemented by every detector the engine runs: the kinds its alerts may carry, each
// of which has its line in AlertKinds.
type Kinds interface {
	Kinds() []string
}

// alertKinds are every kind of alert, by detector. The labels of related_party's kinds also
// name the tie in the alert's title; those of complaint are the complaint categories.
var alertKinds = []AlertKind{
	{DetectorDuplicateClaim, "invoice_in_two_claims", "同一发票被两个申报重复使用", EvidenceDuplicateRecords},
	{DetectorDuplicateClaim, "invoice_repeated_in_claim", "同一发票在一份申报中重复列报", EvidenceDuplicateRecords},
	{DetectorDuplicateClaim, "claim_resubmitted", "同一申报更换编号重复提交", EvidenceDuplicateRecords},
	{DetectorDuplicateClaim, "payment_ref_shared", "支付凭证重复使用", EvidenceDuplicateRecords},
	{DetectorDuplicateClaim, "resource_two_tenants_overlap", "同一算力资源同时计量给两个用户", EvidenceDuplicateRecords},
	{DetectorDuplicateClaim, "invoice_of_another_buyer", "申报引用其他单位购买的发票", EvidenceDuplicateRecords},
	{DetectorDuplicateClaim, "settlement_not_to_contract_buyer", "申报发票所属合同的购买方为其他单位", EvidenceDuplicateRecords},
	{DetectorDuplicateClaim, "contract_of_another_buyer", "申报引用其他单位的采购合同", EvidenceDuplicateRecords},

	{DetectorResale, "resale_to_other_orgs", "转售所购算力且由其他单位登录使用", EvidenceResale},
	{DetectorResale, "resale_same_kind", "购入同类算力的同时对外销售", EvidenceResale},
	{DetectorResale, "logins_from_other_orgs", "补贴算力由其他单位登录使用", EvidenceResale},

	{DetectorRelatedParty, "direct_stake", "直接持股", EvidenceRelatedParty},
	{DetectorRelatedParty, "common_controller", "同一实际控制人", EvidenceRelatedParty},
	{DetectorRelatedParty, "shared_officer", "董监高或法定代表人为同一人", EvidenceRelatedParty},
	{DetectorRelatedParty, "shared_bank_account", "共用银行账户", EvidenceRelatedParty},
	{DetectorRelatedParty, "integrated_ownership", "间接持股（综合持股比例超过阈值）", EvidenceRelatedParty},
	{DetectorRelatedParty, "shared_contact", "共用联系方式", EvidenceRelatedParty},
	{DetectorRelatedParty, "shared_address", "地址相同", EvidenceRelatedParty},

	{DetectorPrice, "unit_price_far_above", "算力单价明显高于市场价格区间", EvidencePrice},
	{DetectorPrice, "unit_price_far_below", "算力单价明显低于市场价格区间", EvidencePrice},

	{"annual_purchase", "annual_purchase_below_minimum", "年购买算力费用不足", EvidenceFacts},

	{"applicant_credit", "applicant_not_in_registry", "申请企业不在企业登记信息中", EvidenceFacts},
	{"applicant_credit", "seriously_dishonest", "列入严重违法失信名单", EvidenceFacts},
	{"applicant_credit", "major_violation", "近三年有重大违法违规记录", EvidenceFacts},

	{"billed_above_metered", "billed_without_metering", "按卡时结算但无计量记录", EvidenceFacts},
	{"billed_above_metered", "billed_above_metered", "结算卡时显著高于计量用量", EvidenceFacts},

	{"invoice_mismatch", "invoice_not_settled", "发票在结算记录中不存在", EvidenceFacts},
	{"invoice_mismatch", "invoice_of_another_buyer", "发票开具给其他企业", EvidenceFacts},
	{"invoice_mismatch", "invoice_amount_differs", "发票金额与结算金额不符", EvidenceFacts},

	{"late_filing", "never_filed", "合同逾期未备案", EvidenceFacts},
	{"late_filing", "filed_late", "合同备案晚于期限", EvidenceFacts},

	{"non_subsidisable_item", "non_subsidisable_invoice_claimed", "申报只含不予补贴项目的发票", EvidenceFacts},
	{"non_subsidisable_item", "mixed_invoice_claimed_in_full", "含不予补贴项目的发票全额申报", EvidenceFacts},

	{"policy_window", "service_before_window", "服务期早于政策期", EvidenceFacts},
	{"policy_window", "service_after_window", "服务期晚于政策期", EvidenceFacts},

	{"requested_over_limit", "over_10m_cap", "申请金额超过每家企业补贴上限", EvidenceFacts},
	{"requested_over_limit", "over_30_percent", "申请金额超过可补贴结算金额的比例上限", EvidenceFacts},
	{"requested_over_limit", "over_eligible_limit", "扣除不予补贴部分后申请金额超限", EvidenceFacts},
	{"requested_over_limit", "round_total_over_10m_cap", "本轮申请合计超过补贴上限", EvidenceFacts},

	{"unregistered_supplier", "supplier_not_registered", "供给方未完成信息登记", EvidenceFacts},
	{"unregistered_supplier", "supplier_not_in_registry", "供给方不在企业登记信息中", EvidenceFacts},
	{"unregistered_supplier", "bought_from_reseller", "向非算力供给方购买算力", EvidenceFacts},
	{"unregistered_supplier", "signed_before_registration", "合同签订早于供给方信息登记", EvidenceFacts},

	{"usage_above_capacity", "metered_chip_not_registered", "计量的算力卡型号未登记", EvidenceFacts},
	{"usage_above_capacity", "metered_above_registered_capacity", "在用算力卡数超过登记规模", EvidenceFacts},

	{"idle_consumption", "idle_paid_period", "已结算并申报的算力在付费期内大部分时间闲置", EvidenceIdleTimeline},

	{"wash_trade", "mutual_purchase", "供需双方互相购买算力后申报补贴", EvidenceTradeCycle},
	{"wash_trade", "ring_purchase", "多家企业环形互购算力后申报补贴", EvidenceTradeCycle},

	{DetectorComplaint, string(ComplaintDuplicateClaim), "重复申领", EvidenceFacts},
	{DetectorComplaint, string(ComplaintResale), "转租转售", EvidenceFacts},
	{DetectorComplaint, string(ComplaintRelatedParty), "关联交易", EvidenceFacts},
	{DetectorComplaint, string(ComplaintPrice), "价格异常", EvidenceFacts},
	{DetectorComplaint, string(ComplaintFalseUse), "虚假使用", EvidenceFacts},
	{DetectorComplaint, string(ComplaintOther), "其他", EvidenceFacts},

	{DetectorObjection, ObjectionKind, "公示异议", EvidenceFacts},
}

// AlertKinds returns every kind of alert, in the order of the table: the order the inbox
// offers the detectors in.
func AlertKinds() []AlertKind { return append([]AlertKind(nil), alertKinds...) }

// AlertDetectors returns every detector that has kinds in the table, complaint included, in
// the order of the table: the detector values an alert filter may name.
func AlertDetectors() []string {
	var out []string
	for _, k := range alertKinds {
		if len(out) == 0 || out[len(out)-1] != k.Detector {
			out = append(out, k.Detector)
		}
	}
	return out
}

// AlertKindOf returns the kind of a detector's alerts; false when the table has no such kind.
func AlertKindOf(detector, kind string) (AlertKind, bool) {
	for _, k := range alertKinds {
		if k.Detector == detector && k.Kind == kind {
			return k, true
		}
	}
	return AlertKind{}, false
}

// KindLabel is the Chinese label of a kind; the kind itself when the table has none.
func KindLabel(detector, kind string) string {
	if k, ok := AlertKindOf(detector, kind); ok {
		return k.Label
	}
	return kind
}

// EvidenceLayoutOf is how an alert's evidence is laid out: by its kind, else (an alert stored
// under a kind since renamed) by the first kind of its detector, else as facts.
func EvidenceLayoutOf(detector, kind string) EvidenceLayout {
	if k, ok := AlertKindOf(detector, kind); ok {
		return k.Evidence
	}
	for _, k := range alertKinds {
		if k.Detector == detector {
			return k.Evidence
		}
	}
	return EvidenceFacts
}

// officerRoleLabels are the Chinese names of the roles a person may hold in an enterprise:
// the registry's officer roles, and in the related-party evidence also shareholder and contact
// person.
var officerRoleLabels = map[string]string{
	OfficerDirector:   "董事",
	OfficerSupervisor: "监事",
	OfficerManager:    "高级管理人员",
	OfficerLegalRep:   "法定代表人",
	"holder":          "股东",
	"contact":         "联系人",
}

// OfficerRoleLabel is the Chinese name of a role a person holds in an enterprise; the role
// itself when it has none.
func OfficerRoleLabel(role string) string {
	if l, ok := officerRoleLabels[role]; ok {
		return l
	}
	return role
}

// OfficerRoleLabels returns every role's Chinese name, keyed by role.
func OfficerRoleLabels() map[string]string {
	out := make(map[string]string, len(officerRoleLabels))
	for k, v := range officerRoleLabels {
		out[k] = v
	}
	return out
}
