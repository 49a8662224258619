package supervision

import (
	"context"
	"net/http"
	"strconv"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/rules"
	"github.com/voucherwatch/voucherwatch/supervision/api"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// AlertDeps are the dependencies of the alert and detector routes.
type AlertDeps struct {
	// Alerts lists and reads alerts.
	Alerts voucherwatch.AlertStore
	// RunDetectors runs every detector now and answers a summary per detector.
	RunDetectors func(ctx context.Context) []voucherwatch.DetectorRun
	// DetectorHealth answers each detector's health.
	DetectorHealth func() voucherwatch.DetectorHealthReport
	// Policy is the policy configuration in force, served as is.
	Policy rules.Policy
	// Assess answers a claim's assessment; the applicant and its city (for access checks) are
	// in it. ENOTFOUND when there is no such claim.
	Assess func(ctx context.Context, claimID string) (voucherwatch.ClaimAssessment, error)
}

// registerAlertRoutes adds the alert, detector, rules and claim routes.
func (s *Server) registerAlertRoutes(d AlertDeps) {
	s.alerts = d
	s.mux.Handle("GET /api/v1/alerts", s.authed(s.listAlerts))
	s.mux.Handle("GET /api/v1/alerts/{id}", s.authed(s.getAlert))
	s.mux.Handle("POST /api/v1/detectors/run", s.authed(s.runDetectors))
	s.mux.Handle("GET /api/v1/detectors", s.authed(s.detectorHealth))
	s.mux.Handle("GET /api/v1/rules", s.authed(s.getRules))
	s.mux.Handle("GET /api/v1/claims/{id}/assessment", s.authed(s.getAssessment))
}

func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	q := r.URL.Query()
	f := voucherwatch.AlertFilter{
		Detector: q.Get("detector"),
		Status:   voucherwatch.Status(q.Get("status")),
		Severity: voucherwatch.Severity(q.Get("severity")),
		Cursor:   q.Get("cursor"),
	}
	var err error
	if f.Sort, err = workflow.AlertSort(q.Get("sort")); err != nil {
		api.WriteError(w, err)
		return
	}
	// assignee=me is the caller's own queue; another user's id, someone else's.
	if v := q.Get("assignee"); v == "me" {
		f.AssigneeID = u.ID
	} else {
		f.AssigneeID = v
	}
	if c := q.Get("city"); c != "" {
		code, ok := voucherwatch.CityCode(c)
		if !ok {
			api.WriteError(w, voucherwatch.FieldErrorf("city", "unknown 市州 %q", c))
			return
		}
		f.City = code
	}
	if scope := workflow.CityScope(u); scope != "" {
		if f.City != "" && f.City != scope {
			api.WriteJSON(w, http.StatusOK, map[string]any{"alerts": []voucherwatch.Alert{}, "next_cursor": ""})
			return
		}
		f.City = scope
	}
	if v := q.Get("since"); v != "" {
		t, err := parseQueryTime("since", v)
		if err != nil {
			api.WriteError(w, err)
			return
		}
		f.Since = t
	}
	if err := workflow.CheckAlertFilter(f, ""); err != nil {
		api.WriteError(w, err)
		return
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			api.WriteError(w, voucherwatch.FieldErrorf("limit", "want 1..1000, got %q", v))
			return
		}
		f.Limit = n
	}
	switch f.Severity {
	case "", voucherwatch.SeverityHigh, voucherwatch.SeverityMedium, voucherwatch.SeverityLow:
	default:
		api.WriteError(w, voucherwatch.FieldErrorf("severity", "want high, medium or low, got %q", f.Severity))
		return
	}
	alerts, next, err := s.alerts.Alerts.Alerts(r.Context(), f)
	if err != nil {
		s.fail(w, err)
		return
	}
	if alerts == nil {
		alerts = []voucherwatch.Alert{}
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"alerts": alerts, "next_cursor": next})
}

func (s *Server) getAlert(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	a, err := s.alerts.Alerts.Alert(r.Context(), r.PathValue("id"))
	if err == nil && workflow.CityScope(u) != "" && a.City != workflow.CityScope(u) {
		// Another city's alert does not exist for this user.
		err = voucherwatch.Errorf(voucherwatch.ENOTFOUND, "alert %s not found", r.PathValue("id"))
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, a)
}

func (s *Server) runDetectors(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if u.Role != voucherwatch.RoleProvinceAdmin && u.Role != voucherwatch.RoleProvinceReviewer {
		api.WriteError(w, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "only the province may run the detectors on demand"))
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"detectors": s.alerts.RunDetectors(r.Context())})
}

// detectorHealth answers GET /api/v1/detectors: each detector's health; 403 to city reviewers.
func (s *Server) detectorHealth(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if operatorOnly(w, u) {
		return
	}
	api.WriteJSON(w, http.StatusOK, s.alerts.DetectorHealth())
}

func (s *Server) getRules(w http.ResponseWriter, r *http.Request, _ voucherwatch.User) {
	api.WriteJSON(w, http.StatusOK, s.alerts.Policy)
}

func (s *Server) getAssessment(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	id := r.PathValue("id")
	a, err := s.alerts.Assess(r.Context(), id)
	if err == nil && workflow.CityScope(u) != "" && a.City != workflow.CityScope(u) {
		err = voucherwatch.Errorf(voucherwatch.ENOTFOUND, "claim %s not found", id)
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	onClaim, err := workflow.ClaimAlerts(r.Context(), s.alerts.Alerts, a.ApplicantUSCC, id)
	if err != nil {
		s.fail(w, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"assessment": a, "alerts": onClaim})
}

// fail answers an error, logging the ones that are the engine's fault.
func (s *Server) fail(w http.ResponseWriter, err error) {
	if voucherwatch.ErrorCode(err) == voucherwatch.EINTERNAL {
		s.Log.Error("supervision: request failed", "err", err)
	}
	api.WriteError(w, err)
}
