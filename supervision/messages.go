package supervision

import (
	"errors"

	"github.com/voucherwatch/voucherwatch"
)

// messages is the web UI's catalogue: everything a supervisor reads, in Chinese, keyed by
// dotted ids. Templates read it with {{t "key"}}; a test fails on a key used but not defined
// and on a status, role, severity or detector without a label.
var messages = map[string]string{
	"app.name":     "湖南省算力券监管平台",
	"app.subtitle": "算力券补贴资金监测与核查",
	"app.footer":   "依据《湖南省算力券补贴政策实施细则》（湘工信信息软件〔2026〕168号）",

	"nav.inbox":      "预警收件箱",
	"nav.overdue":    "逾期说明",
	"nav.spotchecks": "抽查",
	"nav.users":      "用户",
	"nav.account":    "修改密码",
	"nav.logout":     "退出",
	"nav.signed_in":  "当前用户",

	"login.title":    "登录",
	"login.login":    "登录名",
	"login.password": "密码",
	"login.submit":   "登录",
	"login.failed":   "登录名或密码错误，请重新输入。",
	"login.hint":     "请使用省级或市州监管账号登录。",

	"alert.status.new":                   "新预警",
	"alert.status.reviewing":             "审核中",
	"alert.status.explanation_requested": "待说明",
	"alert.status.confirmed":             "已确认违规",
	"alert.status.dismissed":             "已排除",
	"alert.status.recovery_ordered":      "已责令追回",
	"alert.status.recovered":             "已追回",

	"alert.action.reviewing":             "转入审核",
	"alert.action.explanation_requested": "要求限期说明",
	"alert.action.confirmed":             "确认违规",
	"alert.action.dismissed":             "排除预警",
	"alert.action.recovery_ordered":      "责令追回补助",
	"alert.action.recovered":             "登记已追回",
	"alert.action.propose":               "建议省级：",

	"role.province_admin":    "省级管理员",
	"role.province_reviewer": "省级审核员",
	"role.city_reviewer":     "市州审核员",
	"role.auditor":           "审计员",
	"role.system":            "系统",

	"severity.high":   "高",
	"severity.medium": "中",
	"severity.low":    "低",

	"detector.duplicate_claim":       "重复申领",
	"detector.resale":                "转租转售",
	"detector.related_party":         "供需关联关系",
	"detector.price_out_of_range":    "算力单价异常",
	"detector.annual_purchase":       "年购买额不足5万元",
	"detector.applicant_credit":      "申请主体信用",
	"detector.billed_above_metered":  "开票量超过计量用量",
	"detector.invoice_mismatch":      "发票与结算不符",
	"detector.late_filing":           "合同逾期备案",
	"detector.non_subsidisable_item": "不予补贴的服务项目",
	"detector.policy_window":         "超出政策期限",
	"detector.requested_over_limit":  "申请金额超限",
	"detector.unregistered_supplier": "供应方未登记",
	"detector.usage_above_capacity":  "用量超过申报算力",

	"event.transition": "状态变更",
	"event.assignment": "分派",
	"event.proposal":   "建议",

	"inbox.title":          "预警收件箱",
	"inbox.filter":         "筛选",
	"inbox.reset":          "清除筛选",
	"inbox.all":            "全部",
	"inbox.detector":       "预警类型",
	"inbox.status":         "状态",
	"inbox.severity":       "风险等级",
	"inbox.city":           "市州",
	"inbox.only_overdue":   "仅看逾期未说明",
	"inbox.by_status":      "按状态",
	"inbox.by_detector":    "按预警类型",
	"inbox.total":          "合计",
	"inbox.col.severity":   "等级",
	"inbox.col.title":      "预警",
	"inbox.col.applicant":  "申请企业",
	"inbox.col.city":       "市州",
	"inbox.col.status":     "状态",
	"inbox.col.updated":    "更新时间",
	"inbox.empty":          "没有符合条件的预警。",
	"inbox.next":           "下一页",
	"inbox.first":          "返回第一页",
	"inbox.overdue_capped": "仅显示逾期最久的前 200 条。",
	"inbox.scope_city":     "您只能查看本市州的预警：",

	"alert.title":           "预警详情",
	"alert.reason":          "预警原因",
	"alert.clause":          "政策依据",
	"alert.severity":        "风险等级",
	"alert.score":           "风险评分",
	"alert.status":          "当前状态",
	"alert.detector":        "预警类型",
	"alert.city":            "市州",
	"alert.created":         "首次发现",
	"alert.updated":         "最近更新",
	"alert.subjects":        "涉及对象",
	"alert.evidence":        "证据",
	"alert.actions":         "处理",
	"alert.no_actions":      "您的角色在当前状态下没有可执行的操作。",
	"alert.final":           "本预警已办结。",
	"alert.comment":         "处理意见（必填）",
	"alert.deadline":        "说明截止日期",
	"alert.amount":          "追回金额（元）",
	"alert.assign":          "分派",
	"alert.assignee":        "承办人",
	"alert.assignee.none":   "退回本市州待办队列",
	"alert.assign.comment":  "备注（选填）",
	"alert.assign.submit":   "分派",
	"alert.assigned_to":     "当前承办人",
	"alert.unassigned":      "未分派",
	"alert.history":         "处理记录",
	"alert.history.empty":   "尚无处理记录。",
	"alert.history.at":      "时间",
	"alert.history.actor":   "操作人",
	"alert.history.kind":    "事项",
	"alert.history.change":  "状态",
	"alert.history.comment": "意见",
	"alert.history.details": "期限 / 金额",
	"alert.history.to":      "分派给",
	"alert.history.propose": "建议改为",
	"alert.deadline_short":  "截止",
	"alert.amount_short":    "金额",
	"alert.back":            "返回收件箱",
	"alert.overdue":         "说明已逾期",
	"alert.days":            "天",

	"subject.applicant_uscc": "申请企业（需求方）",
	"subject.supplier_uscc":  "算力供应方",
	"subject.claim_id":       "补贴申报",
	"subject.contract_no":    "合同编号",
	"subject.invoice":        "发票",
	"subject.resource_id":    "算力资源",

	"flash.transition": "状态已更新。",
	"flash.proposal":   "建议已提交省级审核。",
	"flash.assignment": "分派已记录。",
	"flash.user":       "用户已创建。",
	"flash.password":   "密码已更新。",

	"error.conflict":         "当前状态下不允许此操作，或他人已处理该预警。请刷新页面后重试。",
	"error.forbidden":        "您的角色无权执行此操作。",
	"error.not_found":        "未找到该记录，或您无权查看。",
	"error.invalid":          "填写有误，请检查后重新提交。",
	"error.internal":         "系统暂时无法完成请求，请稍后重试。",
	"error.field.comment":    "请填写处理意见。",
	"error.field.deadline":   "说明截止日期须晚于今天，且不超过 366 天。",
	"error.field.amount":     "请填写追回金额，以元为单位，如 12345.67。",
	"error.field.user_id":    "该用户无法承办本预警。",
	"error.field.to":         "目标状态无效。",
	"error.field.cursor":     "分页参数无效，请返回第一页。",
	"error.field.login":      "登录名须为 2–64 位小写字母、数字或 . _ -，且未被占用。",
	"error.field.password":   "密码至少 10 个字符，最多 72 字节。",
	"error.field.name":       "请填写姓名（不超过 100 字）。",
	"error.field.role":       "请选择角色。",
	"error.field.city":       "市州审核员须选择所属市州；其他角色不选市州。",
	"error.csrf":             "页面已过期或请求来源无效，请返回后刷新页面重试。",
	"error.page.not_found":   "页面不存在",
	"error.page.forbidden":   "无权访问",
	"error.page.bad_request": "请求无效",
	"error.page.internal":    "系统错误",
	"error.back":             "返回预警收件箱",

	"claim.title":               "补贴申报评估",
	"claim.id":                  "申报编号",
	"claim.applicant":           "申请企业",
	"claim.round":               "评审批次",
	"claim.submitted":           "提交日期",
	"claim.policy":              "政策版本",
	"claim.window":              "政策期限",
	"claim.totals":              "补贴测算",
	"claim.claimed":             "申报发票金额",
	"claim.usage_amount":        "申报算力使用金额",
	"claim.settled":             "结算核实金额",
	"claim.eligible":            "可补贴金额",
	"claim.rate":                "补贴比例",
	"claim.rate_of_eligible":    "按比例测算",
	"claim.cap":                 "单家企业上限",
	"claim.max_subsidy":         "最高可补贴",
	"claim.requested":           "申请补贴",
	"claim.over_by":             "超出可补贴",
	"claim.invoices":            "发票明细",
	"claim.invoice":             "发票",
	"claim.invoice_counts":      "发票（引用 / 已结算 / 可补贴）",
	"claim.settled_yes":         "已结算",
	"claim.settled_no":          "未找到结算",
	"claim.supplier":            "供应方",
	"claim.supplier_status":     "供应方登记",
	"claim.period":              "服务期间",
	"claim.days_in_window":      "期限内天数",
	"claim.items":               "服务项目",
	"claim.subsidisable":        "可补贴",
	"claim.not_subsidisable":    "不予补贴",
	"claim.reasons":             "核减原因",
	"claim.repeated":            "重复引用，仅计一次",
	"claim.buyer_not_applicant": "发票购买方不是申请企业",
	"claim.alerts":              "相关预警",
	"claim.unknown_format":      "评估结果格式无法识别。",

	"supplier_status.registered":      "已登记",
	"supplier_status.not_registered":  "未登记",
	"supplier_status.not_a_supplier":  "非算力供应方",
	"supplier_status.not_in_registry": "登记库中无此企业",

	"enterprise.title":                   "企业档案",
	"enterprise.unavailable":             "企业数据暂不可用。",
	"enterprise.no_registry":             "尚未收到该企业的工商登记信息。",
	"enterprise.registry":                "登记信息",
	"enterprise.name":                    "企业名称",
	"enterprise.uscc":                    "统一社会信用代码",
	"enterprise.city":                    "市州",
	"enterprise.registered_address":      "注册地址",
	"enterprise.office_address":          "办公地址",
	"enterprise.registered_on":           "成立日期",
	"enterprise.sme":                     "中小企业",
	"enterprise.credit":                  "信用状况",
	"enterprise.credit.ok":               "无严重失信、近三年无重大违法记录",
	"enterprise.credit.dishonest":        "列入严重违法失信名单",
	"enterprise.credit.violation":        "近三年有重大违法记录",
	"enterprise.legal_rep":               "法定代表人",
	"enterprise.contacts":                "联系人",
	"enterprise.shareholders":            "股东",
	"enterprise.officers":                "董监高",
	"enterprise.bank_accounts":           "银行账户",
	"enterprise.supplier":                "算力供应方信息",
	"enterprise.supplier.registered":     "已完成供应方登记",
	"enterprise.supplier.not_registered": "未完成供应方登记",
	"enterprise.idc":                     "IDC 许可证",
	"enterprise.capacity":                "申报算力",
	"enterprise.person.name":             "姓名",
	"enterprise.person.id":               "证件号码",
	"enterprise.person.phone":            "电话",
	"enterprise.person.email":            "邮箱",
	"enterprise.holder.name":             "股东名称",
	"enterprise.holder.kind":             "类型",
	"enterprise.holder.enterprise":       "企业",
	"enterprise.holder.person":           "自然人",
	"enterprise.holder.share":            "持股比例",
	"enterprise.officer.role":            "职务",
	"enterprise.contracts":               "采购合同",
	"enterprise.settlements":             "结算与发票",
	"enterprise.usage":                   "月度用量",
	"enterprise.claims":                  "补贴申报",
	"enterprise.alerts":                  "相关预警",
	"enterprise.truncated":               "仅显示最近 200 条。",
	"enterprise.none":                    "无",
	"enterprise.yes":                     "是",
	"enterprise.no":                      "否",

	"col.contract_no":   "合同编号",
	"col.contract_name": "合同名称",
	"col.supplier":      "供应方",
	"col.buyer":         "购买方",
	"col.signed_on":     "签订日期",
	"col.service":       "服务期",
	"col.amount":        "金额（元）",
	"col.via_platform":  "平台交易",
	"col.filed_on":      "备案日期",
	"col.invoice":       "发票",
	"col.invoice_date":  "开票日期",
	"col.tax":           "税额（元）",
	"col.paid_on":       "付款日期",
	"col.period":        "服务期间",
	"col.month":         "月份",
	"col.chip":          "芯片型号",
	"col.chip_origin":   "国产 / 进口",
	"col.card_hours":    "卡时",
	"col.util":          "平均利用率",
	"col.claim_id":      "申报编号",
	"col.round":         "批次",
	"col.submitted":     "提交日期",
	"col.requested":     "申请补贴（元）",
	"col.usage_amount":  "使用金额（元）",
	"col.bank":          "开户行",
	"col.account":       "账号",
	"col.datacenter":    "数据中心",
	"col.cards":         "卡数",

	"origin.domestic": "国产",
	"origin.foreign":  "进口",
	"origin.mixed":    "混合",

	"overdue.title":        "逾期未说明",
	"overdue.intro":        "以下预警已要求企业限期说明，截止日期已过仍未处理完毕，按逾期天数排列。",
	"overdue.empty":        "目前没有逾期的说明。",
	"overdue.deadline":     "截止日期",
	"overdue.days":         "逾期天数",
	"overdue.requested_by": "要求人",
	"overdue.requested_at": "要求时间",
	"overdue.count":        "逾期合计",

	"users.title":        "用户管理",
	"users.name":         "姓名",
	"users.login":        "登录名",
	"users.role":         "角色",
	"users.city":         "所属市州",
	"users.password":     "初始密码（至少 10 位）",
	"users.create":       "新建用户",
	"users.submit":       "创建",
	"users.set_password": "重设密码",
	"users.new_password": "新密码",
	"users.no_login":     "（仅限接口）",
	"users.token_once":   "该用户的接口令牌（仅显示一次，请妥善保存）：",

	"account.title":   "修改密码",
	"account.current": "当前用户",
	"account.submit":  "保存新密码",

	"spotchecks.title": "抽查",

	"common.save":   "提交",
	"common.none":   "—",
	"common.yes":    "是",
	"common.no":     "否",
	"common.select": "请选择",
}

