package ui

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// loginPage is the data of the sign-in page.
type loginPage struct {
	Login string // as typed, shown again after a failure; never the password
	Next  string
	CSRF  string
}

// ShowLogin answers GET /login: the sign-in form, or straight on when already signed in. The
// form's CSRF token is bound to a pre-session cookie (double submit), so that another site
// cannot sign a browser in to an account of its choosing.
func (h *Handler) ShowLogin(w http.ResponseWriter, r *http.Request) {
	next := LocalPath(r.URL.Query().Get("next"))
	if _, _, ok, err := h.sessionUser(r); err == nil && ok {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	h.renderLogin(w, r, http.StatusOK, loginPage{Next: next}, "")
}

// renderLogin renders the sign-in form with a fresh pre-session nonce when the browser has
// none.
func (h *Handler) renderLogin(w http.ResponseWriter, r *http.Request, status int, p loginPage, errMsg string) {
	nonce := ""
	if c, err := r.Cookie(loginCSRFCookie); err == nil && len(c.Value) >= 16 && len(c.Value) <= 64 {
		nonce = c.Value
	} else {
		nonce = newNonce()
		h.setCookie(w, loginCSRFCookie, nonce, time.Hour)
	}
	p.CSRF = h.loginCSRFToken(nonce)
	d := PageData{Title: locale.T("login.title"), Error: errMsg, Page: p}
	h.render(w, status, "login", d)
}

// PostLogin answers POST /login (login, password, csrf, next): a session cookie and a
// redirect (303) to next on success; the form again with one message for every failure, so
// that it does not tell whether the login exists. An unknown login is checked against a dummy
// hash, so that it takes as long as a wrong password.
func (h *Handler) PostLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	login := strings.TrimSpace(r.PostFormValue("login"))
	password := r.PostFormValue("password")
	next := LocalPath(r.PostFormValue("next"))
	c, err := r.Cookie(loginCSRFCookie)
	if err != nil || !sameOrigin(r) || !validToken(r.PostFormValue("csrf"), h.loginCSRFToken(c.Value)) {
		h.renderError(w, r, Request{}, http.StatusForbidden, locale.T("error.csrf"))
		return
	}
	now := h.Workflow.Clock()
	addr := clientAddress(r)
	until := h.throttle.lockedUntil(login, now)
	if u := h.addrThrottle.lockedUntil(addr, now); u.After(until) {
		until = u
	}
	if !until.IsZero() {
		minutes := int(until.Sub(now).Minutes()) + 1
		h.Log.Info("supervision: sign-in throttled", "login", loginForLog(login), "remote", r.RemoteAddr)
		h.renderLogin(w, r, http.StatusTooManyRequests, loginPage{Login: login, Next: next}, fmt.Sprintf(locale.T("login.throttled"), minutes))
		return
	}
	u, hash, err := h.Workflow.Users.UserByLogin(r.Context(), login)
	switch voucherwatch.ErrorCode(err) {
	case "":
	case voucherwatch.ENOTFOUND:
		hash = ""
	default:
		h.Log.Error("supervision: sign-in", "err", err)
		h.renderError(w, r, Request{}, http.StatusInternalServerError, locale.T("error.internal"))
		return
	}
	ok := false
	if hash != "" && len(password) <= 72 {
		ok = workflow.CheckPassword(hash, password)
	} else {
		workflow.CheckPassword(h.dummyHash(), password) // as long as a real check; the answer is no
	}
	if !ok || err != nil {
		h.throttle.failed(login, now)
		h.addrThrottle.failed(addr, now)
		h.Log.Info("supervision: sign-in refused", "login", loginForLog(login), "remote", r.RemoteAddr)
		h.renderLogin(w, r, http.StatusUnauthorized, loginPage{Login: login, Next: next}, locale.T("login.failed"))
		return
	}
	h.throttle.succeeded(login)
	h.sessions.forget(u.ID)
	h.newSession(w, u, hash)
	h.setCookie(w, loginCSRFCookie, "", -1)
	h.Log.Info("supervision: signed in", "user", u.ID, "role", u.Role)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// PostLogout answers POST /logout: the session is revoked on every instance (a copy of the
// cookie no longer works), the cookie cleared and the browser sent to the sign-in page. The
// CSRF token is required so that another site cannot sign a user out.
func (h *Handler) PostLogout(w http.ResponseWriter, r *http.Request) {
	ss, u, ok, err := h.sessionUser(r)
	if err == nil && ok {
		if !sameOrigin(r) || !validToken(r.PostFormValue("csrf"), h.csrfToken(ss)) {
			h.renderError(w, r, Request{user: u, sess: ss}, http.StatusForbidden, locale.T("error.csrf"))
			return
		}
		if err := h.revokeSession(r.Context(), ss); err != nil {
			// Revoked on this instance; the others still take the cookie until it expires.
			h.Log.Error("supervision: sign-out not recorded for the other instances", "user", u.ID, "err", err)
		}
		h.Log.Info("supervision: signed out", "user", u.ID)
	}
	h.setCookie(w, sessionCookie, "", -1)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// dummyHash is a bcrypt hash of a random password, at the cost of real ones.
func (h *Handler) dummyHash() string {
	h.dummyOnce.Do(func() {
		hash, err := workflow.HashPassword(workflow.RandomHex(16))
		if err != nil {
			panic(err)
		}
		h.dummyHashValue = hash
	})
	return h.dummyHashValue
}

// loginForLog is a login name as logs may show it: valid logins as typed, anything else (a
// password typed into the login field, say) only by its length.
func loginForLog(login string) string {
	if _, err := voucherwatch.CheckNewUser(voucherwatch.User{Name: "x", Login: login, Role: voucherwatch.RoleAuditor}); err == nil && login != "" {
		return login
	}
	return "(invalid, " + itoa(len(login)) + " bytes)"
}
