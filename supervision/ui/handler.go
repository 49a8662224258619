package ui

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/api"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// uiPages are the page templates, each rendered inside the layout (Parse).
var uiPages = []string{"login", "inbox", "alert", "claim", "enterprise", "overdue", "users", "account", "error",
	"spotchecks", "spotcheck", "public_spotcheck", "enterprises", "backtests", "backtest"}

// enterpriseNames names the enterprises with these USCCs for a page. A page without names
// is still useful, so a failed look-up is logged and the page shows the USCCs alone.
func (h *Handler) enterpriseNames(ctx context.Context, usccs ...string) map[string]string {
	names := map[string]string{}
	if h.Names == nil || len(usccs) == 0 {
		return names
	}
	got, err := h.Names.EnterpriseNames(ctx, usccs)
	if err != nil {
		h.Log.Warn("supervision: enterprise names", "err", err)
		return names
	}
	return got
}

// Settings are the web UI's own settings and the stores only its pages read.
type Settings struct {
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
	// Revocations ends signed-out sessions on every instance (logout.go); nil ends them
	// on this instance only.
	Revocations voucherwatch.SessionRevocations
}

// Deps are what the web UI's pages need: the stores they read, as the domain's interfaces,
// package workflow's operations they act through, the session settings and the clock (the
// workflow service's). A feature whose operations are nil shows a page saying it is not set
// up, or has no routes (package supervision mounts only those it has).
type Deps struct {
	Settings

	// Alerts lists and reads alerts; required.
	Alerts voucherwatch.AlertStore
	// Assess answers a claim's assessment for the claim page.
	Assess func(ctx context.Context, claimID string) (voucherwatch.ClaimAssessment, error)
	// Workflow moves alerts through the workflow and manages users; its Users are required,
	// and its clock is the UI's.
	Workflow workflow.Service
	// SpotChecks, Register, Rounds, Complaints and Backtests are the features' operations.
	SpotChecks *workflow.SpotChecks
	Register   *workflow.Register
	Rounds     *workflow.Rounds
	Complaints *workflow.Complaints
	Backtests  *workflow.Backtester
	// Log is where the pages log; slog.Default() when nil.
	Log *slog.Logger
}

// Handler serves the web UI's pages: each method with the signature of a PageHandler is a
// page of signed-in users (mounted through Page), the others are public pages and sign-in.
type Handler struct {
	Deps
	key   []byte
	pages map[string]*template.Template

	throttle signInThrottle // wrong passwords per login, on this instance
	// addrThrottle counts wrong passwords per client address, on this instance.
	addrThrottle signInThrottle
	// complaintPosts counts the public complaint form's submissions per client address, on
	// this instance; complaintLookups counts the status page's failed look-ups per address
	// (guessing secrets); objections counts public objections to a round per address.
	complaintPosts, complaintLookups, objections signInThrottle

	// revoked caches which sessions were signed out (logout.go); sessions caches the users
	// behind sessions (session.go).
	revoked  revocationCache
	sessions sessionCache

	dummyOnce      sync.Once
	dummyHashValue string // compared against when a login is unknown, to take as long as a known one
}

