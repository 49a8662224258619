package api

import (
	"net/http"

	"github.com/voucherwatch/voucherwatch"
)

// PostDetectorsRun answers POST /api/v1/detectors/run: every detector runs now (the province only).
func (h *Handler) PostDetectorsRun(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if u.Role != voucherwatch.RoleProvinceAdmin && u.Role != voucherwatch.RoleProvinceReviewer {
		WriteError(w, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "only the province may run the detectors on demand"))
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"detectors": h.RunDetectors(r.Context())})
}

// GetDetectors answers GET /api/v1/detectors: each detector's health; 403 to city reviewers.
func (h *Handler) GetDetectors(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if operatorOnly(w, u) {
		return
	}
	WriteJSON(w, http.StatusOK, h.DetectorHealth())
}

// GetRules answers GET /api/v1/rules: the policy in force.
func (h *Handler) GetRules(w http.ResponseWriter, r *http.Request, _ voucherwatch.User) {
	WriteJSON(w, http.StatusOK, h.Policy)
}
