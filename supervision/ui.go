package supervision

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/api"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
	"github.com/voucherwatch/voucherwatch/supervision/ui"
)

// uiPages are the page templates, each rendered inside the layout (ui.Parse).
var uiPages = []string{"login", "inbox", "alert", "claim", "enterprise", "overdue", "users", "account", "error",
	"spotchecks", "spotcheck", "public_spotcheck", "enterprises", "backtests", "backtest"}

// UIDeps are the dependencies of the web UI beyond those of the alert and workflow routes,
// which it shares (registerAlertRoutes and registerWorkflowRoutes come first).
type UIDeps struct {
	// SessionKey signs session cookies and CSRF tokens. Every instance behind the load
	// balancer must have the same key, a secret of its own (VW_SESSION_KEY): never one
	// derived from a public key.
	SessionKey []byte
	// SecureCookies marks the cookies Secure: set it when the UI is served over HTTPS.
	SecureCookies bool
	// SessionTTL is how long a sign-in lasts; DefaultSessionTTL when zero.
	SessionTTL time.Duration
	// SessionCacheTTL is how long the user behind a session is trusted without reading it
	// again; DefaultSessionCacheTTL when zero, no caching when negative.
	SessionCacheTTL time.Duration
	// Counts counts alerts for the inbox's chips; nil shows none.
	Counts voucherwatch.AlertCounter
	// Enterprises reads enterprise files for the enterprise page; nil says the data is not
	// available.
	Enterprises voucherwatch.EnterpriseStore
	// Names names the enterprises in the inbox and on alert pages; nil shows their USCCs only.
	Names voucherwatch.EnterpriseNamer
	// Search finds enterprises by name or code for the enterprise search; nil says it is not
	// available.
	Search voucherwatch.EnterpriseSearcher
	// Revocations ends signed-out sessions on every instance (ui_logout.go); nil ends them
	// on this instance only.
	Revocations voucherwatch.SessionRevocations
}

// enterpriseNames names the enterprises with these USCCs for a page. A page without names
// is still useful, so a failed look-up is logged and the page shows the USCCs alone.
func (s *Server) enterpriseNames(ctx context.Context, usccs ...string) map[string]string {
	names := map[string]string{}
	if s.ui.deps.Names == nil || len(usccs) == 0 {
		return names
	}
	got, err := s.ui.deps.Names.EnterpriseNames(ctx, usccs)
	if err != nil {
		s.Log.Warn("supervision: enterprise names", "err", err)
		return names
	}
	return got
}

// uiState is what registerUI prepares.
type uiState struct {
	deps  UIDeps
	key   []byte
	pages map[string]*template.Template

	throttle signInThrottle // wrong passwords per login, on this instance
	// addrThrottle counts wrong passwords per client address, on this instance.
	addrThrottle signInThrottle

	// revoked caches which sessions were signed out (ui_logout.go).
	revoked revocationCache

	dummyOnce sync.Once
	dummyHash string // compared against when a login is unknown, to take as long as a known one
}

func (u *uiState) sessionTTL() time.Duration {
	if u.deps.SessionTTL > 0 {
		return u.deps.SessionTTL
	}
	return DefaultSessionTTL
}

// registerUI adds the web UI: sign-in, the inbox, the alert, claim, enterprise and overdue
// pages, user management, the spot-check pages (over the operations registerSpotCheckRoutes
// adds; without them the pages say spot checks are not set up), and the static assets. New
// checks the session key and the stores first; a template that does not parse is an error, so
// a broken build fails at start.
func (s *Server) registerUI(d UIDeps) error {
	pages, err := parsePages()
	if err != nil {
		return err
	}
	s.ui = &uiState{deps: d, key: append([]byte(nil), d.SessionKey...), pages: pages}
	s.ui.addrThrottle.limit = MaxSignInFailuresPerAddress

	s.mux.Handle("GET /static/", ui.Static())
	s.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/alerts", http.StatusSeeOther)
	})
	s.mux.HandleFunc("GET /login", s.showLogin)
	s.mux.HandleFunc("POST /login", s.postLogin)
	s.mux.HandleFunc("POST /logout", s.postLogout)
	s.mux.Handle("GET /alerts", s.page(s.showInbox))
	s.mux.Handle("GET /alerts/{id}", s.page(s.showAlert))
	s.mux.Handle("POST /alerts/{id}/transitions", s.page(s.postAlertTransition))
	s.mux.Handle("POST /alerts/{id}/proposals", s.page(s.postAlertProposal))
	s.mux.Handle("POST /alerts/{id}/assign", s.page(s.postAlertAssign))
	s.mux.Handle("GET /claims/{id}", s.page(s.showClaim))
	s.mux.Handle("GET /enterprises/{uscc}", s.page(s.showEnterprise))
	s.mux.Handle("GET /explanations/overdue", s.page(s.showOverdue))
	s.mux.Handle("GET /users", s.page(s.showUsers))
	s.mux.Handle("POST /users", s.page(s.postUser))
	s.mux.Handle("POST /users/{id}/password", s.page(s.postUserPassword))
	s.mux.Handle("GET /spotchecks", s.page(s.showSpotChecks))
	s.mux.Handle("POST /spotchecks", s.page(s.postSpotCheck))
	s.mux.Handle("GET /spotchecks/{id}", s.page(s.showSpotCheck))
	s.mux.Handle("GET /spotchecks/{id}/verify", s.page(s.showSpotCheckVerify))
	s.mux.Handle("POST /spotchecks/{id}/results", s.page(s.postSpotCheckResult))
	s.mux.Handle("GET /spotchecks/{id}/export.csv", s.page(s.exportSpotCheck("csv")))
	s.mux.Handle("GET /spotchecks/{id}/export.xlsx", s.page(s.exportSpotCheck("xlsx")))
	s.mux.Handle("POST /inspectors", s.page(s.postInspector))
	s.mux.Handle("POST /inspectors/{id}/disable", s.page(s.postInspectorDisable))
	s.mux.HandleFunc("GET /public/spotchecks/{id}", s.showPublicSpotCheck)
	s.mux.Handle("POST /alerts/bulk", s.page(s.postInboxBulk))
	s.mux.Handle("GET /enterprises", s.page(s.showEnterprises))
	s.mux.Handle("GET /account", s.page(s.showAccount))
	s.mux.Handle("POST /account/password", s.page(s.postAccountPassword))
	s.registerBacktestPages()
	// Anything else outside the API is a Chinese 404 page (the API answers its own 404s).
	s.mux.HandleFunc("/", s.notFoundPage)
	return nil
}

