package supervision

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/rules"
)

// fakeAlerts is a hand-written AlertStore over a slice; it honours the city and status
// filters, which is what the handlers rely on.
type fakeAlerts struct {
	alerts   []voucherwatch.Alert
	lastSeen voucherwatch.AlertFilter
}

func (f *fakeAlerts) UpsertAlerts(context.Context, []voucherwatch.Alert, time.Time) (voucherwatch.UpsertResult, error) {
	return voucherwatch.UpsertResult{}, nil
}

func (f *fakeAlerts) Alerts(_ context.Context, flt voucherwatch.AlertFilter) ([]voucherwatch.Alert, string, error) {
	f.lastSeen = flt
	var out []voucherwatch.Alert
	for _, a := range f.alerts {
		if (flt.City == "" || a.City == flt.City) && (flt.ApplicantUSCC == "" || a.Subjects.ApplicantUSCC == flt.ApplicantUSCC) {
			out = append(out, a)
		}
	}
	return out, "", nil
}

func (f *fakeAlerts) Alert(_ context.Context, id string) (voucherwatch.Alert, error) {
	for _, a := range f.alerts {
		if a.ID == id {
			return a, nil
		}
	}
	return voucherwatch.Alert{}, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "alert %s not found", id)
}

func newAlertServer(t *testing.T) (*Server, *fakeAlerts) {
	t.Helper()
	store := &fakeAlerts{alerts: []voucherwatch.Alert{
		{ID: "al_cs", Detector: "duplicate_claim", City: "430100", Subjects: voucherwatch.Subjects{ApplicantUSCC: "A", ClaimID: "C1"}},
		{ID: "al_zz", Detector: "price_out_of_range", City: "430200", Subjects: voucherwatch.Subjects{ApplicantUSCC: "B"}},
		{ID: "al_other_claim", Detector: "duplicate_claim", City: "430100", Subjects: voucherwatch.Subjects{ApplicantUSCC: "A", ClaimID: "C2"}},
	}}
	s := newServer()
	s.registerAlertRoutes(AlertDeps{
		Alerts:         store,
		RunDetectors:   func(context.Context) []voucherwatch.DetectorRun { return []voucherwatch.DetectorRun{{Detector: "ran"}} },
		DetectorHealth: func() voucherwatch.DetectorHealthReport { return voucherwatch.DetectorHealthReport{} },
		Policy:         rules.Policy{Version: "test"},
		Assess: func(_ context.Context, id string) (voucherwatch.ClaimAssessment, error) {
			if id != "C1" {
				return voucherwatch.ClaimAssessment{}, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "claim %s not found", id)
			}
			return voucherwatch.ClaimAssessment{ClaimID: "C1", ApplicantUSCC: "A", City: "430100"}, nil
		},
	})
	s.AddToken("admin", voucherwatch.User{ID: "1", Role: voucherwatch.RoleProvinceAdmin})
	s.AddToken("changsha", voucherwatch.User{ID: "2", Role: voucherwatch.RoleCityReviewer, City: "430100"})
	s.AddToken("auditor", voucherwatch.User{ID: "3", Role: voucherwatch.RoleAuditor})
	return s, store
}

func call(t *testing.T, s *Server, method, path, token string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	var body map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	return rec.Code, body
}

func TestAlertRoutes(t *testing.T) {
	s, store := newAlertServer(t)
	for _, tc := range []struct {
		name, method, path, token string
		want                      int
		wantIDs                   []string // for lists: the alert ids answered
	}{
		{"no token", "GET", "/api/v1/alerts", "", 401, nil},
		{"unknown token", "GET", "/api/v1/alerts", "nope", 401, nil},
		{"admin sees every city", "GET", "/api/v1/alerts", "admin", 200, []string{"al_cs", "al_zz", "al_other_claim"}},
		{"admin filters by city name", "GET", "/api/v1/alerts?city=株洲市", "admin", 200, []string{"al_zz"}},
		{"city reviewer sees only its city", "GET", "/api/v1/alerts", "changsha", 200, []string{"al_cs", "al_other_claim"}},
		{"city reviewer asking for another city gets nothing", "GET", "/api/v1/alerts?city=430200", "changsha", 200, []string{}},
		{"another city's alert does not exist", "GET", "/api/v1/alerts/al_zz", "changsha", 404, nil},
		{"own city's alert", "GET", "/api/v1/alerts/al_cs", "changsha", 200, nil},
		{"missing alert", "GET", "/api/v1/alerts/al_none", "admin", 404, nil},
		{"bad since", "GET", "/api/v1/alerts?since=yesterday", "admin", 400, nil},
		{"bad limit", "GET", "/api/v1/alerts?limit=0", "admin", 400, nil},
		{"bad severity", "GET", "/api/v1/alerts?severity=urgent", "admin", 400, nil},
		{"unknown city", "GET", "/api/v1/alerts?city=北京市", "admin", 400, nil},
		{"city reviewer may not run detectors", "POST", "/api/v1/detectors/run", "changsha", 403, nil},
		{"auditor may not run detectors", "POST", "/api/v1/detectors/run", "auditor", 403, nil},
		{"admin runs detectors", "POST", "/api/v1/detectors/run", "admin", 200, nil},
		{"rules", "GET", "/api/v1/rules", "auditor", 200, nil},
		{"assessment", "GET", "/api/v1/claims/C1/assessment", "changsha", 200, nil},
		{"assessment of a missing claim", "GET", "/api/v1/claims/C9/assessment", "admin", 404, nil},
		{"unknown route", "GET", "/api/v1/nothing", "admin", 404, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := call(t, s, tc.method, tc.path, tc.token)
			if code != tc.want {
				t.Fatalf("got %d %v, want %d", code, body, tc.want)
			}
			if tc.wantIDs == nil {
				return
			}
			list, _ := body["alerts"].([]any)
			var got []string
			for _, a := range list {
				got = append(got, a.(map[string]any)["id"].(string))
			}
			if strings.Join(got, ",") != strings.Join(tc.wantIDs, ",") {
				t.Errorf("got ids %v, want %v", got, tc.wantIDs)
			}
		})
	}
	if code, body := call(t, s, "GET", "/api/v1/alerts?since=yesterday", "admin"); code == 400 {
		if e, _ := body["error"].(map[string]any); e["field"] != "since" {
			t.Errorf("got error %v, want it to name the field since", body)
		}
	}
	_, _ = call(t, s, "GET", "/api/v1/alerts?detector=resale&status=dismissed", "admin")
	if store.lastSeen.Detector != "resale" || store.lastSeen.Status != voucherwatch.StatusDismissed {
		t.Errorf("got filter %+v, want detector resale and status dismissed passed to the store", store.lastSeen)
	}
}

func TestAssessmentListsTheClaimsAlerts(t *testing.T) {
	s, _ := newAlertServer(t)
	code, body := call(t, s, "GET", "/api/v1/claims/C1/assessment", "admin")
	if code != http.StatusOK {
		t.Fatalf("got %d %v", code, body)
	}
	alerts, _ := body["alerts"].([]any)
	if len(alerts) != 1 || alerts[0].(map[string]any)["id"] != "al_cs" {
		t.Errorf("got alerts %v, want only al_cs (the other claim's alert is not this claim's)", alerts)
	}
}
