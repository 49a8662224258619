package supervision

import (
	"context"
	"net/http"
	"slices"

	"github.com/voucherwatch/voucherwatch"
)

// MaxBulkAlerts bounds how many alerts one bulk action touches. A filter that matches more is
// refused rather than applied in part: a reviewer narrows it and sees every alert acted on.
const MaxBulkAlerts = 1000

// bulkRequest is the body of POST /api/v1/alerts/bulk: a filter and a transition.
type bulkRequest struct {
	Filter bulkFilter `json:"filter"`
	transitionRequest
	// DryRun checks every alert and answers what would happen, recording nothing.
	DryRun bool `json:"dry_run"`
}

// bulkFilter selects the alerts of a bulk action, like the query of GET /api/v1/alerts, or by
// id. At least one criterion is required.
type bulkFilter struct {
	IDs           []string `json:"ids"`
	Detector      string   `json:"detector"`
	Status        string   `json:"status"`
	Severity      string   `json:"severity"`
	City          string   `json:"city"`
	ApplicantUSCC string   `json:"applicant_uscc"`
}

// bulkResult is what became of one alert: status is the HTTP status a single transition would
// have answered (201 recorded, 200 would be recorded in a dry run, 403, 404, 409).
type bulkResult struct {
	AlertID string              `json:"alert_id"`
	Status  int                 `json:"status"`
	Event   *voucherwatch.Event `json:"event,omitempty"`
	Error   map[string]string   `json:"error,omitempty"`
}

// postBulk answers POST /api/v1/alerts/bulk {"filter": {...}, "to", "comment", "deadline"?,
// "dry_run"?}: the transition is applied to every alert of the filtered list the user may see,
// each checked on its own, and the answer (200) lists the result per alert, with counts.
// Recovery orders are refused here: the amount differs per alert.
func (s *Server) postBulk(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if !u.Role.MayAct() {
		s.fail(w, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "role %s may not change alerts", u.Role))
		return
	}
	var q bulkRequest
	if err := decodeJSON(w, r, &q); err != nil {
		s.fail(w, err)
		return
	}
	results, err := s.applyBulk(r.Context(), u, q)
	if err != nil {
		s.fail(w, err)
		return
	}
	applied := 0
	for _, res := range results {
		if res.Error == nil {
			applied++
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"results": results, "applied": applied, "refused": len(results) - applied, "dry_run": q.DryRun,
	})
}

// applyBulk applies q's transition to every alert of its filter u may see, each checked on
// its own, and answers the result per alert; an error is for the request as a whole (a bad
// transition or filter, a store that failed), when nothing was recorded. The API and the
// inbox's bulk form both act through it.
func (s *Server) applyBulk(ctx context.Context, u voucherwatch.User, q bulkRequest) ([]bulkResult, error) {
	if !u.Role.MayAct() {
		return nil, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "role %s may not change alerts", u.Role)
	}
	now := s.workflow.now()
	t, err := q.transition()
	if err == nil {
		t, err = t.Check(now, s.workflow.ExplanationDays)
	}
	if err == nil && t.To == voucherwatch.StatusRecoveryOrdered {
		err = voucherwatch.FieldErrorf("to", "order recovery one alert at a time: the amount differs per alert")
	}
	var f voucherwatch.AlertFilter
	if err == nil {
		f, err = q.Filter.alertFilter()
	}
	if err != nil {
		return nil, err
	}
	alerts, refused, err := s.bulkAlerts(ctx, u, q.Filter.IDs, f)
	if err == nil {
		err = s.logStatuses(ctx, alerts)
	}
	if err != nil {
		return nil, err
	}

	results := make([]bulkResult, 0, len(alerts)+len(refused))
	var events []voucherwatch.Event
	var pending []int // index in results of each event
	for _, a := range alerts {
		e, err := transitionEvent(u, a, q.transitionRequest, t, now)
		results = append(results, bulkResult{AlertID: a.ID})
		if err != nil {
			results[len(results)-1].refuse(err)
			continue
		}
		events = append(events, e)
		pending = append(pending, len(results)-1)
	}
	results = append(results, refused...)
	if q.DryRun {
		for _, i := range pending {
			results[i].Status = http.StatusOK
		}
	} else if len(events) > 0 {
		res, err := s.workflow.Events.AppendEvents(ctx, events)
		if err != nil {
			return nil, err
		}
		for k, i := range pending {
			if res[k].Err != nil {
				results[i].refuse(res[k].Err)
				continue
			}
			e := res[k].Event
			results[i].Status, results[i].Event = http.StatusCreated, &e
		}
	}
	return results, nil
}

