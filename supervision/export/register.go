package export

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
)

// registerHeader names the columns of the register's export, in Chinese, as published.
var registerHeader = []string{"统一社会信用代码", "企业名称", "市州", "登记状态", "登记日期", "登记算力", "上报完整率", "按时上报率",
	"数据拒收率", "算力利用率", "服务需方数", "合同金额（元）", "结算金额（元）", "价格比（本企业中位价/市场中位价）", "分芯片价格（元/卡时）", "确认违规数"}

// Percent writes a ratio as a percentage with two decimals; "—" when it is unknown.
func Percent(v *float64) string {
	if v == nil {
		return "—"
	}
	return strconv.FormatFloat(*v*100, 'f', 2, 64) + "%"
}

// PriceRatio writes a price ratio with two decimals; "—" when unknown.
func PriceRatio(v *float64) string {
	if v == nil {
		return "—"
	}
	return strconv.FormatFloat(*v, 'f', 2, 64)
}

// CapacityText lists the registered cards by chip: "Ascend 910B 512卡".
func CapacityText(cs []voucherwatch.ChipCards) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, fmt.Sprintf("%s %d卡", c.ChipModel, c.Cards))
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, "；")
}

// chipPricesText says each chip's median price against its market band.
func chipPricesText(ps []voucherwatch.ChipPrice) string {
	var parts []string
	for _, p := range ps {
		parts = append(parts, fmt.Sprintf("%s：%.2f（市场中位 %.2f，区间 %.2f–%.2f，%s）", p.ChipModel, p.Median, p.MarketMedian, p.BandLow, p.BandHigh, locale.T("register.band."+p.Position)))
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, "；")
}

func registeredText(r voucherwatch.RegisterRow) string {
	if r.Registered {
		return locale.T("register.state.registered")
	}
	return locale.T("register.state.unregistered")
}

// RegisterRows are the export's rows (header first) of an edition.
func RegisterRows(e voucherwatch.RegisterEdition) [][]string {
	rows := [][]string{registerHeader}
	for _, r := range e.Suppliers {
		rows = append(rows, []string{
			r.USCC, r.Name, voucherwatch.CityName(r.City), registeredText(r), cmpOr(r.RegisteredOn, "—"), CapacityText(r.Capacity),
			Percent(r.Completeness), Percent(r.OnTime), Percent(r.RejectRate), Percent(r.Utilisation), strconv.Itoa(r.Buyers),
			r.ContractAmount, r.Settled, PriceRatio(r.PriceRatio), chipPricesText(r.Prices), strconv.Itoa(r.ConfirmedViolations),
		})
	}
	return rows
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// RegisterTable is edition e as the file published for download.
func RegisterTable(e voucherwatch.RegisterEdition) Table {
	return Table{Sheet: "算力供给方登记信息", Rows: RegisterRows(e), Widths: map[string]float64{"A": 22, "B": 30, "O": 60}}
}

// Register answers edition e as a file of format ext (csv or xlsx).
func Register(w http.ResponseWriter, e voucherwatch.RegisterEdition, ext string) error {
	return Write(w, RegisterTable(e), "voucherwatch-register-"+string(e.Period), ext, "register edition "+e.ID)
}
