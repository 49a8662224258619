package workflow

import (
	"context"
	"slices"

	"github.com/voucherwatch/voucherwatch"
)

// MaxBulkAlerts bounds how many alerts one bulk action touches. A filter that matches more is
// refused rather than applied in part: a reviewer narrows it and sees every alert acted on.
const MaxBulkAlerts = 1000

// BulkRequest is a filter and a transition (the body of POST /api/v1/alerts/bulk).
type BulkRequest struct {
	Filter BulkFilter `json:"filter"`
	TransitionRequest
	// DryRun checks every alert and answers what would happen, recording nothing.
	DryRun bool `json:"dry_run"`
}

// BulkFilter selects the alerts of a bulk action, like the query of GET /api/v1/alerts, or by
// id. At least one criterion is required.
type BulkFilter struct {
	IDs           []string `json:"ids"`
	Detector      string   `json:"detector"`
	Status        string   `json:"status"`
	Severity      string   `json:"severity"`
	City          string   `json:"city"`
	ApplicantUSCC string   `json:"applicant_uscc"`
}

// BulkResult is what became of one alert: Event is the recorded event, nil in a dry run; Err
// why the alert was refused (ENOTFOUND, EFORBIDDEN, ECONFLICT, as a single move would say).
type BulkResult struct {
	AlertID string
	Event   *voucherwatch.Event
	Err     error
}

// Bulk applies q's transition to every alert of its filter u may see, each checked on its
// own, and answers the result per alert; an error is for the request as a whole (a bad
// transition or filter, a store that failed), when nothing was recorded. Recovery orders are
// refused: the amount differs per alert. The API and the inbox's bulk form both act here.
func (s *Service) Bulk(ctx context.Context, u voucherwatch.User, q BulkRequest) ([]BulkResult, error) {
	if !u.Role.MayAct() {
		return nil, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "role %s may not change alerts", u.Role)
	}
	now := s.Clock()
	t, err := q.transition()
	if err == nil {
		t, err = t.Check(now, s.ExplanationDays)
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
		err = s.LogStatuses(ctx, alerts)
	}
	if err != nil {
		return nil, err
	}

	results := make([]BulkResult, 0, len(alerts)+len(refused))
	var events []voucherwatch.Event
	var pending []int // index in results of each event
	for _, a := range alerts {
		e, err := transitionEvent(u, a, q.TransitionRequest, t, now)
		results = append(results, BulkResult{AlertID: a.ID, Err: err})
		if err != nil {
			continue
		}
		events = append(events, e)
		pending = append(pending, len(results)-1)
	}
	results = append(results, refused...)
	if !q.DryRun && len(events) > 0 {
		res, err := s.Events.AppendEvents(ctx, events)
		if err != nil {
			return nil, err
		}
		for k, i := range pending {
			if res[k].Err != nil {
				results[i].Err = res[k].Err
				continue
			}
			e := res[k].Event
			results[i].Event = &e
		}
	}
	return results, nil
}

// alertFilter checks the filter and turns it into the store's; the ids are handled apart.
func (f BulkFilter) alertFilter() (voucherwatch.AlertFilter, error) {
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
	if err := CheckAlertFilter(out, "filter."); err != nil {
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
// requested ids that do not exist for the user (ENOTFOUND) or do not match the rest of the
// filter (ECONFLICT). It returns EINVALID when the filter matches more than MaxBulkAlerts
// alerts.
func (s *Service) bulkAlerts(ctx context.Context, u voucherwatch.User, ids []string, f voucherwatch.AlertFilter) ([]voucherwatch.Alert, []BulkResult, error) {
	scope := CityScope(u)
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
		found, _, err := s.Alerts.Alerts(ctx, voucherwatch.AlertFilter{IDs: unique, City: scope, Limit: MaxBulkAlerts})
		if err != nil {
			return nil, nil, err
		}
		byID := make(map[string]voucherwatch.Alert, len(found))
		for _, a := range found {
			byID[a.ID] = a
		}
		var out []voucherwatch.Alert
		var refused []BulkResult
		for _, id := range unique {
			a, ok := byID[id]
			switch {
			case !ok:
				// Missing, or another city's: it does not exist for this user.
				refused = append(refused, BulkResult{AlertID: id, Err: voucherwatch.Errorf(voucherwatch.ENOTFOUND, "alert %s not found", id)})
			case !Matches(a, f):
				refused = append(refused, BulkResult{AlertID: id, Err: voucherwatch.Errorf(voucherwatch.ECONFLICT, "alert %s (%s) does not match the filter", id, a.Status)})
			default:
				out = append(out, a)
			}
		}
		return out, refused, nil
	}
	var out []voucherwatch.Alert
	f.Limit = 1000
	for {
		page, next, err := s.Alerts.Alerts(ctx, f)
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

// Matches applies a filter to one alert: for alerts named by id, and for lists read apart
// from the store's filter (the overdue explanations).
func Matches(a voucherwatch.Alert, f voucherwatch.AlertFilter) bool {
	return (f.Detector == "" || a.Detector == f.Detector) &&
		(f.Status == "" || a.Status == f.Status) &&
		(f.Severity == "" || a.Severity == f.Severity) &&
		(f.City == "" || a.City == f.City) &&
		(f.ApplicantUSCC == "" || a.Subjects.ApplicantUSCC == f.ApplicantUSCC) &&
		(len(f.IDs) == 0 || slices.Contains(f.IDs, a.ID))
}