// New builds the web UI over d. It returns an error for a session key shorter than 16 bytes,
// for missing alert or user stores, and for a template that does not parse, so that a broken
// configuration or build fails at start.
func New(d Deps) (*Handler, error) {
	if len(d.SessionKey) < 16 {
		return nil, errors.New("supervision: web UI: session key shorter than 16 bytes")
	}
	if d.Workflow.Users == nil || d.Alerts == nil {
		return nil, errors.New("supervision: web UI: the alert store and the user store are required")
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	h := &Handler{Deps: d, key: append([]byte(nil), d.SessionKey...), pages: pages}
	h.addrThrottle.limit = MaxSignInFailuresPerAddress
	h.complaintPosts.limit = MaxComplaintPostsPerAddress
	h.complaintLookups.limit = MaxStatusLookupFailuresPerAddress
	h.objections.limit = MaxObjectionsPerAddress
	return h, nil
}

// ForgetUser drops what this instance cached of a user's sessions, so that a disabled user or
// a changed password ends them here at once.
func (h *Handler) ForgetUser(id string) { h.sessions.forget(id) }

// flow is the workflow service the pages act through.
func (h *Handler) flow() *workflow.Service { return &h.Workflow }

// failJSON answers an error of a public route's JSON form, logging the ones that are the
// engine's fault.
func (h *Handler) failJSON(w http.ResponseWriter, err error) {
	if voucherwatch.ErrorCode(err) == voucherwatch.EINTERNAL {
		h.Log.Error("supervision: request failed", "err", err)
	}
	api.WriteError(w, err)
}

func (h *Handler) sessionTTL() time.Duration {
	if h.SessionTTL > 0 {
		return h.SessionTTL
	}
	return DefaultSessionTTL
}

// NotFoundPage answers a path the UI does not have, with the navigation when signed in.
func (h *Handler) NotFoundPage(w http.ResponseWriter, r *http.Request) {
	var q Request
	if ss, u, ok, err := h.sessionUser(r); err == nil && ok {
		q = Request{user: u, sess: ss}
	}
	h.renderError(w, r, q, http.StatusNotFound, locale.T("error.not_found"))
}

// uiFuncs are the template functions of the pages beyond the layout's (funcs.go);
// register_messages.go adds the register's.
var uiFuncs = template.FuncMap{}

// roundFuncs are the round pages' template functions.
var roundFuncs = template.FuncMap{
	"lineState":  func(st string) string { return locale.T("round.state." + st) },
	"roundState": func(st voucherwatch.RoundState) string { return locale.T("round.status." + string(st)) },
}

// parsePages parses every page, each with the template functions it uses: every template is
// registered here, so that a missing one fails at start.
func parsePages() (map[string]*template.Template, error) {
	pages := map[string]*template.Template{}
	for _, set := range []struct {
		names []string
		funcs template.FuncMap
	}{{uiPages, nil}, {complaintPages, complaintFuncs}, {roundPages, roundFuncs}} {
		for _, p := range set.names {
			t, err := Parse(p, uiFuncs, set.funcs)
			if err != nil {
				return nil, fmt.Errorf("supervision: %w", err)
			}
			pages[p] = t
		}
	}
	return pages, nil
}

// Request is one request of a signed-in user.
type Request struct {
	user voucherwatch.User
	sess session
}

// PageHandler is a page of signed-in users (Page).
type PageHandler func(w http.ResponseWriter, r *http.Request, q Request)

// Page serves a UI route to signed-in users: others are sent to sign in (GET) or refused
// (POST). Every POST must carry the session's CSRF token and come from this site.
func (h *Handler) Page(page PageHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ss, u, ok, err := h.sessionUser(r)
		if err != nil {
			h.Log.Error("supervision: ui session", "err", err)
			h.renderError(w, r, Request{}, http.StatusInternalServerError, locale.T("error.internal"))
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
		q := Request{user: u, sess: ss}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, api.MaxBodyBytes)
			if !sameOrigin(r) || !validToken(r.PostFormValue("csrf"), h.csrfToken(ss)) {
				h.renderError(w, r, q, http.StatusForbidden, locale.T("error.csrf"))
				return
			}
		}
		page(w, r, q)
	})
}

// render writes a page with the headers every page has.
func (h *Handler) render(w http.ResponseWriter, status int, page string, d PageData) {
	t, ok := h.pages[page]
	if !ok {
		panic("supervision: unregistered page " + page)
	}
	Write(w, status, page, t, d, h.Log, locale.T("error.internal"))
}

// data starts the page data of a signed-in user's request.
func (h *Handler) data(r *http.Request, q Request, title, nav string) PageData {
	d := PageData{Title: title, Nav: nav, User: q.user}
	if q.user.ID != "" {
		d.CSRF = h.csrfToken(q.sess)
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
func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, q Request, status int, msg string) {
	heading := locale.T("error.page.internal")
	switch status {
	case http.StatusNotFound:
		heading = locale.T("error.page.not_found")
	case http.StatusForbidden:
		heading = locale.T("error.page.forbidden")
	case http.StatusBadRequest:
		heading = locale.T("error.page.bad_request")
	}
	d := h.data(r, q, heading, "")
	d.Page = ErrorPage{Status: status, Heading: heading, Message: msg}
	h.render(w, status, "error", d)
}

// failPage answers an error of a page: a Chinese page with the status of its code. Internal
// errors are logged, not shown.
func (h *Handler) failPage(w http.ResponseWriter, r *http.Request, q Request, err error) {
	code := voucherwatch.ErrorCode(err)
	status, ok := api.Status(code)
	if !ok {
		h.Log.Error("supervision: ui request failed", "path", r.URL.Path, "err", err)
		status = http.StatusInternalServerError
	}
	h.renderError(w, r, q, status, uiErrorMessage(err))
}

// errStatus is the HTTP status of an error shown on a page.
func errStatus(err error) int {
	if st, ok := api.Status(voucherwatch.ErrorCode(err)); ok {
		return st
	}
	return http.StatusInternalServerError
}
