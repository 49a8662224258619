package ui

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/voucherwatch/voucherwatch"
)

// files holds the templates (web/templates) and the static assets (web/static).
//
//go:embed web
var files embed.FS

// Templates are the page templates' sources, for tests that read them.
func Templates() fs.FS {
	sub, _ := fs.Sub(files, "web/templates")
	return sub
}

// Parse parses the page template web/templates/<page>.html inside the layout and the
// partials, with the template functions every page has and then extra, in order.
func Parse(page string, extra ...template.FuncMap) (*template.Template, error) {
	t := template.New("layout.html").Funcs(funcs)
	for _, f := range extra {
		t = t.Funcs(f)
	}
	t, err := t.ParseFS(files, "web/templates/layout.html", "web/templates/partials.html", "web/templates/"+page+".html")
	if err != nil {
		return nil, fmt.Errorf("ui: parse template %s: %w", page, err)
	}
	return t, nil
}

// Static serves the static assets under /static/.
func Static() http.Handler {
	static, _ := fs.Sub(files, "web/static")
	h := http.StripPrefix("/static/", http.FileServer(http.FS(static)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}

// PageData is what every page template gets: the page's own data is Page.
type PageData struct {
	Title string
	Nav   string // the active entry of the navigation
	User  voucherwatch.User
	CSRF  string
	Flash string
	Error string
	Page  any
}

// IsAdmin reports whether the signed-in user manages users, for the navigation.
func (p PageData) IsAdmin() bool { return p.User.Role.MayManageUsers() }

// SignedIn reports whether a user is signed in, for the layout.
func (p PageData) SignedIn() bool { return p.User.ID != "" }

// ErrorPage is the data of the error page.
type ErrorPage struct {
	Status  int
	Heading string
	Message string
}

// Write executes t, the template of page, with d and writes the page with the headers every page has. A template
// that fails is logged and answered with a 500 carrying internalError, so that no half page
// goes out.
func Write(w http.ResponseWriter, status int, page string, t *template.Template, d PageData, log *slog.Logger, internalError string) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, d); err != nil {
		log.Error("supervision: render page", "page", page, "err", err)
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString("<!doctype html><meta charset=utf-8><title>系统错误</title><p>" + internalError)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// LocalPath returns next when it is a path on this site, else "/alerts": the sign-in page
// must not send anyone elsewhere.
func LocalPath(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return "/alerts"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/alerts"
	}
	return next
}

// FormatYuan formats money as yuan with thousands separators: 1,234,567.89.
func FormatYuan(m voucherwatch.Money) string {
	s := m.String()
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := b.String() + "." + frac
	if neg {
		return "-" + out
	}
	return out
}
