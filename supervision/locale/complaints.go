package locale

import "github.com/voucherwatch/voucherwatch"

// complaintMessages are the catalogue's entries of the complaint pages and cases, kept apart
// from messages.go and merged into it when the package starts.
var complaintMessages = map[string]string{
	"detector.complaint": "投诉举报",

	// complaint.category.* are the labels of the complaint kinds (voucherwatch.AlertKinds),
	// added by messages.go.

	"complaint.channel.public": "网上投诉",
	"complaint.channel.phone":  "电话投诉",
	"complaint.channel.letter": "来信投诉",

	"complaint.stage.received":        "已受理，等待核查",
	"complaint.stage.investigating":   "核查中",
	"complaint.stage.substantiated":   "已办结：经核查，反映的问题属实",
	"complaint.stage.unsubstantiated": "已办结：经核查，未发现反映的问题",

	"complaint.case.title":  "投诉举报：%s",
	"complaint.case.reason": "收到%s，反映该企业涉嫌%s。依据政策第五条第一款（受理投诉举报），请核查。",

	"complaint.new.title":        "算力券投诉举报",
	"complaint.new.intro":        "如发现算力券申领、使用中的违规行为，可在此投诉举报，无需登录。提交后您将获得受理编号和查询密码，请妥善保存，凭此查询办理进度。我们对举报人信息严格保密。",
	"complaint.new.enterprise":   "被投诉企业（企业名称或统一社会信用代码）",
	"complaint.new.find":         "查找企业",
	"complaint.new.matches":      "登记信息中的匹配企业，请选择：",
	"complaint.new.no_match":     "未在登记信息中找到该企业，请检查名称或统一社会信用代码。",
	"complaint.new.more":         "匹配的企业较多，只显示前 %d 家，请输入更完整的名称。",
	"complaint.new.category":     "问题类别",
	"complaint.new.text":         "问题描述（纯文本，不超过 2000 字）",
	"complaint.new.contact":      "联系方式（选填，仅省级管理员可见，不超过 200 字）",
	"complaint.new.submit":       "提交投诉举报",
	"complaint.new.throttled":    "提交过于频繁，请 %d 分钟后再试。",
	"complaint.receipt.title":    "投诉举报已受理",
	"complaint.receipt.intro":    "请记下以下受理编号和查询密码。密码只显示这一次，遗失后无法找回。",
	"complaint.receipt.number":   "受理编号",
	"complaint.receipt.secret":   "查询密码",
	"complaint.receipt.check":    "查询办理进度",
	"complaint.status.title":     "投诉举报办理进度查询",
	"complaint.status.intro":     "请输入受理编号和查询密码。本页只显示办理阶段，不显示投诉内容。",
	"complaint.status.submit":    "查询",
	"complaint.status.not_found": "受理编号或查询密码不正确。",
	"complaint.status.stage":     "办理阶段",
	"complaint.status.received":  "受理日期",
	"complaint.status.throttled": "查询失败次数过多，请 %d 分钟后再试。",

	"complaint.register.title":  "登记电话或来信投诉",
	"complaint.register.intro":  "登记通过电话或来信收到的投诉举报。提交后请将受理编号和查询密码告知投诉人。",
	"complaint.register.uscc":   "被投诉企业的统一社会信用代码",
	"complaint.register.submit": "登记",
	"complaint.register.case":   "查看该投诉的案件",
	"nav.complaints":            "登记投诉",

	"complaint.error.uscc":     "请选择登记信息中的企业。",
	"complaint.error.category": "请选择问题类别。",
	"complaint.error.text":     "请填写问题描述（纯文本，不超过 2000 字）。",
	"complaint.error.contact":  "联系方式须为一行，不超过 200 字。",

	"complaint.section":           "投诉举报内容",
	"complaint.receipt_no":        "受理编号",
	"complaint.channel":           "受理渠道",
	"complaint.category":          "问题类别",
	"complaint.text":              "问题描述",
	"complaint.contact":           "联系方式",
	"complaint.contact.none":      "未留联系方式",
	"complaint.contact.hidden":    "举报人联系方式仅省级管理员可见。",
	"complaint.contact.error":     "联系方式无法解密（密钥不符）。",
	"complaint.file":              "该企业在系统中的情况",
	"complaint.file.contracts":    "合同",
	"complaint.file.claims":       "申领",
	"complaint.file.usage":        "用量月份",
	"complaint.file.link":         "查看企业档案",
	"complaint.file.none":         "系统中尚无该企业的合同、申领或用量记录。",
	"complaint.linked.alerts":     "该企业未办结的预警",
	"complaint.linked.none":       "该企业没有未办结的预警。",
	"complaint.linked.complaints": "关于该企业的投诉举报",
}

func init() {
	for k, v := range complaintMessages {
		if _, dup := messages[k]; dup {
			panic("supervision: message " + k + " defined twice")
		}
		messages[k] = v
	}
}

// ComplaintCategoryLabel is the Chinese name of a complaint category.
func ComplaintCategoryLabel(c voucherwatch.ComplaintCategory) string {
	return T("complaint.category." + string(c))
}

// ComplaintChannelLabel is the Chinese name of the way a complaint arrived.
func ComplaintChannelLabel(c voucherwatch.ComplaintChannel) string {
	return T("complaint.channel." + string(c))
}
