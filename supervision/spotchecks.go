package supervision

import (
	"context"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/spotcheck"
	"github.com/voucherwatch/voucherwatch/supervision/api"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// SpotCheckDeps are the dependencies of the spot-check routes (专项抽查, "双随机、一公开"). Its
// methods are the operations with their access rules, so that the web UI calls the same ones
// as the API.
//
// Who may do what: the province (administrator and reviewer) draws, registers inspectors and
// records results; a city reviewer reads the items of its own city and records their results
// but may not draw; an auditor reads everything (the inputs too, to re-run a draw) and changes
// nothing. The published list (一公开) needs no token.
type SpotCheckDeps struct {
	Store voucherwatch.SpotCheckStore
	// Defaults are the parameters of a draw on demand that names none.
	Defaults voucherwatch.SpotCheckParams
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Schedule reports the scheduled draws' state for the UI; nil when there is none.
	Schedule func() spotcheck.SchedulerStatus
}

func (d SpotCheckDeps) now() time.Time {
	if d.Now == nil {
		return time.Now()
	}
	return d.Now()
}

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

// mayDraw: drawing and the inspector pool are the province's.
func mayDraw(r voucherwatch.Role) bool {
	return r == voucherwatch.RoleProvinceAdmin || r == voucherwatch.RoleProvinceReviewer
}

// mayRecordResult: recording the result of inspecting an item of city is the province's, or
// the city reviewer's of that city. The API and the web UI (which offers the form only where
// it can succeed) both ask it.
func mayRecordResult(u voucherwatch.User, city string) bool {
	if !u.Role.MayAct() {
		return false
	}
	scope := workflow.CityScope(u)
	return scope == "" || scope == city
}

// DrawRequest is the body of POST /api/v1/spotchecks; every field is optional.
type DrawRequest struct {
	Seed  *uint64  `json:"seed"`
	Share *float64 `json:"share"`
	Min   *int     `json:"min"`
	// From and To (YYYY-MM-DD) bound the claims' submission dates; To is exclusive.
	From string `json:"from"`
	To   string `json:"to"`
}

// Draw makes a draw on demand for u: a fresh seed unless one is given (to repeat a draw), the
// default parameters where none are given.
func (d SpotCheckDeps) Draw(ctx context.Context, u voucherwatch.User, q DrawRequest) (voucherwatch.SpotCheck, error) {
	if !mayDraw(u.Role) {
		return voucherwatch.SpotCheck{}, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "only the province draws spot checks")
	}
	p := d.Defaults
	if p == (voucherwatch.SpotCheckParams{}) {
		p = voucherwatch.DefaultSpotCheckParams()
	}
	if q.Share != nil {
		p.Share = *q.Share
	}
	if q.Min != nil {
		p.Min = *q.Min
	}
	if err := p.Check(); err != nil {
		return voucherwatch.SpotCheck{}, err
	}
	req := spotcheck.Request{Params: p, Trigger: voucherwatch.SpotCheckOnDemand, By: u.ID, At: d.now(), Seed: spotcheck.RandomSeed()}
	if q.Seed != nil {
		req.Seed = *q.Seed
	}
	var err error
	if req.From, err = parseDay("from", q.From); err != nil {
		return voucherwatch.SpotCheck{}, err
	}
	if req.To, err = parseDay("to", q.To); err != nil {
		return voucherwatch.SpotCheck{}, err
	}
	return spotcheck.Conduct(ctx, d.Store, req)
}

func parseDay(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation(time.DateOnly, v, voucherwatch.CST)
	if err != nil {
		return t, voucherwatch.FieldErrorf(field, "want YYYY-MM-DD, got %q", v)
	}
	return t, nil
}

// SpotCheckItemView is an item with its latest inspection result, if any.
type SpotCheckItemView struct {
	voucherwatch.SpotCheckItem
	CityName string                         `json:"city_name"`
	Result   *voucherwatch.InspectionResult `json:"result,omitempty"`
}

// SpotCheckView is a draw as a user may see it: a city reviewer gets its own city's items
// only, and nobody gets the inputs here (SpotCheckInputs).
type SpotCheckView struct {
	voucherwatch.SpotCheck
	Items []SpotCheckItemView `json:"items"`
}

