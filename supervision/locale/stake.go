package locale

// stakeMessages are the catalogue's entries of money at stake, the inbox's orders and the
// backtests, kept apart from messages.go and merged into it when the package starts.
var stakeMessages = map[string]string{
	"inbox.col.at_stake":         "涉及补贴（元）",
	"inbox.at_stake.potential":   "（潜在）",
	"inbox.sort":                 "排序",
	"inbox.sort.risk":            "风险评分",
	"inbox.sort.at_stake":        "涉及补贴金额",
	"inbox.sort.created":         "最新",
	"alert.at_stake":             "涉及补贴",
	"alert.recovered":            "已追回",
	"nav.backtests":              "政策测算",
	"backtests.title":            "政策参数回测",
	"backtests.one":              "回测结果",
	"backtests.intro":            "修改政策文件中的任一数字（补贴比例、封顶额、年购买额门槛、备案期限、价格区间系数、持股比例阈值等），系统在独立的临时空间内用已存储的数据重新运行全部检测和申报评审，并与现行政策比较；不会改动任何正式预警。",
	"backtests.unavailable":      "本实例未启用政策回测。",
	"backtests.log":              "回测记录",
	"backtests.empty":            "尚无回测记录。",
	"backtests.run":              "运行回测",
	"backtests.policy":           "政策文件（JSON）",
	"backtests.timed_out":        "回测超过时限，已中止并记录。",
	"backtests.bad_policy":       "政策文件无法解析：",
	"backtests.busy":             "另一项回测正在运行，请稍后再试。",
	"backtests.no_diff":          "该回测未成功完成，没有结果。",
	"backtests.scope_city":       "仅显示本市州：",
	"backtests.export_xlsx":      "导出 Excel",
	"backtests.subsidy":          "可支付补贴（现行政策 | 修改后）",
	"backtests.counts":           "预警变化（按检测器、市州）",
	"backtests.enterprises":      "受影响最大的企业",
	"backtests.appeared":         "新出现的预警",
	"backtests.disappeared":      "消失的预警",
	"backtests.province":         "全省",
	"backtests.sheet":            "政策回测",
	"backtests.failed":           "以下检测在回测中运行失败，其预警未计入：",
	"backtests.status.ok":        "完成",
	"backtests.status.failed":    "失败",
	"backtests.status.timed_out": "超时",
	"backtests.col.id":           "编号",
	"backtests.col.at":           "时间",
	"backtests.col.user":         "操作人",
	"backtests.col.digest":       "政策文件摘要",
	"backtests.col.version":      "政策版本",
	"backtests.col.status":       "结果",
	"backtests.col.seconds":      "用时（秒）",
	"backtests.col.city":         "市州",
	"backtests.col.claims":       "申报数",
	"backtests.col.before":       "现行政策（元）",
	"backtests.col.after":        "修改后（元）",
	"backtests.col.change":       "变化（元）",
	"backtests.col.detector":     "检测器",
	"backtests.col.appeared":     "新出现",
	"backtests.col.disappeared":  "消失",
	"backtests.col.enterprise":   "企业",
	"backtests.col.uscc":         "统一社会信用代码",
	"backtests.col.claim":        "申报",
	"backtests.col.title":        "预警",
	"backtests.col.at_stake":     "涉及补贴（元）",
}

func init() {
	for k, v := range stakeMessages {
		if _, dup := messages[k]; dup {
			panic("supervision: message " + k + " defined twice")
		}
		messages[k] = v
	}
}
