package supervision

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/voucherwatch/voucherwatch"
)

// TestOperatorRoutesByRole: the province-wide operating figures (ingest status, dead letters,
// detector health) answer every province role and 403 to city reviewers.
func TestOperatorRoutesByRole(t *testing.T) {
	s, wf, _ := newWorkflowServer(t)
	s.registerAlertRoutes(AlertDeps{Alerts: wf, DetectorHealth: func() voucherwatch.DetectorHealthReport {
		return voucherwatch.DetectorHealthReport{Detectors: []voucherwatch.DetectorHealth{{Detector: "duplicate_claim"}}}
	}})
	s.api.IngestStatus = func(context.Context) (voucherwatch.IngestStatus, error) { return voucherwatch.IngestStatus{}, nil }
	s.api.DeadLetters = func(context.Context) (any, error) { return []string{"全省"}, nil }
	want := map[string]int{"admin": 200, "province": 200, "auditor": 200, "changsha": 403, "zhuzhou": 403}
	for _, path := range []string{"/api/v1/status", "/api/v1/deadletters", "/api/v1/detectors"} {
		for token, code := range want {
			if got, body := do(t, s, "GET", path, token, nil); got != code {
				t.Errorf("GET %s as %s: got %d %v, want %d", path, token, got, body, code)
			}
		}
	}
}

// TestUserListHidesOthersLogins: only administrators see the logins others sign in with; a
// city reviewer sees whom it may assign to, and its own login only.
func TestUserListHidesOthersLogins(t *testing.T) {
	s, _, users := newWorkflowServer(t)
	for id, login := range map[string]string{"u_admin": "sheng.admin", "u_cs": "changsha.1", "u_prov": "sheng.review"} {
		u := users.users[id]
		u.Login = login
		users.users[id] = u
	}
	list := func(token string) string {
		req := httptest.NewRequest("GET", "/api/v1/users", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		var body struct{ Users []voucherwatch.User }
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		var logins []string
		for _, u := range body.Users {
			logins = append(logins, u.ID+"="+u.Login)
		}
		return strings.Join(logins, ",")
	}
	if got := list("changsha"); got != "u_admin=,u_cs=changsha.1,u_prov=" {
		t.Errorf("city reviewer: got %s, want only its own login", got)
	}
	if got := list("admin"); !strings.Contains(got, "u_admin=sheng.admin") || !strings.Contains(got, "u_prov=sheng.review") {
		t.Errorf("administrator: got %s, want every login", got)
	}
}
