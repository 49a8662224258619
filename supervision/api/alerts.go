package api

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// ListAlerts answers GET /api/v1/alerts: the alerts u may see, filtered and sorted by the query.
func (h *Handler) ListAlerts(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	q := r.URL.Query()
	f := voucherwatch.AlertFilter{
		Detector: q.Get("detector"),
		Status:   voucherwatch.Status(q.Get("status")),
		Severity: voucherwatch.Severity(q.Get("severity")),
		Cursor:   q.Get("cursor"),
	}
	var err error
	if f.Sort, err = workflow.AlertSort(q.Get("sort")); err != nil {
		WriteError(w, err)
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
			WriteError(w, voucherwatch.FieldErrorf("city", "unknown 市州 %q", c))
			return
		}
		f.City = code
	}
	if scope := workflow.CityScope(u); scope != "" {
		if f.City != "" && f.City != scope {
			WriteJSON(w, http.StatusOK, map[string]any{"alerts": []voucherwatch.Alert{}, "next_cursor": ""})
			return
		}
		f.City = scope
	}
	if v := q.Get("since"); v != "" {
		t, err := parseQueryTime("since", v)
		if err != nil {
			WriteError(w, err)
			return
		}
		f.Since = t
	}
	if err := workflow.CheckAlertFilter(f, ""); err != nil {
		WriteError(w, err)
		return
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			WriteError(w, voucherwatch.FieldErrorf("limit", "want 1..1000, got %q", v))
			return
		}
		f.Limit = n
	}
	switch f.Severity {
	case "", voucherwatch.SeverityHigh, voucherwatch.SeverityMedium, voucherwatch.SeverityLow:
	default:
		WriteError(w, voucherwatch.FieldErrorf("severity", "want high, medium or low, got %q", f.Severity))
		return
	}
	list := func() ([]byte, error) {
		alerts, next, err := h.Alerts.Alerts(r.Context(), f)
		if err != nil {
			return nil, err
		}
		if alerts == nil {
			alerts = []voucherwatch.Alert{}
		}
		return encodeJSON(map[string]any{"alerts": alerts, "next_cursor": next})
	}
	var body []byte
	if counter, ok := h.Alerts.(AlertWriteCounter); ok && h.ListTTL >= 0 {
		body, err = h.lists.get(r.Context(), alertListKey(f), counter.AlertWrites(), h.ListTTL, list)
	} else {
		body, err = list()
	}
	if err != nil {
		h.Fail(w, err)
		return
	}
	writeJSONBody(w, http.StatusOK, body)
}

// GetAlert answers GET /api/v1/alerts/{id}; another city's alert is 404 to a city reviewer.
func (h *Handler) GetAlert(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	a, err := h.Alerts.Alert(r.Context(), r.PathValue("id"))
	if err == nil && workflow.CityScope(u) != "" && a.City != workflow.CityScope(u) {
		// Another city's alert does not exist for this user.
		err = voucherwatch.Errorf(voucherwatch.ENOTFOUND, "alert %s not found", r.PathValue("id"))
	}
	if err != nil {
		h.Fail(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, a)
}

// GetAssessment answers GET /api/v1/claims/{id}/assessment: the claim's assessment and the alerts
// weighed with it.
func (h *Handler) GetAssessment(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	id := r.PathValue("id")
	a, err := h.Assess(r.Context(), id)
	if err == nil && workflow.CityScope(u) != "" && a.City != workflow.CityScope(u) {
		err = voucherwatch.Errorf(voucherwatch.ENOTFOUND, "claim %s not found", id)
	}
	if err != nil {
		h.Fail(w, err)
		return
	}
	onClaim, err := workflow.ClaimAlerts(r.Context(), h.Alerts, a.ApplicantUSCC, id)
	if err != nil {
		h.Fail(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"assessment": a, "alerts": onClaim})
}

// alertListKey is the list a filter selects, as listCache keeps it: the filter after the
// caller's scope is applied (city, assignee=me), so callers who see the same list share it.
func alertListKey(f voucherwatch.AlertFilter) string {
	return fmt.Sprintf("%q %q %q %q %q %q %q %d %d %q %q", f.Detector, f.Status, f.Severity, f.City, f.ApplicantUSCC,
		f.AssigneeID, f.Sort, f.Since.UnixNano(), f.Limit, f.Cursor, f.IDs)
}
