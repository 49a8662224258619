package supervision

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// spotCheckHeader names the columns of a draw's export, in Chinese: supervisors open it in
// Excel or WPS and hand it on.
var spotCheckHeader = []string{"统一社会信用代码", "企业名称", "市州", "风险分", "抽取方式", "检查人员", "检查结果", "备注"}

var drawnByLabel = map[string]string{voucherwatch.DrawnByRisk: "风险加权", voucherwatch.DrawnAtRandom: "随机"}

// SpotCheckRows are the export's rows (header first) of a draw as u may see it.
func SpotCheckRows(v workflow.SpotCheckView) [][]string {
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
// and the web UI alike.
func writeSpotCheckExport(w http.ResponseWriter, v workflow.SpotCheckView, ext string) error {
	t := exportTable{sheet: "抽查名单", rows: SpotCheckRows(v), widths: map[string]float64{"A": 22, "B": 30, "F": 36}}
	return writeExportTable(w, t, "voucherwatch-"+v.ID, ext, "spot check "+v.ID)
}
