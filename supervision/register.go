package supervision

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/api"
	"github.com/voucherwatch/voucherwatch/supervision/export"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// registerRegisterRoutes adds the supplier register's API, its public page and exports. The
// public page is rendered by the web UI; without registerUI only its JSON and files answer.
func (s *Server) registerRegisterRoutes(d RegisterDeps) {
	h := registerRoutes{s: s, d: d}
	s.register = &d // the enterprise page's register history calls the same operations
	s.mux.Handle("POST /api/v1/register/editions", s.authed(h.create))
	s.mux.Handle("GET /api/v1/register/editions", s.authed(h.list))
	s.mux.Handle("GET /api/v1/register/editions/{id}", s.authed(h.show))
	s.mux.Handle("GET /api/v1/register/editions/{id}/inputs", s.authed(h.inputs))
	s.mux.Handle("GET /api/v1/register/suppliers/{uscc}", s.authed(h.history))
	s.mux.HandleFunc("GET /public/register", s.showPublicRegister)
	s.mux.HandleFunc("GET /public/register/suppliers/{uscc}", s.showPublicRegisterSupplier)
	s.mux.HandleFunc("GET /public/register.json", h.publicJSON)
	s.mux.HandleFunc("GET /public/register.csv", h.publicFile("csv"))
	s.mux.HandleFunc("GET /public/register.xlsx", h.publicFile("xlsx"))
}

type registerRoutes struct {
	s *Server
	d RegisterDeps
}

func (h registerRoutes) create(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if !workflow.MayDraw(u.Role) { // before reading the body: a refusal should not depend on it
		h.s.fail(w, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "only the province publishes register editions"))
		return
	}
	var q workflow.EditionRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &q); err != nil {
			h.s.fail(w, err)
			return
		}
	}
	e, err := h.d.Create(r.Context(), u, q)
	if err != nil {
		h.s.fail(w, err)
		return
	}
	h.s.Log.Info("supervision: register edition made", "id", e.ID, "period", e.Period, "suppliers", len(e.Suppliers), "by", u.ID)
	e.Inputs = nil // GET .../inputs has them
	api.WriteJSON(w, http.StatusCreated, e)
}

func (h registerRoutes) list(w http.ResponseWriter, r *http.Request, _ voucherwatch.User) {
	all, err := h.d.Store.RegisterEditions(r.Context())
	if err != nil {
		h.s.fail(w, err)
		return
	}
	body := map[string]any{"editions": all}
	if h.d.Schedule != nil {
		body["schedule"] = h.d.Schedule()
	}
	api.WriteJSON(w, http.StatusOK, body)
}

func (h registerRoutes) show(w http.ResponseWriter, r *http.Request, _ voucherwatch.User) {
	e, err := h.d.Edition(r.Context(), r.PathValue("id"))
	if err != nil {
		h.s.fail(w, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, e)
}

// inputs answers an edition's recorded inputs and whether they still hash to its digest and
// give its rows: the province's and auditors' (workflow.MayAudit), like a draw's inputs.
func (h registerRoutes) inputs(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if !workflow.MayAudit(u.Role) {
		h.s.fail(w, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "role %s may not read an edition's inputs", u.Role))
		return
	}
	e, err := h.d.Store.RegisterEdition(r.Context(), r.PathValue("id"))
	if err != nil {
		h.s.fail(w, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{
		"id": e.ID, "method": e.Method, "inputs_digest": e.InputsDigest, "inputs": e.Inputs,
		"digest_matches": e.Inputs != nil && e.Inputs.Digest() == e.InputsDigest,
		"rows_match":     e.Inputs != nil && sameRows(voucherwatch.ComputeRegister(*e.Inputs), e.Suppliers),
	})
}

func (h registerRoutes) history(w http.ResponseWriter, r *http.Request, _ voucherwatch.User) {
	hist, err := h.d.History(r.Context(), r.PathValue("uscc"))
	if err != nil {
		h.s.fail(w, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"uscc": strings.ToUpper(r.PathValue("uscc")), "editions": hist})
}

// publicJSON answers GET /public/register.json to anyone: the latest edition, or the one
// ?edition= names.
func (h registerRoutes) publicJSON(w http.ResponseWriter, r *http.Request) {
	e, err := h.d.Edition(r.Context(), r.URL.Query().Get("edition"))
	if err != nil {
		h.s.fail(w, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, e)
}

func (h registerRoutes) publicFile(ext string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		e, err := h.d.Edition(r.Context(), r.URL.Query().Get("edition"))
		if err != nil {
			h.s.fail(w, err)
			return
		}
		if err := export.Register(w, e, ext); err != nil {
			h.s.fail(w, err)
		}
	}
}

// sameRows says whether two computations of an edition agree, compared as published (JSON).
func sameRows(a, b []voucherwatch.RegisterRow) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}