// notFoundPage answers a path the UI does not have, with the navigation when signed in.
func (s *Server) notFoundPage(w http.ResponseWriter, r *http.Request) {
	var q uiRequest
	if ss, u, ok, err := s.sessionUser(r); err == nil && ok {
		q = uiRequest{user: u, sess: ss}
	}
	s.renderError(w, r, q, http.StatusNotFound, locale.T("error.not_found"))
}

// uiFuncs are the template functions of supervision's own, beyond ui's (register_messages.go
// adds the register's).
var uiFuncs = template.FuncMap{}

func parsePages() (map[string]*template.Template, error) {
	pages := map[string]*template.Template{}
	for _, p := range uiPages {
		t, err := ui.Parse(p, uiFuncs)
		if err != nil {
			return nil, fmt.Errorf("supervision: %w", err)
		}
		pages[p] = t
	}
	return pages, nil
}

// uiRequest is one request of a signed-in user.
type uiRequest struct {
	user voucherwatch.User
	sess session
}

type uiHandler func(w http.ResponseWriter, r *http.Request, q uiRequest)

// page serves a UI route to signed-in users: others are sent to sign in (GET) or refused
// (POST). Every POST must carry the session's CSRF token and come from this site.
func (s *Server) page(h uiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ss, u, ok, err := s.sessionUser(r)
		if err != nil {
			s.Log.Error("supervision: ui session", "err", err)
			s.renderError(w, r, uiRequest{}, http.StatusInternalServerError, locale.T("error.internal"))
			return
		}
		if !ok {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		q := uiRequest{user: u, sess: ss}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, api.MaxBodyBytes)
			if !sameOrigin(r) || !validToken(r.PostFormValue("csrf"), s.csrfToken(ss)) {
				s.renderError(w, r, q, http.StatusForbidden, locale.T("error.csrf"))
				return
			}
		}
		h(w, r, q)
	})
}

// render writes a page with the headers every page has.
func (s *Server) render(w http.ResponseWriter, status int, page string, d ui.PageData) {
	t, ok := s.ui.pages[page]
	if !ok {
		panic("supervision: unregistered page " + page)
	}
	ui.Write(w, status, page, t, d, s.Log, locale.T("error.internal"))
}

// data starts the page data of a signed-in user's request.
func (s *Server) data(r *http.Request, q uiRequest, title, nav string) ui.PageData {
	d := ui.PageData{Title: title, Nav: nav, User: q.user}
	if q.user.ID != "" {
		d.CSRF = s.csrfToken(q.sess)
	}
	if f := r.URL.Query().Get("flash"); f != "" {
		if m, ok := locale.Lookup("flash." + f); ok {
			d.Flash = m
		}
		if f == "bulk" { // the counts of a bulk action; numbers only, so nothing is injected
			applied, _ := strconv.Atoi(r.URL.Query().Get("applied"))
			refused, _ := strconv.Atoi(r.URL.Query().Get("refused"))
			d.Flash = fmt.Sprintf(locale.T("flash.bulk"), applied, refused)
		}
	}
	return d
}

// renderError answers an error page in Chinese.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, q uiRequest, status int, msg string) {
	heading := locale.T("error.page.internal")
	switch status {
	case http.StatusNotFound:
		heading = locale.T("error.page.not_found")
	case http.StatusForbidden:
		heading = locale.T("error.page.forbidden")
	case http.StatusBadRequest:
		heading = locale.T("error.page.bad_request")
	}
	d := s.data(r, q, heading, "")
	d.Page = ui.ErrorPage{Status: status, Heading: heading, Message: msg}
	s.render(w, status, "error", d)
}

// failPage answers an error of a page: a Chinese page with the status of its code. Internal
// errors are logged, not shown.
func (s *Server) failPage(w http.ResponseWriter, r *http.Request, q uiRequest, err error) {
	code := voucherwatch.ErrorCode(err)
	status, ok := api.Status(code)
	if !ok {
		s.Log.Error("supervision: ui request failed", "path", r.URL.Path, "err", err)
		status = http.StatusInternalServerError
	}
	s.renderError(w, r, q, status, uiErrorMessage(err))
}

// errStatus is the HTTP status of an error shown on a page.
func errStatus(err error) int {
	if st, ok := api.Status(voucherwatch.ErrorCode(err)); ok {
		return st
	}
	return http.StatusInternalServerError
}