func (b *bulkResult) refuse(err error) {
	code := voucherwatch.ErrorCode(err)
	status, ok := statusOf[code]
	msg := err.Error()
	if e, isErr := err.(*voucherwatch.Error); isErr {
		msg = e.Message
	}
	if !ok {
		status, msg = http.StatusInternalServerError, "internal error"
	}
	b.Status, b.Error = status, map[string]string{"code": code, "message": msg}
}

// alertFilter checks the filter and turns it into the store's; the ids are handled apart.
func (f bulkFilter) alertFilter() (voucherwatch.AlertFilter, error) {
	out := voucherwatch.AlertFilter{
		Detector: f.Detector, Status: voucherwatch.Status(f.Status), Severity: voucherwatch.Severity(f.Severity),
		ApplicantUSCC: f.ApplicantUSCC,
	}
	if len(f.IDs) == 0 && f.Detector == "" && f.Status == "" && f.Severity == "" && f.City == "" && f.ApplicantUSCC == "" {
		return out, voucherwatch.FieldErrorf("filter", "required: at least one of ids, detector, status, severity, city, applicant_uscc")
	}
	if len(f.IDs) > MaxBulkAlerts {
		return out, voucherwatch.FieldErrorf("filter.ids", "at most %d alerts at once", MaxBulkAlerts)
	}
	if err := checkAlertFilter(out, "filter."); err != nil {
		return out, err
	}
	switch out.Severity {
	case "", voucherwatch.SeverityHigh, voucherwatch.SeverityMedium, voucherwatch.SeverityLow:
	default:
		return out, voucherwatch.FieldErrorf("filter.severity", "want high, medium or low, got %q", f.Severity)
	}
	if f.City != "" {
		code, ok := voucherwatch.CityCode(f.City)
		if !ok {
			return out, voucherwatch.FieldErrorf("filter.city", "unknown 市州 %q", f.City)
		}
		out.City = code
	}
	return out, nil
}

// bulkAlerts returns the alerts of a bulk action the user may see, and results refusing the
// requested ids that do not exist for the user (404) or do not match the rest of the filter
// (409). It returns EINVALID when the filter matches more than MaxBulkAlerts alerts.
func (s *Server) bulkAlerts(ctx context.Context, u voucherwatch.User, ids []string, f voucherwatch.AlertFilter) ([]voucherwatch.Alert, []bulkResult, error) {
	scope := cityScope(u)
	if scope != "" {
		if f.City != "" && f.City != scope {
			return nil, nil, nil // another city's alerts do not exist for a city reviewer
		}
		f.City = scope
	}
	if len(ids) > 0 {
		// One query for all of them: read one by one, 1,000 ids cost seconds of ClickHouse.
		unique := make([]string, 0, len(ids))
		seen := map[string]bool{}
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				unique = append(unique, id)
			}
		}
		found, _, err := s.workflow.Alerts.Alerts(ctx, voucherwatch.AlertFilter{IDs: unique, City: scope, Limit: MaxBulkAlerts})
		if err != nil {
			return nil, nil, err
		}
		byID := make(map[string]voucherwatch.Alert, len(found))
		for _, a := range found {
			byID[a.ID] = a
		}
		var out []voucherwatch.Alert
		var refused []bulkResult
		for _, id := range unique {
			a, ok := byID[id]
			switch {
			case !ok:
				// Missing, or another city's: it does not exist for this user.
				refused = append(refused, bulkResult{AlertID: id})
				refused[len(refused)-1].refuse(voucherwatch.Errorf(voucherwatch.ENOTFOUND, "alert %s not found", id))
			case !matches(a, f):
				refused = append(refused, bulkResult{AlertID: id})
				refused[len(refused)-1].refuse(voucherwatch.Errorf(voucherwatch.ECONFLICT, "alert %s (%s) does not match the filter", id, a.Status))
			default:
				out = append(out, a)
			}
		}
		return out, refused, nil
	}
	var out []voucherwatch.Alert
	f.Limit = 1000
	for {
		page, next, err := s.workflow.Alerts.Alerts(ctx, f)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, page...)
		if len(out) > MaxBulkAlerts {
			return nil, nil, voucherwatch.FieldErrorf("filter", "matches more than %d alerts; narrow it", MaxBulkAlerts)
		}
		if next == "" {
			return out, nil, nil
		}
		f.Cursor = next
	}
}

// matches applies a filter to one alert, for alerts named by id.
func matches(a voucherwatch.Alert, f voucherwatch.AlertFilter) bool {
	return (f.Detector == "" || a.Detector == f.Detector) &&
		(f.Status == "" || a.Status == f.Status) &&
		(f.Severity == "" || a.Severity == f.Severity) &&
		(f.City == "" || a.City == f.City) &&
		(f.ApplicantUSCC == "" || a.Subjects.ApplicantUSCC == f.ApplicantUSCC) &&
		(len(f.IDs) == 0 || slices.Contains(f.IDs, a.ID))
}
