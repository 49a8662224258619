package supervision

import (
	"fmt"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/ui"
)

// TestSignInSprayThrottledPerAddress: one address trying one likely password on many logins,
// never more than once each (so no login's own count moves much), is stopped after
// ui.MaxSignInFailuresPerAddress failures, even for a login and password that are right; another
// address is not.
func TestSignInSprayThrottledPerAddress(t *testing.T) {
	s, _, users := newUIServer(t, ui.Settings{})
	for i := range ui.MaxSignInFailuresPerAddress + 5 {
		u := voucherwatch.User{ID: fmt.Sprintf("u_spray%d", i), Name: "审核员", Login: fmt.Sprintf("reviewer%d", i), Role: voucherwatch.RoleAuditor}
		users.users[u.ID] = u
		users.password[u.ID] = uiPasswordHash(t)
	}
	b := newBrowser(t, s)
	csrf := b.csrf("/login")
	cookies := b.c.Jar.Cookies(mustParse(t, b.base))
	try := func(addr, login, password string) int {
		form := url.Values{"login": {login}, "password": {password}, "csrf": {csrf}}
		req := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = addr + ":40000"
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		return rec.Code
	}
	for i := range ui.MaxSignInFailuresPerAddress {
		if code := try("203.0.113.7", fmt.Sprintf("reviewer%d", i), "Password123!"); code != http.StatusUnauthorized {
			t.Fatalf("spray %d: got %d, want 401", i, code)
		}
	}
	if code := try("203.0.113.7", "reviewer22", uiPassword); code != http.StatusTooManyRequests {
		t.Errorf("the spraying address with a right password: got %d, want 429", code)
	}
	if code := try("198.51.100.9", "reviewer22", uiPassword); code != http.StatusSeeOther {
		t.Errorf("another address: got %d, want 303", code)
	}
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestCommonPasswordsRefused: the most common passwords are refused whatever their case, with
// look-alikes that are fine.
func TestCommonPasswordsRefused(t *testing.T) {
	for _, pw := range []string{"password123", "Password123", "1234567890", "9876543210", "qwertyuiop", "woaini1314", "aaaaaaaaaaaa", "abcdefghijk", " 1qaz2wsx3edc "} {
		if _, err := workflow.HashPassword(pw); voucherwatch.ErrorCode(err) != voucherwatch.EINVALID {
			t.Errorf("%q: got %v, want refused", pw, err)
		}
	}
	for _, pw := range []string{"password123-长沙复核", "1234567890x7q", "长沙-correct-horse-42"} {
		if _, err := workflow.HashPassword(pw); err != nil {
			t.Errorf("%q: got %v, want accepted", pw, err)
		}
	}
	// The account page says why, in Chinese.
	s, _, _ := newUIServer(t, ui.Settings{})
	b := signedIn(t, s, "changsha")
	p := b.post("/account/password", url.Values{"current": {uiPassword}, "password": {"Password123"}, "csrf": {b.csrf("/account")}})
	if p.Code != http.StatusBadRequest || !strings.Contains(p.Body, "常见的弱密码") {
		t.Errorf("a common password on the account page: got %d, want 400 saying it is common", p.Code)
	}
}
