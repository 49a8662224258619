package api

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/export"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// CreateEdition answers POST /api/v1/register/editions: an edition made on demand (the province
// only).
func (h *Handler) CreateEdition(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if !workflow.MayDraw(u.Role) { // before reading the body: a refusal should not depend on it
		h.Fail(w, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "only the province publishes register editions"))
		return
	}
	var q workflow.EditionRequest
	if r.ContentLength != 0 {
		if err := DecodeJSON(w, r, &q); err != nil {
			h.Fail(w, err)
			return
		}
	}
	e, err := h.Register.Create(r.Context(), u, q)
	if err != nil {
		h.Fail(w, err)
		return
	}
	h.Log.Info("supervision: register edition made", "id", e.ID, "period", e.Period, "suppliers", len(e.Suppliers), "by", u.ID)
	e.Inputs = nil // GET .../inputs has them
	WriteJSON(w, http.StatusCreated, e)
}

// ListEditions answers GET /api/v1/register/editions.
func (h *Handler) ListEditions(w http.ResponseWriter, r *http.Request, _ voucherwatch.User) {
	all, err := h.Register.Store.RegisterEditions(r.Context())
	if err != nil {
		h.Fail(w, err)
		return
	}
	body := map[string]any{"editions": all}
	if h.Register.Schedule != nil {
		body["schedule"] = h.Register.Schedule()
	}
	WriteJSON(w, http.StatusOK, body)
}

// GetEdition answers GET /api/v1/register/editions/{id}, without its inputs.
func (h *Handler) GetEdition(w http.ResponseWriter, r *http.Request, _ voucherwatch.User) {
	e, err := h.Register.Edition(r.Context(), r.PathValue("id"))
	if err != nil {
		h.Fail(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, e)
}

// GetEditionInputs answers an edition's recorded inputs and whether they still hash to its digest
// and
// give its rows: the province's and auditors' (workflow.MayAudit), like a draw's inputs.
func (h *Handler) GetEditionInputs(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if !workflow.MayAudit(u.Role) {
		h.Fail(w, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "role %s may not read an edition's inputs", u.Role))
		return
	}
	e, err := h.Register.Store.RegisterEdition(r.Context(), r.PathValue("id"))
	if err != nil {
		h.Fail(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{
		"id": e.ID, "method": e.Method, "inputs_digest": e.InputsDigest, "inputs": e.Inputs,
		"digest_matches": e.Inputs != nil && e.Inputs.Digest() == e.InputsDigest,
		"rows_match":     e.Inputs != nil && sameRows(voucherwatch.ComputeRegister(*e.Inputs), e.Suppliers),
	})
}

// GetSupplierHistory answers GET /api/v1/register/suppliers/{uscc}: one supplier's rows across
// editions.
func (h *Handler) GetSupplierHistory(w http.ResponseWriter, r *http.Request, _ voucherwatch.User) {
	hist, err := h.Register.History(r.Context(), r.PathValue("uscc"))
	if err != nil {
		h.Fail(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"uscc": strings.ToUpper(r.PathValue("uscc")), "editions": hist})
}

// PublicRegisterJSON answers GET /public/register.json to anyone: the latest edition, or the one
// ?edition= names.
func (h *Handler) PublicRegisterJSON(w http.ResponseWriter, r *http.Request) {
	e, err := h.Register.Edition(r.Context(), r.URL.Query().Get("edition"))
	if err != nil {
		h.Fail(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, e)
}

// PublicRegisterFile answers GET /public/register.csv and .xlsx (ext): the latest edition as a
// file, to anyone.
func (h *Handler) PublicRegisterFile(ext string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		e, err := h.Register.Edition(r.Context(), r.URL.Query().Get("edition"))
		if err != nil {
			h.Fail(w, err)
			return
		}
		if err := export.Register(w, e, ext); err != nil {
			h.Fail(w, err)
		}
	}
}

// sameRows says whether two computations of an edition agree, compared as published (JSON).
func sameRows(a, b []voucherwatch.RegisterRow) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}
