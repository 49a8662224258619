package supervision

import (
	"github.com/voucherwatch/voucherwatch"
)

// The annual round's part of the catalogue, added here so that the round lives in its own
// files (messages.go holds the rest). The objection case's kind and label are in
// voucherwatch.AlertKinds.
func init() {
	for k, v := range roundMessages {
		messages[k] = v
	}
}

var roundMessages = map[string]string{
	"detector.objection": "公示异议",

	"round.objection.title":          "公示异议：%s",
	"round.objection.reason":         "%d 年度算力券集中评审公示期间收到对申报 %s（拟安排 %s 元）的异议（%s）。依据政策第四条第5款（公示），请核查并作出结论；异议办结前名单不得定稿。",
	"round.objection.refused":        "异议未能受理：",
	"round.objection.received":       "异议已受理",
	"round.objection.thanks":         "您的异议已受理，将由申报企业所在市州核查。受理编号：",
	"round.objection.error.text":     "请填写异议内容（不超过 2000 字，纯文本）。",
	"round.objection.error.contact":  "联系方式请填写一行，不超过 200 字。",
	"round.objection.error.claim_id": "公示名单中没有该申报编号。",
	"round.objection.error.closed":   "该轮次不在公示期内，不再受理异议。",

	"round.public.title":   "%d 年度算力券补贴拟安排名单公示",
	"round.public.intro":   "依据《湖南省算力券补贴政策实施细则》第三条第（二）项、第四条第5款，现将拟安排补贴的企业名单予以公示。公示期内，任何单位和个人对名单有异议的，可在本页提出，无需登录。",
	"round.public.ends":    "公示截止",
	"round.public.version": "名单版本",
	"round.public.closed":  "公示期已结束，不再受理异议。",
	"round.public.form":    "提出异议",
	"round.public.claim":   "申报编号",
	"round.public.text":    "异议内容",
	"round.public.contact": "联系方式（选填，严格保密）",
	"round.public.submit":  "提交异议",
	"round.public.empty":   "本轮没有拟安排补贴的企业。",

	"round.col.rank":       "排名",
	"round.col.claim":      "申报编号",
	"round.col.enterprise": "企业名称",
	"round.col.uscc":       "统一社会信用代码",
	"round.col.city":       "市州",
	"round.col.score":      "综合得分",
	"round.col.assessed":   "核定可补贴金额（元）",
	"round.col.allocated":  "拟安排金额（元）",
	"round.col.state":      "状态",
	"round.col.reason":     "说明",
	"round.col.recovery":   "责令退回（元）",
	"round.col.total":      "合计",

	"round.export.sheet":         "评审名单",
	"round.export.payment_sheet": "拨付名单",
	"round.export.footer":        "%d 年度，第 %d 版，输入数据摘要 %s",

	"round.state.allocated": "安排",
	"round.state.held":      "暂缓",
	"round.state.excluded":  "不予安排",
	"round.state.unfunded":  "预算不足未安排",

	"round.status.open":      "评审中",
	"round.status.frozen":    "名单已冻结",
	"round.status.published": "公示中",
	"round.status.final":     "已定稿",

	"nav.rounds":              "集中评审",
	"rounds.title":            "集中评审",
	"rounds.subtitle":         "年度算力券补贴集中评审、排序、公示与定稿",
	"rounds.empty":            "尚未开启评审轮次。",
	"rounds.open":             "开启评审轮次",
	"rounds.year":             "年度",
	"rounds.budget":           "年度预算（元）",
	"rounds.notice_days":      "公示期（工作日）",
	"rounds.open.submit":      "开启",
	"rounds.state":            "状态",
	"rounds.created":          "开启时间",
	"round.title":             "%d 年度集中评审",
	"round.scores":            "导入专家评分",
	"round.scores.hint":       "CSV 格式，首行为 claim_id,criterion,score,comment；分值 0–100。也可上传 XLSX（首个工作表，同样的列）。",
	"round.scores.csv":        "粘贴 CSV",
	"round.scores.file":       "或上传文件（CSV / XLSX）",
	"round.scores.submit":     "导入",
	"round.weights":           "权重与分配方式",
	"round.weights.hint":      "每行一项：指标=权重，例如 innovation=2、real_use=1、domestic_chip=0.5、sme=0.5。未列出的专家指标权重为 1。",
	"round.mode":              "分配方式",
	"round.mode.last_partial": "按排名全额安排，末位部分安排",
	"round.mode.pro_rata":     "按比例安排",
	"round.whatif":            "试算（不保存）",
	"round.save":              "保存权重",
	"round.freeze":            "冻结名单",
	"round.publish":           "发布公示",
	"round.finalise":          "定稿",
	"round.export":            "导出名单（XLSX，党组会）",
	"round.payment":           "导出拨付名单（XLSX）",
	"round.public_link":       "公示页面",
	"round.digest":            "输入数据摘要（SHA-256）",
	"round.computed":          "以下为按当前数据试算的名单，尚未冻结。",
	"round.total":             "安排合计（元）",
	"round.moves":             "试算中排名或金额变化的申报",
	"round.moves.none":        "试算结果与已保存设置相同。",
	"round.objections":        "异议",
	"round.log":               "操作记录",
	"round.comment":           "评审意见",
	"round.comment.submit":    "提交意见",
	"round.lines":             "名单",

	"error.field.year":        "年度须为 2020–2100 之间的整数。",
	"error.field.budget":      "年度预算须为正数，以元为单位，最多两位小数，如 50000000.00。",
	"error.field.notice_days": "公示期须为 1–60 个工作日。",
	"error.field.scores":      "专家评分文件格式不正确：首行须为 claim_id,criterion,score,comment，分值 0–100，指标不得为计算指标（real_use、domestic_chip、sme）。",
	"error.field.weights":     "权重须为每行一项“指标=权重”，权重为 0 至 1000000 之间的数。",
	"error.field.mode":        "分配方式无效。",
	"error.field.text":        "请填写内容（不超过 2000 字，纯文本）。",
	"error.field.claim_id":    "名单中没有该申报编号。",

	"flash.round_opened":  "评审轮次已开启。",
	"flash.round_scores":  "专家评分已导入。",
	"flash.round_weights": "权重已保存。",
	"flash.round_frozen":  "名单已冻结。",
	"flash.round_publish": "名单已发布公示。",
	"flash.round_final":   "名单已定稿。",
	"flash.round_comment": "意见已记录。",
}

// roundObjectionMessage says in Chinese why an objection was refused.
func roundObjectionMessage(err error) string {
	switch {
	case voucherwatch.ErrorCode(err) == voucherwatch.ECONFLICT:
		return T("round.objection.error.closed")
	case fieldOf(err) == "text":
		return T("round.objection.error.text")
	case fieldOf(err) == "contact":
		return T("round.objection.error.contact")
	case fieldOf(err) == "claim_id":
		return T("round.objection.error.claim_id")
	}
	return uiErrorMessage(err)
}
