package workflow

import (
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/voucherwatch/voucherwatch"
)

// ParseScoreUpload reads scores as CSV, or as XLSX when the content type or the bytes say so
// (a ZIP archive's signature).
func ParseScoreUpload(contentType string, body []byte) ([]voucherwatch.RoundScore, error) {
	if strings.Contains(contentType, "spreadsheetml") || strings.HasPrefix(string(body), "PK\x03\x04") {
		return parseScoreXLSX(body)
	}
	return ParseRoundScores(strings.NewReader(string(body)))
}

// parseScoreXLSX reads the first sheet of a workbook as the CSV's rows.
func parseScoreXLSX(body []byte) ([]voucherwatch.RoundScore, error) {
	f, err := excelize.OpenReader(strings.NewReader(string(body)))
	if err != nil {
		return nil, voucherwatch.FieldErrorf("scores", "not a readable XLSX workbook")
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, voucherwatch.FieldErrorf("scores", "the workbook has no sheet")
	}
	rows, err := f.GetRows(sheets[0])
	if err != nil {
		return nil, voucherwatch.FieldErrorf("scores", "the first sheet does not read: %v", err)
	}
	var b strings.Builder
	for _, row := range rows {
		cells := make([]string, len(row))
		for i, c := range row {
			cells[i] = `"` + strings.ReplaceAll(c, `"`, `""`) + `"`
		}
		b.WriteString(strings.Join(cells, ",") + "\n")
	}
	return ParseRoundScores(strings.NewReader(b.String()))
}
