package supervision

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/voucherwatch/voucherwatch"
)

// spotCheckHeader names the columns of a draw's export, in Chinese: supervisors open it in
// Excel or WPS and hand it on.
var spotCheckHeader = []string{"统一社会信用代码", "企业名称", "市州", "风险分", "抽取方式", "检查人员", "检查结果", "备注"}

var drawnByLabel = map[string]string{voucherwatch.DrawnByRisk: "风险加权", voucherwatch.DrawnAtRandom: "随机"}

// SpotCheckRows are the export's rows (header first) of a draw as u may see it.
func SpotCheckRows(v SpotCheckView) [][]string {
	rows := [][]string{spotCheckHeader}
	for _, it := range v.Items {
		var names []string
		for _, in := range it.Inspectors {
			names = append(names, in.Name+"（"+voucherwatch.CityName(in.City)+"）")
		}
		result := "未检查"
		if it.Result != nil {
			result = voucherwatch.InspectionOutcomes[it.Result.Result]
		}
		rows = append(rows, []string{
			it.USCC, it.Name, voucherwatch.CityName(it.City), strconv.FormatFloat(it.Risk, 'f', 3, 64),
			drawnByLabel[it.DrawnBy], strings.Join(names, "、"), result, it.Note,
		})
	}
	return rows
}

// WriteSpotCheckCSV writes the rows as CSV with a UTF-8 byte-order mark (so that Excel and WPS
// read the Chinese right); text a spreadsheet would run as a formula is defused.
func WriteSpotCheckCSV(w io.Writer, v SpotCheckView) error {
	if _, err := w.Write([]byte("\uFEFF")); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	for _, row := range SpotCheckRows(v) {
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

// WriteSpotCheckXLSX writes the rows as one sheet of an XLSX workbook. Cells are written as
// strings (the USCC is a code, not a number; the risk keeps its three decimals), so nothing
// in them is ever a formula.
func WriteSpotCheckXLSX(w io.Writer, v SpotCheckView) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "抽查名单"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	for i, row := range SpotCheckRows(v) {
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
	_ = f.SetColWidth(sheet, "F", "F", 36)
	return f.Write(w)
}

// spotCheckExports are the file formats a draw's list is exported in, by extension.
var spotCheckExports = map[string]struct {
	contentType string
	write       func(io.Writer, SpotCheckView) error
}{
	"csv":  {"text/csv; charset=utf-8", WriteSpotCheckCSV},
	"xlsx": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", WriteSpotCheckXLSX},
}

func (h spotCheckRoutes) exportCSV(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	h.export(w, r, u, "csv")
}

func (h spotCheckRoutes) exportXLSX(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	h.export(w, r, u, "xlsx")
}

// export answers a draw's list as a file, the items u may see (a city reviewer: its city's).
func (h spotCheckRoutes) export(w http.ResponseWriter, r *http.Request, u voucherwatch.User, ext string) {
	v, err := h.d.View(r.Context(), u, r.PathValue("id"))
	if err != nil {
		h.s.fail(w, err)
		return
	}
	if err := writeSpotCheckExport(w, v, ext); err != nil {
		h.s.fail(w, err)
	}
}

// writeSpotCheckExport answers the list v as a file of format ext (csv or xlsx), for the API
// and the web UI alike. The file is built in memory before the answer starts (a draw is
// hundreds of rows), so that a failure is an error returned before anything is written, never
// a truncated file.
func writeSpotCheckExport(w http.ResponseWriter, v SpotCheckView, ext string) error {
	f, ok := spotCheckExports[ext]
	if !ok {
		return voucherwatch.Errorf(voucherwatch.ENOTFOUND, "no export format %q", ext)
	}
	var buf strings.Builder
	if err := f.write(&buf, v); err != nil {
		return fmt.Errorf("supervision: export spot check %s: %w", v.ID, err)
	}
	w.Header().Set("Content-Type", f.contentType)
	w.Header().Set("Content-Disposition", `attachment; filename="voucherwatch-`+v.ID+`.`+ext+`"`)
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, buf.String())
	return nil
}