// T returns the Chinese text of key; a key missing from the catalogue shows as itself, which
// the catalogue's test keeps from happening.
func T(key string) string {
	if m, ok := messages[key]; ok {
		return m
	}
	return key
}

// StatusLabel is the Chinese name of a workflow status.
func StatusLabel(s voucherwatch.Status) string { return T("alert.status." + string(s)) }

// RoleLabel is the Chinese name of a role.
func RoleLabel(r voucherwatch.Role) string { return T("role." + string(r)) }

// SeverityLabel is the Chinese name of a severity.
func SeverityLabel(s voucherwatch.Severity) string { return T("severity." + string(s)) }

// DetectorLabel is the Chinese name of a detector.
func DetectorLabel(name string) string { return T("detector." + name) }

// uiErrorMessage says in Chinese why a request was refused: by the field at fault where the
// catalogue has a message for it, else by the error's code.
func uiErrorMessage(err error) string {
	var e *voucherwatch.Error
	if errors.As(err, &e) && e.Field != "" {
		if m, ok := messages["error.field."+e.Field]; ok {
			return m
		}
	}
	code := voucherwatch.ErrorCode(err)
	if m, ok := messages["error."+code]; ok && code != voucherwatch.EUNAUTH {
		return m
	}
	return T("error.internal")
}
