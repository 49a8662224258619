package api

import (
	"net/http"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// operatorOnly refuses the engine's operating figures (ingest, dead letters, detector health)
// to city reviewers: they are province-wide and cannot be cut by city, and a city reviewer
// sees its own city only. It reports whether it answered.
func operatorOnly(w http.ResponseWriter, u voucherwatch.User) bool {
	if workflow.CityScope(u) == "" {
		return false
	}
	WriteError(w, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "province-wide operating figures are not shown to a city reviewer"))
	return true
}

// GetStatus answers GET /api/v1/status: {"ingest": {"topics": {...}}}; 403 to city reviewers.
func (h *Handler) GetStatus(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if operatorOnly(w, u) {
		return
	}
	if h.IngestStatus == nil {
		WriteError(w, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "ingest is not running on this instance"))
		return
	}
	st, err := h.IngestStatus(r.Context())
	if err != nil {
		h.Log.Error("supervision: status", "err", err)
		WriteError(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"ingest": st})
}

// GetDeadLetters answers GET /api/v1/deadletters: each supplier's rejected messages per topic,
// with the last reason, so supervisors can see who sends bad data; 403 to city reviewers.
func (h *Handler) GetDeadLetters(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if operatorOnly(w, u) {
		return
	}
	if h.DeadLetters == nil {
		WriteError(w, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "ingest is not running on this instance"))
		return
	}
	v, err := h.DeadLetters(r.Context())
	if err != nil {
		h.Fail(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"suppliers": v})
}
