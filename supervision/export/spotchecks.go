package export

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// SpotCheckHeader names the columns of a draw's export, in Chinese: supervisors open it in
// Excel or WPS and hand it on.
var SpotCheckHeader = []string{"统一社会信用代码", "企业名称", "市州", "风险分", "抽取方式", "检查人员", "检查结果", "备注"}

// DrawnByLabel says in Chinese how an item was drawn.
var DrawnByLabel = map[string]string{voucherwatch.DrawnByRisk: "风险加权", voucherwatch.DrawnAtRandom: "随机"}

// SpotCheckRows are the export's rows (header first) of a draw as u may see it.
func SpotCheckRows(v workflow.SpotCheckView) [][]string {
	rows := [][]string{SpotCheckHeader}
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
			DrawnByLabel[it.DrawnBy], strings.Join(names, "、"), result, it.Note,
		})
	}
	return rows
}

// SpotCheck answers the list v as a file of format ext (csv or xlsx), for the API
// and the web UI alike.
func SpotCheck(w http.ResponseWriter, v workflow.SpotCheckView, ext string) error {
	t := Table{Sheet: "抽查名单", Rows: SpotCheckRows(v), Widths: map[string]float64{"A": 22, "B": 30, "F": 36}}
	return Write(w, t, "voucherwatch-"+v.ID, ext, "spot check "+v.ID)
}
