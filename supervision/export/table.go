package export

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/voucherwatch/voucherwatch"
)

// Table is a list supervisors download and open in Excel or WPS: rows of text, the
// header first, written as CSV or as one sheet of an XLSX workbook.
type Table struct {
	Sheet  string             // the XLSX sheet's name
	Rows   [][]string         // header first
	Widths map[string]float64 // XLSX column widths by column letter, for the wide columns
}

// WriteCSV writes the rows as CSV with a UTF-8 byte-order mark (so that Excel and WPS read
// the Chinese right); text a spreadsheet would run as a formula is defused.
func (t Table) WriteCSV(w io.Writer) error {
	if _, err := w.Write([]byte("\uFEFF")); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	for _, row := range t.Rows {
		safe := make([]string, len(row))
		for i, c := range row {
			safe[i] = SpreadsheetSafe(c)
		}
		if err := cw.Write(safe); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteXLSX writes the rows as one sheet of an XLSX workbook. Cells are written as strings
// (a USCC is a code, not a number; a figure keeps its decimals), so nothing in them is ever
// a formula.
func (t Table) WriteXLSX(w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", t.Sheet); err != nil {
		return err
	}
	for i, row := range t.Rows {
		cells := make([]any, len(row))
		for j, c := range row {
			cells[j] = c
		}
		if err := f.SetSheetRow(t.Sheet, fmt.Sprintf("A%d", i+1), &cells); err != nil {
			return err
		}
	}
	for col, width := range t.Widths {
		_ = f.SetColWidth(t.Sheet, col, col, width)
	}
	return f.Write(w)
}

// exportFormats are the file formats a table is exported in, by extension.
var exportFormats = map[string]struct {
	contentType string
	write       func(Table, io.Writer) error
}{
	"csv":  {"text/csv; charset=utf-8", Table.WriteCSV},
	"xlsx": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Table.WriteXLSX},
}

// Write answers t as the file name.ext. The file is built in memory before the
// answer starts (a list is hundreds of rows), so that a failure is an error returned before
// anything is written, never a truncated file; what names the list in that error.
func Write(w http.ResponseWriter, t Table, name, ext, what string) error {
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

// SpreadsheetSafe keeps a spreadsheet from reading a cell of free text as a formula.
func SpreadsheetSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
