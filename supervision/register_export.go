package supervision

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/voucherwatch/voucherwatch"
)

// registerHeader names the columns of the register's export, in Chinese, as published.
var registerHeader = []string{"统一社会信用代码", "企业名称", "市州", "登记状态", "登记日期", "登记算力", "上报完整率", "按时上报率",
	"数据拒收率", "算力利用率", "服务需方数", "合同金额（元）", "结算金额（元）", "价格比（本企业中位价/市场中位价）", "分芯片价格（元/卡时）", "确认违规数"}

// percent writes a ratio as a percentage with two decimals; "—" when it is unknown.
func percent(v *float64) string {
	if v == nil {
		return "—"
	}
	return strconv.FormatFloat(*v*100, 'f', 2, 64) + "%"
}

// priceRatio writes a price ratio with two decimals; "—" when unknown.
func priceRatio(v *float64) string {
	if v == nil {
		return "—"
	}
	return strconv.FormatFloat(*v, 'f', 2, 64)
}

// capacityText lists the registered cards by chip: "Ascend 910B 512卡".
func capacityText(cs []voucherwatch.ChipCards) string {
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
		parts = append(parts, fmt.Sprintf("%s：%.2f（市场中位 %.2f，区间 %.2f–%.2f，%s）", p.ChipModel, p.Median, p.MarketMedian, p.BandLow, p.BandHigh, T("register.band."+p.Position)))
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, "；")
}

func registeredText(r voucherwatch.RegisterRow) string {
	if r.Registered {
		return T("register.state.registered")
	}
	return T("register.state.unregistered")
}

// RegisterRows are the export's rows (header first) of an edition.
func RegisterRows(e voucherwatch.RegisterEdition) [][]string {
	rows := [][]string{registerHeader}
	for _, r := range e.Suppliers {
		rows = append(rows, []string{
			r.USCC, r.Name, voucherwatch.CityName(r.City), registeredText(r), cmpOr(r.RegisteredOn, "—"), capacityText(r.Capacity),
			percent(r.Completeness), percent(r.OnTime), percent(r.RejectRate), percent(r.Utilisation), strconv.Itoa(r.Buyers),
			r.ContractAmount, r.Settled, priceRatio(r.PriceRatio), chipPricesText(r.Prices), strconv.Itoa(r.ConfirmedViolations),
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

// WriteRegisterCSV writes the rows as CSV with a UTF-8 byte-order mark; text a spreadsheet
// would run as a formula is defused.
func WriteRegisterCSV(w io.Writer, e voucherwatch.RegisterEdition) error {
	if _, err := w.Write([]byte("\uFEFF")); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	for _, row := range RegisterRows(e) {
		safe := make([]string, len(row))
		for i, c := range row {
			safe[i] = spreadsheetSafe(c)
		}
		if err := cw.Write(safe); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteRegisterXLSX writes the rows as one sheet of an XLSX workbook, every cell a string, so
// that nothing in them is ever a formula.
func WriteRegisterXLSX(w io.Writer, e voucherwatch.RegisterEdition) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "算力供给方登记信息"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	for i, row := range RegisterRows(e) {
		cells := make([]any, len(row))
		for j, c := range row {
			cells[j] = c
		}
		if err := f.SetSheetRow(sheet, fmt.Sprintf("A%d", i+1), &cells); err != nil {
			return err
		}
	}
	_ = f.SetColWidth(sheet, "A", "A", 22)
	_ = f.SetColWidth(sheet, "B", "B", 30)
	_ = f.SetColWidth(sheet, "O", "O", 60)
	return f.Write(w)
}

var registerExports = map[string]struct {
	contentType string
	write       func(io.Writer, voucherwatch.RegisterEdition) error
}{
	"csv":  {"text/csv; charset=utf-8", WriteRegisterCSV},
	"xlsx": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", WriteRegisterXLSX},
}

// writeRegisterExport answers edition e as a file of format ext, built in memory first so that
// a failure is an error, never a truncated file.
func writeRegisterExport(w http.ResponseWriter, e voucherwatch.RegisterEdition, ext string) error {
	f, ok := registerExports[ext]
	if !ok {
		return voucherwatch.Errorf(voucherwatch.ENOTFOUND, "no export format %q", ext)
	}
	var buf strings.Builder
	if err := f.write(&buf, e); err != nil {
		return fmt.Errorf("supervision: export register edition %s: %w", e.ID, err)
	}
	w.Header().Set("Content-Type", f.contentType)
	w.Header().Set("Content-Disposition", `attachment; filename="voucherwatch-register-`+string(e.Period)+`.`+ext+`"`)
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, buf.String())
	return nil
}

// sameRows says whether two computations of an edition agree, compared as published (JSON).
func sameRows(a, b []voucherwatch.RegisterRow) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}
