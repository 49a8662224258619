package supervision

import (
	"net/http"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/api"
	"github.com/voucherwatch/voucherwatch/supervision/export"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// registerSpotCheckRoutes adds the spot-check, inspector and inspection-result routes.
func (s *Server) registerSpotCheckRoutes(d SpotCheckDeps) {
	h := spotCheckRoutes{s: s, d: d}
	s.spotchecks = &d // the web UI's spot-check pages (registerUI) call the same operations
	s.mux.Handle("POST /api/v1/spotchecks", s.authed(h.draw))
	s.mux.Handle("GET /api/v1/spotchecks", s.authed(h.list))
	s.mux.Handle("GET /api/v1/spotchecks/{id}", s.authed(h.show))
	s.mux.Handle("GET /api/v1/spotchecks/{id}/inputs", s.authed(h.inputs))
	s.mux.Handle("GET /api/v1/spotchecks/{id}/verify", s.authed(h.verify))
	s.mux.Handle("GET /api/v1/spotchecks/{id}/export.csv", s.authed(h.exportCSV))
	s.mux.Handle("GET /api/v1/spotchecks/{id}/export.xlsx", s.authed(h.exportXLSX))
	s.mux.Handle("POST /api/v1/spotchecks/{id}/results", s.authed(h.recordResult))
	s.mux.Handle("GET /api/v1/spotchecks/{id}/results", s.authed(h.results))
	s.mux.HandleFunc("GET /api/v1/spotchecks/{id}/public", h.public)
	s.mux.Handle("POST /api/v1/inspectors", s.authed(h.createInspector))
	s.mux.Handle("GET /api/v1/inspectors", s.authed(h.listInspectors))
	s.mux.Handle("POST /api/v1/inspectors/{id}/disable", s.authed(h.disableInspector))
}

type spotCheckRoutes struct {
	s *Server
	d SpotCheckDeps
}

func (h spotCheckRoutes) draw(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if !workflow.MayDraw(u.Role) { // before reading the body: a refusal should not depend on it
		h.s.fail(w, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "only the province draws spot checks"))
		return
	}
	var q DrawRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &q); err != nil {
			h.s.fail(w, err)
			return
		}
	}
	sc, err := h.d.Draw(r.Context(), u, q)
	if err != nil {
		h.s.fail(w, err)
		return
	}
	h.s.Log.Info("supervision: spot check drawn", "id", sc.ID, "seed", sc.Seed, "items", len(sc.Items), "by", u.ID)
	sc.Inputs = nil // large; GET .../inputs has them
	api.WriteJSON(w, http.StatusCreated, sc)
}

func (h spotCheckRoutes) list(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	all, err := h.d.List(r.Context(), u)
	if err != nil {
		h.s.fail(w, err)
		return
	}
	if all == nil {
		all = []voucherwatch.SpotCheck{}
	}
	body := map[string]any{"spotchecks": all}
	if h.d.Schedule != nil {
		body["schedule"] = h.d.Schedule()
	}
	api.WriteJSON(w, http.StatusOK, body)
}

func (h spotCheckRoutes) show(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	v, err := h.d.View(r.Context(), u, r.PathValue("id"))
	if err != nil {
		h.s.fail(w, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, v)
}

func (h spotCheckRoutes) inputs(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if !workflow.MayAudit(u.Role) {
		h.s.fail(w, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "role %s may not read a draw's inputs", u.Role))
		return
	}
	sc, err := h.d.Store.SpotCheck(r.Context(), r.PathValue("id"))
	if err != nil {
		h.s.fail(w, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{
		"id": sc.ID, "seed": sc.Seed, "method": sc.Method, "params": sc.Params, "inputs_digest": sc.InputsDigest, "inputs": sc.Inputs,
	})
}

func (h spotCheckRoutes) verify(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	v, err := h.d.Verify(r.Context(), u, r.PathValue("id"))
	if err != nil {
		h.s.fail(w, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, v)
}

func (h spotCheckRoutes) recordResult(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if !u.Role.MayAct() {
		h.s.fail(w, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "role %s may not record inspection results", u.Role))
		return
	}
	var q workflow.ResultRequest
	if err := decodeJSON(w, r, &q); err != nil {
		h.s.fail(w, err)
		return
	}
	res, err := h.d.RecordResult(r.Context(), u, r.PathValue("id"), q)
	if err != nil {
		h.s.fail(w, err)
		return
	}
	api.WriteJSON(w, http.StatusCreated, res)
}

func (h spotCheckRoutes) results(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	v, err := h.d.View(r.Context(), u, r.PathValue("id"))
	if err != nil {
		h.s.fail(w, err)
		return
	}
	all, err := h.d.Store.InspectionResults(r.Context(), v.ID)
	if err != nil {
		h.s.fail(w, err)
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
	api.WriteJSON(w, http.StatusOK, map[string]any{"results": out})
}

func (h spotCheckRoutes) public(w http.ResponseWriter, r *http.Request) {
	p, err := h.d.Public(r.Context(), r.PathValue("id"))
	if err != nil {
		h.s.fail(w, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, p)
}

func (h spotCheckRoutes) createInspector(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if !workflow.MayDraw(u.Role) {
		h.s.fail(w, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "only the province registers inspectors"))
		return
	}
	var q InspectorRequest
	if err := decodeJSON(w, r, &q); err != nil {
		h.s.fail(w, err)
		return
	}
	in, err := h.d.CreateInspector(r.Context(), u, q)
	if err != nil {
		h.s.fail(w, err)
		return
	}
	api.WriteJSON(w, http.StatusCreated, in)
}

func (h spotCheckRoutes) disableInspector(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if err := h.d.DisableInspector(r.Context(), u, r.PathValue("id")); err != nil {
		h.s.fail(w, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"id": r.PathValue("id"), "disabled": true})
}

func (h spotCheckRoutes) listInspectors(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	all, err := h.d.Inspectors(r.Context(), u)
	if err != nil {
		h.s.fail(w, err)
		return
	}
	if all == nil {
		all = []voucherwatch.Inspector{}
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"inspectors": all})
}
func (h spotCheckRoutes) exportCSV(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	h.export(w, r, u, "csv")
}

func (h spotCheckRoutes) exportXLSX(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	h.export(w, r, u, "xlsx")
}

// export answers a draw's list as a file, the items u may see (a city reviewer: its city's).
func (h spotCheckRoutes) export(w http.ResponseWriter, r *http.Request, u voucherwatch.User, ext string) {
	v, err := h.d.View(r.Context(), u, r.PathValue("id"))
	if err != nil {
		h.s.fail(w, err)
		return
	}
	if err := export.SpotCheck(w, v, ext); err != nil {
		h.s.fail(w, err)
	}
}
