package ui

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// sessionNow is the fixed clock of the session tests.
var sessionNow = time.Date(2026, 11, 26, 10, 0, 0, 0, voucherwatch.CST)

// sessionHash stands for a user's bcrypt hash: sessions carry a keyed fingerprint of it, and
// the tests here never check a password.
const sessionHash = "$2a$11$fixedhashforthesessiontestsonly000000000000000000000"

var sessionUsers = map[string]voucherwatch.User{
	"admin":    {ID: "u_admin", Name: "省管理员", Login: "admin", Role: voucherwatch.RoleProvinceAdmin},
	"changsha": {ID: "u_cs", Name: "长沙审核员", Login: "changsha", Role: voucherwatch.RoleCityReviewer, City: "430100"},
}

// sessionStore is the user store of the session tests: the users above, each with
// sessionHash. Nothing else of the store is called.
type sessionStore struct{ voucherwatch.UserStore }

func (sessionStore) User(_ context.Context, id string) (voucherwatch.User, error) {
	for _, u := range sessionUsers {
		if u.ID == id {
			return u, nil
		}
	}
	return voucherwatch.User{}, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "user %s not found", id)
}

func (sessionStore) UserByLogin(_ context.Context, login string) (voucherwatch.User, string, error) {
	if u, ok := sessionUsers[login]; ok {
		return u, sessionHash, nil
	}
	return voucherwatch.User{}, "", voucherwatch.Errorf(voucherwatch.ENOTFOUND, "login %s not found", login)
}

// sessionHandler is a web UI with the account page only, whose page needs a session and
// nothing else.
type sessionHandler struct {
	h   *Handler
	mux *http.ServeMux
}

func newSessionHandler(t *testing.T, key []byte) *sessionHandler {
	t.Helper()
	h, err := New(Deps{Settings: Settings{SessionKey: key, SessionCacheTTL: -1}, Alerts: struct{ voucherwatch.AlertStore }{},
		Workflow: workflow.Service{Users: sessionStore{}, Now: func() time.Time { return sessionNow }}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /account", h.Page(h.ShowAccount))
	return &sessionHandler{h: h, mux: mux}
}

// sessionCookieFor builds a cookie for the user as the server would sign it, with the given
// times.
func sessionCookieFor(s *sessionHandler, u voucherwatch.User, issued, expires time.Time) *http.Cookie {
	ss := session{UserID: u.ID, Issued: issued.Unix(), Expires: expires.Unix(), Nonce: "n", Password: s.h.passwordFingerprint(sessionHash)}
	return &http.Cookie{Name: sessionCookie, Value: s.h.encodeSession(ss)}
}

// TestSessionCookieChecks: only a cookie this key signed, unchanged, within its times and no
// longer than a session lasts, signs a user in.
func TestSessionCookieChecks(t *testing.T) {
	s := newSessionHandler(t, DeriveSessionKey("test-pii-key"))
	other := newSessionHandler(t, DeriveSessionKey("another-pii-key"))
	cs := sessionUsers["changsha"]
	valid := sessionCookieFor(s, cs, sessionNow.Add(-time.Hour), sessionNow.Add(time.Hour))

	tamper := func(c *http.Cookie) *http.Cookie {
		// The payload names the administrator instead; the signature stays the old one.
		parts := strings.Split(c.Value, ".")
		forged := sessionCookieFor(s, sessionUsers["admin"], sessionNow.Add(-time.Hour), sessionNow.Add(time.Hour))
		parts[1] = strings.Split(forged.Value, ".")[1]
		return &http.Cookie{Name: sessionCookie, Value: strings.Join(parts, ".")}
	}
	for _, tc := range []struct {
		name   string
		cookie *http.Cookie
		want   int
	}{
		{"valid", valid, http.StatusOK},
		{"tampered payload", tamper(valid), http.StatusSeeOther},
		{"expired", sessionCookieFor(s, cs, sessionNow.Add(-9*time.Hour), sessionNow.Add(-time.Hour)), http.StatusSeeOther},
		{"issued in the future", sessionCookieFor(s, cs, sessionNow.Add(time.Hour), sessionNow.Add(9*time.Hour)), http.StatusSeeOther},
		{"signed with another key", sessionCookieFor(other, cs, sessionNow.Add(-time.Hour), sessionNow.Add(time.Hour)), http.StatusSeeOther},
		{"lasting ten years", sessionCookieFor(s, cs, sessionNow.Add(-time.Hour), sessionNow.AddDate(10, 0, 0)), http.StatusSeeOther},
		{"garbage", &http.Cookie{Name: sessionCookie, Value: "v1.e30.AAAA"}, http.StatusSeeOther},
	} {
		req := httptest.NewRequest("GET", "/account", nil)
		req.AddCookie(tc.cookie)
		rec := httptest.NewRecorder()
		s.mux.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, rec.Code, tc.want)
		}
	}
}

// TestSignInThrottleWindow: failures count within the lockout window and the memory of them
// stays bounded.
func TestSignInThrottleWindow(t *testing.T) {
	var th signInThrottle
	t0 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	for i := range MaxSignInFailures {
		if !th.lockedUntil("a", t0).IsZero() {
			t.Fatalf("locked after %d failures", i)
		}
		th.failed("a", t0.Add(time.Duration(i)*time.Minute))
	}
	now := t0.Add(5 * time.Minute)
	if got, want := th.lockedUntil("a", now), t0.Add(SignInLockout); !got.Equal(want) {
		t.Errorf("locked until %v, want %v (the oldest failure plus the lockout)", got, want)
	}
	if !th.lockedUntil("b", now).IsZero() {
		t.Error("another login is locked")
	}
	// Once the oldest failure is out of the window, one more try is allowed.
	if got := th.lockedUntil("a", t0.Add(SignInLockout+time.Second)); !got.IsZero() {
		t.Errorf("after the window: locked until %v", got)
	}
	th.failed("a", t0.Add(SignInLockout+time.Second))
	if th.lockedUntil("a", t0.Add(SignInLockout+2*time.Second)).IsZero() {
		t.Error("five failures within the window again: want locked")
	}
	// A flood of made-up logins stays bounded.
	for i := range maxThrottled + 10 {
		th.failed(fmt.Sprintf("x%d", i), t0.Add(time.Hour+time.Duration(i)*time.Millisecond))
	}
	if n := len(th.failures); n > maxThrottled {
		t.Errorf("remembered %d logins, want at most %d", n, maxThrottled)
	}
}
