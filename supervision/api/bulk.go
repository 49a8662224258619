package api

import (
	"net/http"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// bulkResult is what became of one alert, as the API answers it: status is the HTTP status a
// single transition would have answered (201 recorded, 200 would be recorded in a dry run,
// 403, 404, 409).
type bulkResult struct {
	AlertID string              `json:"alert_id"`
	Status  int                 `json:"status"`
	Event   *voucherwatch.Event `json:"event,omitempty"`
	Error   map[string]string   `json:"error,omitempty"`
}

// PostBulk answers POST /api/v1/alerts/bulk {"filter": {...}, "to", "comment", "deadline"?,
// "dry_run"?}: the transition is applied to every alert of the filtered list the user may see,
// each checked on its own, and the answer (200) lists the result per alert, with counts.
// Recovery orders are refused here: the amount differs per alert.
func (h *Handler) PostBulk(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if !u.Role.MayAct() {
		h.Fail(w, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "role %s may not change alerts", u.Role))
		return
	}
	var q workflow.BulkRequest
	if err := DecodeJSON(w, r, &q); err != nil {
		h.Fail(w, err)
		return
	}
	done, err := h.flow().Bulk(r.Context(), u, q)
	if err != nil {
		h.Fail(w, err)
		return
	}
	results := make([]bulkResult, len(done))
	applied := 0
	for i, res := range done {
		results[i] = bulkAnswer(res)
		if res.Err == nil {
			applied++
		}
	}
	WriteJSON(w, http.StatusOK, map[string]any{
		"results": results, "applied": applied, "refused": len(results) - applied, "dry_run": q.DryRun,
	})
}

// bulkAnswer is a result of workflow.Service.Bulk as the API answers it.
func bulkAnswer(res workflow.BulkResult) bulkResult {
	b := bulkResult{AlertID: res.AlertID, Event: res.Event, Status: http.StatusOK}
	if res.Event != nil {
		b.Status = http.StatusCreated
	}
	if err := res.Err; err != nil {
		code := voucherwatch.ErrorCode(err)
		status, ok := Status(code)
		msg := err.Error()
		if e, isErr := err.(*voucherwatch.Error); isErr {
			msg = e.Message
		}
		if !ok {
			status, msg = http.StatusInternalServerError, "internal error"
		}
		b.Status, b.Error = status, map[string]string{"code": code, "message": msg}
	}
	return b
}
