package supervision

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
	"github.com/voucherwatch/voucherwatch/supervision/ui"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// loginPage is the data of the sign-in page.
type loginPage struct {
	Login string // as typed, shown again after a failure; never the password
	Next  string
	CSRF  string
}

// showLogin answers GET /login: the sign-in form, or straight on when already signed in. The
// form's CSRF token is bound to a pre-session cookie (double submit), so that another site
// cannot sign a browser in to an account of its choosing.
func (s *Server) showLogin(w http.ResponseWriter, r *http.Request) {
	next := ui.LocalPath(r.URL.Query().Get("next"))
	if _, _, ok, err := s.sessionUser(r); err == nil && ok {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	s.renderLogin(w, r, http.StatusOK, loginPage{Next: next}, "")
}

// renderLogin renders the sign-in form with a fresh pre-session nonce when the browser has
// none.
func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, p loginPage, errMsg string) {
	nonce := ""
	if c, err := r.Cookie(loginCSRFCookie); err == nil && len(c.Value) >= 16 && len(c.Value) <= 64 {
		nonce = c.Value
	} else {
		nonce = newNonce()
		s.setCookie(w, loginCSRFCookie, nonce, time.Hour)
	}
	p.CSRF = s.loginCSRFToken(nonce)
	d := ui.PageData{Title: locale.T("login.title"), Error: errMsg, Page: p}
	s.render(w, status, "login", d)
}

// postLogin answers POST /login (login, password, csrf, next): a session cookie and a
// redirect (303) to next on success; the form again with one message for every failure, so
// that it does not tell whether the login exists. An unknown login is checked against a dummy
// hash, so that it takes as long as a wrong password.
func (s *Server) postLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	login := strings.TrimSpace(r.PostFormValue("login"))
	password := r.PostFormValue("password")
	next := ui.LocalPath(r.PostFormValue("next"))
	c, err := r.Cookie(loginCSRFCookie)
	if err != nil || !sameOrigin(r) || !validToken(r.PostFormValue("csrf"), s.loginCSRFToken(c.Value)) {
		s.renderError(w, r, uiRequest{}, http.StatusForbidden, locale.T("error.csrf"))
		return
	}
	now := s.workflow.now()
	addr := clientAddress(r)
	until := s.ui.throttle.lockedUntil(login, now)
	if u := s.ui.addrThrottle.lockedUntil(addr, now); u.After(until) {
		until = u
	}
	if !until.IsZero() {
		minutes := int(until.Sub(now).Minutes()) + 1
		s.Log.Info("supervision: sign-in throttled", "login", loginForLog(login), "remote", r.RemoteAddr)
		s.renderLogin(w, r, http.StatusTooManyRequests, loginPage{Login: login, Next: next}, fmt.Sprintf(locale.T("login.throttled"), minutes))
		return
	}
	u, hash, err := s.workflow.Users.UserByLogin(r.Context(), login)
	switch voucherwatch.ErrorCode(err) {
	case "":
	case voucherwatch.ENOTFOUND:
		hash = ""
	default:
		s.Log.Error("supervision: sign-in", "err", err)
		s.renderError(w, r, uiRequest{}, http.StatusInternalServerError, locale.T("error.internal"))
		return
	}
	ok := false
	if hash != "" && len(password) <= 72 {
		ok = CheckPassword(hash, password)
	} else {
		CheckPassword(s.dummyHash(), password) // as long as a real check; the answer is no
	}
	if !ok || err != nil {
		s.ui.throttle.failed(login, now)
		s.ui.addrThrottle.failed(addr, now)
		s.Log.Info("supervision: sign-in refused", "login", loginForLog(login), "remote", r.RemoteAddr)
		s.renderLogin(w, r, http.StatusUnauthorized, loginPage{Login: login, Next: next}, locale.T("login.failed"))
		return
	}
	s.ui.throttle.succeeded(login)
	s.sessions.forget(u.ID)
	s.newSession(w, u, hash)
	s.setCookie(w, loginCSRFCookie, "", -1)
	s.Log.Info("supervision: signed in", "user", u.ID, "role", u.Role)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// postLogout answers POST /logout: the session is revoked on every instance (a copy of the
// cookie no longer works), the cookie cleared and the browser sent to the sign-in page. The
// CSRF token is required so that another site cannot sign a user out.
func (s *Server) postLogout(w http.ResponseWriter, r *http.Request) {
	ss, u, ok, err := s.sessionUser(r)
	if err == nil && ok {
		if !sameOrigin(r) || !validToken(r.PostFormValue("csrf"), s.csrfToken(ss)) {
			s.renderError(w, r, uiRequest{user: u, sess: ss}, http.StatusForbidden, locale.T("error.csrf"))
			return
		}
		if err := s.revokeSession(r.Context(), ss); err != nil {
			// Revoked on this instance; the others still take the cookie until it expires.
			s.Log.Error("supervision: sign-out not recorded for the other instances", "user", u.ID, "err", err)
		}
		s.Log.Info("supervision: signed out", "user", u.ID)
	}
	s.setCookie(w, sessionCookie, "", -1)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// dummyHash is a bcrypt hash of a random password, at the cost of real ones.
func (s *Server) dummyHash() string {
	s.ui.dummyOnce.Do(func() {
		h, err := HashPassword(workflow.RandomHex(16))
		if err != nil {
			panic(err)
		}
		s.ui.dummyHash = h
	})
	return s.ui.dummyHash
}

// loginForLog is a login name as logs may show it: valid logins as typed, anything else (a
// password typed into the login field, say) only by its length.
func loginForLog(login string) string {
	if _, err := voucherwatch.CheckNewUser(voucherwatch.User{Name: "x", Login: login, Role: voucherwatch.RoleAuditor}); err == nil && login != "" {
		return login
	}
	return "(invalid, " + itoa(len(login)) + " bytes)"
}
