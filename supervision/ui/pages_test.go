package ui

import (
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/voucherwatch/voucherwatch"
)

func TestFormatYuan(t *testing.T) {
	f := func(m voucherwatch.Money, want string) {
		t.Helper()
		if got := FormatYuan(m); got != want {
			t.Errorf("FormatYuan(%d): got %q, want %q", m, got, want)
		}
	}
	f(0, "0.00")
	f(99999, "999.99")
	f(100000, "1,000.00")
	f(123456789, "1,234,567.89")
	f(-123456789, "-1,234,567.89")
}

// TestLocalPath keeps the sign-in page from sending anyone off the site: look-alikes of a
// local path (protocol-relative, with a scheme, a backslash or a line break) go to the inbox.
func TestLocalPath(t *testing.T) {
	f := func(next, want string) {
		t.Helper()
		if got := LocalPath(next); got != want {
			t.Errorf("LocalPath(%q): got %q, want %q", next, got, want)
		}
	}
	f("/alerts/a1?tab=events", "/alerts/a1?tab=events")
	f("/spotchecks", "/spotchecks")
	f("", "/alerts")
	f("//evil.example/alerts", "/alerts")
	f("https://evil.example/", "/alerts")
	f("/\\evil.example", "/alerts")
	f("/alerts\r\nSet-Cookie: x=1", "/alerts")
	f("alerts", "/alerts")
}

// TestPagesParseAndWrite parses pages with the common functions and writes one with
// the headers every page has; a template that fails to execute is a 500 with the internal-error
// text, not half a page.
func TestPagesParseAndWrite(t *testing.T) {
	// The partials use the register's functions, which package supervision adds.
	register := template.FuncMap{"percent": strings.ToUpper, "priceRatio": strings.ToUpper, "capacity": strings.ToUpper, "bandLabel": strings.ToUpper}
	for _, p := range []string{"login", "error", "account"} {
		if _, err := Parse(p, register); err != nil {
			t.Errorf("Parse(%s): %v", p, err)
		}
	}
	if _, err := Parse("no_such_page", register); err == nil {
		t.Error("Parse(no_such_page): got no error")
	}
	errPage, err := Parse("error", register)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	rec := httptest.NewRecorder()
	Write(rec, http.StatusNotFound, "error", errPage, PageData{Title: "页面不存在", Page: ErrorPage{Status: 404, Heading: "页面不存在", Message: "没有这个页面"}}, log, "系统内部错误")
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "没有这个页面") {
		t.Errorf("error page: got %d %q", rec.Code, rec.Body.String())
	}
	for _, h := range []string{"Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Cache-Control"} {
		if rec.Header().Get(h) == "" {
			t.Errorf("error page: no %s header", h)
		}
	}
	broken := template.Must(template.New("x").Parse(`<section>half a page{{.Page.NoSuchField}}`))
	rec = httptest.NewRecorder()
	Write(rec, http.StatusOK, "x", broken, PageData{Page: ErrorPage{}}, log, "系统内部错误")
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "系统内部错误") || strings.Contains(rec.Body.String(), "half a page") {
		t.Errorf("broken template: got %d %q, want 500 with the internal-error text only", rec.Code, rec.Body.String())
	}
}
