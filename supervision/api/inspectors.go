package api

import (
	"net/http"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// CreateInspector answers POST /api/v1/inspectors: an inspector joins the pool (the province only).
func (h *Handler) CreateInspector(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if !workflow.MayDraw(u.Role) {
		h.Fail(w, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "only the province registers inspectors"))
		return
	}
	var q workflow.InspectorRequest
	if err := DecodeJSON(w, r, &q); err != nil {
		h.Fail(w, err)
		return
	}
	in, err := h.SpotChecks.CreateInspector(r.Context(), u, q)
	if err != nil {
		h.Fail(w, err)
		return
	}
	WriteJSON(w, http.StatusCreated, in)
}

// DisableInspector answers POST /api/v1/inspectors/{id}/disable (the province only).
func (h *Handler) DisableInspector(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if err := h.SpotChecks.DisableInspector(r.Context(), u, r.PathValue("id")); err != nil {
		h.Fail(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"id": r.PathValue("id"), "disabled": true})
}

// ListInspectors answers GET /api/v1/inspectors: the pool, conflicts hidden from city reviewers.
func (h *Handler) ListInspectors(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	all, err := h.SpotChecks.Inspectors(r.Context(), u)
	if err != nil {
		h.Fail(w, err)
		return
	}
	if all == nil {
		all = []voucherwatch.Inspector{}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"inspectors": all})
}
