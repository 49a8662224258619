// Package ui is the web UI's presentation: the page templates and static files under web/,
// embedded in the binary; how a page is parsed (inside the layout and the partials, with the
// template functions every page has, which read package locale, and those its handler adds);
// how it is written with the headers every page has; and the data every page template gets.
// The page handlers, which need the sessions and the workflow, are in package supervision
// (ui_*.go), which parses every page it registers through Parse when the server starts, so
// that a missing template fails then.
package ui
