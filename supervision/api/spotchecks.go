package api

import (
	"net/http"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/export"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// PostSpotCheck answers POST /api/v1/spotchecks: a draw on demand (the province only).
func (h *Handler) PostSpotCheck(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if !workflow.MayDraw(u.Role) { // before reading the body: a refusal should not depend on it
		h.Fail(w, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "only the province draws spot checks"))
		return
	}
	var q workflow.DrawRequest
	if r.ContentLength != 0 {
		if err := DecodeJSON(w, r, &q); err != nil {
			h.Fail(w, err)
			return
		}
	}
	sc, err := h.SpotChecks.Draw(r.Context(), u, q)
	if err != nil {
		h.Fail(w, err)
		return
	}
	h.Log.Info("supervision: spot check drawn", "id", sc.ID, "seed", sc.Seed, "items", len(sc.Items), "by", u.ID)
	sc.Inputs = nil // large; GET .../inputs has them
	WriteJSON(w, http.StatusCreated, sc)
}

// ListSpotChecks answers GET /api/v1/spotchecks: the draws, newest first, without their items.
func (h *Handler) ListSpotChecks(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	all, err := h.SpotChecks.List(r.Context(), u)
	if err != nil {
		h.Fail(w, err)
		return
	}
	if all == nil {
		all = []voucherwatch.SpotCheck{}
	}
	body := map[string]any{"spotchecks": all}
	if h.SpotChecks.Schedule != nil {
		body["schedule"] = h.SpotChecks.Schedule()
	}
	WriteJSON(w, http.StatusOK, body)
}

// GetSpotCheck answers GET /api/v1/spotchecks/{id}: the draw as u may see it.
func (h *Handler) GetSpotCheck(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	v, err := h.SpotChecks.View(r.Context(), u, r.PathValue("id"))
	if err != nil {
		h.Fail(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, v)
}

// GetSpotCheckInputs answers GET /api/v1/spotchecks/{id}/inputs: the recorded inputs (the province
// and auditors).
func (h *Handler) GetSpotCheckInputs(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if !workflow.MayAudit(u.Role) {
		h.Fail(w, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "role %s may not read a draw's inputs", u.Role))
		return
	}
	sc, err := h.SpotChecks.Store.SpotCheck(r.Context(), r.PathValue("id"))
	if err != nil {
		h.Fail(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{
		"id": sc.ID, "seed": sc.Seed, "method": sc.Method, "params": sc.Params, "inputs_digest": sc.InputsDigest, "inputs": sc.Inputs,
	})
}

// GetSpotCheckVerification answers GET /api/v1/spotchecks/{id}/verify: the draw re-run from its
// inputs.
func (h *Handler) GetSpotCheckVerification(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	v, err := h.SpotChecks.Verify(r.Context(), u, r.PathValue("id"))
	if err != nil {
		h.Fail(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, v)
}

// PostSpotCheckResult answers POST /api/v1/spotchecks/{id}/results: an inspection result is
// recorded.
func (h *Handler) PostSpotCheckResult(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if !u.Role.MayAct() {
		h.Fail(w, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "role %s may not record inspection results", u.Role))
		return
	}
	var q workflow.ResultRequest
	if err := DecodeJSON(w, r, &q); err != nil {
		h.Fail(w, err)
		return
	}
	res, err := h.SpotChecks.RecordResult(r.Context(), u, r.PathValue("id"), q)
	if err != nil {
		h.Fail(w, err)
		return
	}
	WriteJSON(w, http.StatusCreated, res)
}

// ListSpotCheckResults answers GET /api/v1/spotchecks/{id}/results: the results u may see.
func (h *Handler) ListSpotCheckResults(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	v, err := h.SpotChecks.View(r.Context(), u, r.PathValue("id"))
	if err != nil {
		h.Fail(w, err)
		return
	}
	all, err := h.SpotChecks.Store.InspectionResults(r.Context(), v.ID)
	if err != nil {
		h.Fail(w, err)
		return
	}
	workflow.MaskResultComments(all)
	visible := map[string]bool{}
	for _, it := range v.Items {
		visible[it.USCC] = true
	}
	out := []voucherwatch.InspectionResult{}
	for _, res := range all {
		if visible[res.USCC] {
			out = append(out, res)
		}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"results": out})
}

// PublicSpotCheck answers GET /api/v1/spotchecks/{id}/public: the published list (一公开), to anyone.
func (h *Handler) PublicSpotCheck(w http.ResponseWriter, r *http.Request) {
	p, err := h.SpotChecks.Public(r.Context(), r.PathValue("id"))
	if err != nil {
		h.Fail(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, p)
}

// SpotCheckCSV answers GET /api/v1/spotchecks/{id}/export.csv.
func (h *Handler) SpotCheckCSV(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	h.spotCheckFile(w, r, u, "csv")
}

// SpotCheckXLSX answers GET /api/v1/spotchecks/{id}/export.xlsx.
func (h *Handler) SpotCheckXLSX(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	h.spotCheckFile(w, r, u, "xlsx")
}

// spotCheckFile answers a draw's list as a file, the items u may see (a city reviewer: its city's).
func (h *Handler) spotCheckFile(w http.ResponseWriter, r *http.Request, u voucherwatch.User, ext string) {
	v, err := h.SpotChecks.View(r.Context(), u, r.PathValue("id"))
	if err != nil {
		h.Fail(w, err)
		return
	}
	if err := export.SpotCheck(w, v, ext); err != nil {
		h.Fail(w, err)
	}
}
