package locale

// The supplier register's part of the catalogue, kept apart so that the register's text lives
// in a file of its own.
func init() {
	for k, v := range registerMessages {
		messages[k] = v
	}
}

var registerMessages = map[string]string{
	"register.title":               "算力供给方信息登记发布",
	"register.subtitle":            "登记服务质量与经营情况，供算力需求方自主选择",
	"register.policy":              "依据《湖南省算力券补贴政策实施细则》第二条第（三）项，省工业和信息化厅定期发布算力供给方登记服务质量、经营情况等信息。",
	"register.period":              "发布期次",
	"register.id":                  "编号",
	"register.created_at":          "发布时间",
	"register.digest":              "输入数据摘要（SHA-256）",
	"register.method":              "计算方法",
	"register.downloads":           "下载",
	"register.empty":               "尚未发布登记信息。",
	"register.no_suppliers":        "本期无登记的算力供给方。",
	"register.note":                "上报完整率：各资源应上报的小时窗口中实际收到的比例；按时上报率：窗口结束后规定时限内收到的比例；数据拒收率：因数据质量被拒收的遥测消息占比；算力利用率：实际计量卡时 ÷ 合同售出卡时；价格比：本企业中位价 ÷ 全省市场中位价。确认违规数仅统计经核查确认的违规，不含待核查或已排除的预警。“—”表示本期无可计算的数据。",
	"register.col.uscc":            "统一社会信用代码",
	"register.col.name":            "企业名称",
	"register.col.city":            "市州",
	"register.col.state":           "登记状态",
	"register.col.capacity":        "登记算力",
	"register.col.completeness":    "上报完整率",
	"register.col.on_time":         "按时上报率",
	"register.col.reject_rate":     "数据拒收率",
	"register.col.utilisation":     "算力利用率",
	"register.col.buyers":          "服务需方数",
	"register.col.contract_amount": "合同金额（元）",
	"register.col.settled":         "结算金额（元）",
	"register.col.price_ratio":     "价格比",
	"register.col.violations":      "确认违规数",
	"register.col.chip":            "芯片型号",
	"register.col.median":          "本企业中位价（元/卡时）",
	"register.col.market_median":   "市场中位价（元/卡时）",
	"register.col.band":            "市场价格区间",
	"register.col.position":        "位置",
	"register.state.registered":    "已登记",
	"register.state.unregistered":  "未登记",
	"register.band.below":          "低于区间",
	"register.band.within":         "区间内",
	"register.band.above":          "高于区间",
	"register.history":             "历期登记信息",
	"register.history.empty":       "该企业尚无历期登记信息。",
	"register.prices":              "最新一期分芯片价格",
	"register.back":                "返回登记信息",
}