// View reads a draw for u with the latest result of each item.
func (d SpotCheckDeps) View(ctx context.Context, u voucherwatch.User, id string) (SpotCheckView, error) {
	sc, err := d.Store.SpotCheck(ctx, id)
	if err != nil {
		return SpotCheckView{}, err
	}
	results, err := d.Store.InspectionResults(ctx, id)
	if err != nil {
		return SpotCheckView{}, err
	}
	maskResultComments(results)
	latest := map[string]*voucherwatch.InspectionResult{}
	for i := range results {
		latest[results[i].USCC] = &results[i] // oldest first: the last one wins
	}
	v := SpotCheckView{SpotCheck: sc, Items: []SpotCheckItemView{}}
	v.Inputs, v.SpotCheck.Items = nil, nil
	scope := workflow.CityScope(u)
	for _, it := range sc.Items {
		if scope != "" && it.City != scope {
			continue
		}
		v.Items = append(v.Items, SpotCheckItemView{SpotCheckItem: it, CityName: voucherwatch.CityName(it.City), Result: latest[it.USCC]})
	}
	return v, nil
}

// List lists the draws, newest first.
func (d SpotCheckDeps) List(ctx context.Context, _ voucherwatch.User) ([]voucherwatch.SpotCheck, error) {
	return d.Store.SpotChecks(ctx)
}

// ResultRequest is the body of POST /api/v1/spotchecks/{id}/results.
type ResultRequest struct {
	USCC    string `json:"uscc"`
	Result  string `json:"result"`
	Comment string `json:"comment"`
}

// RecordResult records the result of inspecting one drawn enterprise: by the province, or by
// the reviewer of the enterprise's city (the inspectors' supervisors). Another city's item
// does not exist for a city reviewer.
func (d SpotCheckDeps) RecordResult(ctx context.Context, u voucherwatch.User, id string, q ResultRequest) (voucherwatch.InspectionResult, error) {
	if !u.Role.MayAct() {
		return voucherwatch.InspectionResult{}, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "role %s may not record inspection results", u.Role)
	}
	outcome, ok := voucherwatch.ParseInspectionOutcome(q.Result)
	if !ok {
		return voucherwatch.InspectionResult{}, voucherwatch.FieldErrorf("result", "want no_problem (未发现问题), problem_found (发现问题) or rectify_ordered (责令整改), got %q", q.Result)
	}
	// Masked as it is written: results are published and exported.
	comment := voucherwatch.MaskText(strings.TrimSpace(q.Comment))
	if !utf8.ValidString(comment) || utf8.RuneCountInString(comment) > voucherwatch.MaxInspectionCommentRunes {
		return voucherwatch.InspectionResult{}, voucherwatch.FieldErrorf("comment", "at most %d characters of UTF-8", voucherwatch.MaxInspectionCommentRunes)
	}
	if outcome != voucherwatch.OutcomeNoProblem && comment == "" {
		return voucherwatch.InspectionResult{}, voucherwatch.FieldErrorf("comment", "say what was found")
	}
	uscc := strings.ToUpper(strings.TrimSpace(q.USCC))
	if uscc == "" {
		return voucherwatch.InspectionResult{}, voucherwatch.FieldErrorf("uscc", "required")
	}
	sc, err := d.Store.SpotCheck(ctx, id)
	if err != nil {
		return voucherwatch.InspectionResult{}, err
	}
	found := false
	for _, it := range sc.Items {
		if it.USCC == uscc && mayRecordResult(u, it.City) {
			found = true
		}
	}
	if !found {
		return voucherwatch.InspectionResult{}, &voucherwatch.Error{Code: voucherwatch.ENOTFOUND, Field: "uscc", Message: "enterprise " + uscc + " is not in spot check " + id}
	}
	res := voucherwatch.InspectionResult{
		SpotCheckID: id, USCC: uscc, Result: outcome, Comment: comment, RecordedAt: d.now(),
		ByID: u.ID, ByName: u.Name, ByRole: u.Role,
	}
	if err := d.Store.RecordInspectionResult(ctx, res); err != nil {
		return voucherwatch.InspectionResult{}, err
	}
	return res, nil
}

// Verify re-runs a recorded draw from its recorded inputs for u (the province or an auditor:
// the inputs hold every city's risk inputs) and says whether it gives the recorded list. It
// returns EFORBIDDEN for other roles, ENOTFOUND for an unknown draw.
func (d SpotCheckDeps) Verify(ctx context.Context, u voucherwatch.User, id string) (spotcheck.Verification, error) {
	if !mayAudit(u.Role) {
		return spotcheck.Verification{}, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "role %s may not re-run a draw", u.Role)
	}
	sc, err := d.Store.SpotCheck(ctx, id)
	if err != nil {
		return spotcheck.Verification{}, err
	}
	return spotcheck.Verify(sc)
}

