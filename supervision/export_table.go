package supervision

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/voucherwatch/voucherwatch"
)

// exportTable is a list supervisors download and open in Excel or WPS: rows of text, the
// header first, written as CSV or as one sheet of an XLSX workbook.
type exportTable struct {
	sheet  string             // the XLSX sheet's name
	rows   [][]string         // header first
	widths map[string]float64 // XLSX column widths by column letter, for the wide columns
}

// writeCSV writes the rows as CSV with a UTF-8 byte-order mark (so that Excel and WPS read
// the Chinese right); text a spreadsheet would run as a formula is defused.
func (t exportTable) writeCSV(w io.Writer) error {
	if _, err := w.Write([]byte("\uFEFF")); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	for _, row := range t.rows {
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

// writeXLSX writes the rows as one sheet of an XLSX workbook. Cells are written as strings
// (a USCC is a code, not a number; a figure keeps its decimals), so nothing in them is ever
// a formula.
func (t exportTable) writeXLSX(w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", t.sheet); err != nil {
		return err
	}
	for i, row := range t.rows {
		cells := make([]any, len(row))
		for j, c := range row {
			cells[j] = c
		}
		if err := f.SetSheetRow(t.sheet, fmt.Sprintf("A%d", i+1), &cells); err != nil {
			return err
		}
	}
	for col, width := range t.widths {
		_ = f.SetColWidth(t.sheet, col, col, width)
	}
	return f.Write(w)
}

// exportFormats are the file formats a table is exported in, by extension.
var exportFormats = map[string]struct {
	contentType string
	write       func(exportTable, io.Writer) error
}{
	"csv":  {"text/csv; charset=utf-8", exportTable.writeCSV},
	"xlsx": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", exportTable.writeXLSX},
}

// writeExportTable answers t as the file name.ext. The file is built in memory before the
// answer starts (a list is hundreds of rows), so that a failure is an error returned before
// anything is written, never a truncated file; what names the list in that error.
func writeExportTable(w http.ResponseWriter, t exportTable, name, ext, what string) error {
	f, ok := exportFormats[ext]
	if !ok {
		return voucherwatch.Errorf(voucherwatch.ENOTFOUND, "no export format %q", ext)
	}
	var buf strings.Builder
	if err := f.write(t, &buf); err != nil {
		return fmt.Errorf("supervision: export %s: %w", what, err)
	}
	w.Header().Set("Content-Type", f.contentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.`+ext+`"`)
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, buf.String())
	return nil
}
