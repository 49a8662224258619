// Package export writes the lists supervisors download (a spot check's draw, the supplier
// register, a round's lists, a backtest's changes) as CSV or XLSX, for the JSON API and the web
// UI alike: rows of text, cells a spreadsheet never runs as a formula.
package export