// PublicItem is one line of the published list: who was inspected, where, by whom (names
// only) and with what result. It has no risk score and no way the enterprise was drawn, so
// that publication does not reveal the risk model.
type PublicItem struct {
	USCC        string   `json:"uscc"`
	Name        string   `json:"name,omitempty"`
	City        string   `json:"city"`
	CityName    string   `json:"city_name"`
	Inspectors  []string `json:"inspectors"`
	Result      string   `json:"result"`
	ResultLabel string   `json:"result_label"`
	RecordedOn  string   `json:"recorded_on"`
}

// PublicList is the published list (一公开) of a draw.
type PublicList struct {
	ID      string       `json:"id"`
	DrawnOn string       `json:"drawn_on"`
	Method  string       `json:"method"`
	Seed    uint64       `json:"seed"`
	Items   []PublicItem `json:"items"`
}

// Public is the published list of a draw: the enterprises whose inspection has a result,
// with their latest result. Enterprises not inspected yet are left out, so that publishing
// does not warn them in advance.
func (d SpotCheckDeps) Public(ctx context.Context, id string) (PublicList, error) {
	v, err := d.View(ctx, voucherwatch.User{Role: voucherwatch.RoleAuditor}, id)
	if err != nil {
		return PublicList{}, err
	}
	out := PublicList{ID: v.ID, DrawnOn: v.CreatedAt.In(voucherwatch.CST).Format(time.DateOnly), Method: v.Method, Seed: v.Seed, Items: []PublicItem{}}
	for _, it := range v.Items {
		if it.Result == nil {
			continue
		}
		names := []string{}
		for _, in := range it.Inspectors {
			names = append(names, in.Name)
		}
		out.Items = append(out.Items, PublicItem{
			USCC: it.USCC, Name: it.Name, City: it.City, CityName: it.CityName, Inspectors: names,
			Result: string(it.Result.Result), ResultLabel: voucherwatch.InspectionOutcomes[it.Result.Result],
			RecordedOn: it.Result.RecordedAt.In(voucherwatch.CST).Format(time.DateOnly),
		})
	}
	return out, nil
}

// InspectorRequest is the body of POST /api/v1/inspectors.
type InspectorRequest struct {
	Name      string   `json:"name"`
	City      string   `json:"city"`
	Conflicts []string `json:"conflicts"`
}

// CreateInspector registers an inspector in the pool (the province only).
func (d SpotCheckDeps) CreateInspector(ctx context.Context, u voucherwatch.User, q InspectorRequest) (voucherwatch.Inspector, error) {
	if !mayDraw(u.Role) {
		return voucherwatch.Inspector{}, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "only the province registers inspectors")
	}
	in, err := voucherwatch.CheckNewInspector(voucherwatch.Inspector{Name: q.Name, City: q.City, Conflicts: q.Conflicts})
	if err != nil {
		return in, err
	}
	in.ID, in.CreatedAt, in.CreatedBy = "in_"+randomHex(8), d.now(), u.ID
	return in, d.Store.CreateInspector(ctx, in)
}

// DisableInspector takes an inspector out of the pool (the province only).
func (d SpotCheckDeps) DisableInspector(ctx context.Context, u voucherwatch.User, id string) error {
	if !mayDraw(u.Role) {
		return voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "only the province manages inspectors")
	}
	return d.Store.DisableInspector(ctx, id, d.now())
}

// Inspectors lists the pool. Declared conflicts are the province's and auditors' to see.
func (d SpotCheckDeps) Inspectors(ctx context.Context, u voucherwatch.User) ([]voucherwatch.Inspector, error) {
	all, err := d.Store.Inspectors(ctx)
	if err != nil {
		return nil, err
	}
	if workflow.CityScope(u) != "" {
		for i := range all {
			all[i].Conflicts = nil
		}
	}
	return all, nil
}

func (h spotCheckRoutes) draw(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if !mayDraw(u.Role) { // before reading the body: a refusal should not depend on it
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

// mayAudit: the inputs hold every city's risk inputs, so the province and auditors only.
func mayAudit(r voucherwatch.Role) bool { return r.MayExport() }

func (h spotCheckRoutes) inputs(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if !mayAudit(u.Role) {
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
	var q ResultRequest
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
	maskResultComments(all)
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
	if !mayDraw(u.Role) {
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
