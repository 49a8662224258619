package supervision

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/spotcheck"
	"github.com/voucherwatch/voucherwatch/supervision/api"
)

// RegisterDeps are the dependencies of the supplier register's routes (信息登记发布). Its
// methods are the operations with their access rules, so that the web UI calls the same ones
// as the API.
//
// Who may do what: the province (administrator and reviewer) makes editions; every signed-in
// role reads them (city reviewers included: the register is public anyway); an edition's
// inputs are the province's and auditors'. The published register needs no sign-in.
type RegisterDeps struct {
	Store voucherwatch.RegisterStore
	// Params are the parameters every edition is computed with.
	Params voucherwatch.RegisterParams
	// UsageTopic is the telemetry topic, whose dead letters make the reject rate.
	UsageTopic string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Schedule reports the scheduled editions' state; nil when there is none.
	Schedule func() spotcheck.SchedulerStatus
}

func (d RegisterDeps) now() time.Time {
	if d.Now == nil {
		return time.Now()
	}
	return d.Now()
}

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

// EditionRequest is the body of POST /api/v1/register/editions; period (YYYY-MM) defaults to
// the last complete month.
type EditionRequest struct {
	Period string `json:"period"`
}

// EditionRun asks for one edition to be made.
type EditionRun struct {
	ID      string // empty: a fresh on-demand id
	Period  voucherwatch.RegisterPeriod
	Trigger string
	By      string
	At      time.Time
	// SkipEmpty records nothing when the registry has no supplier yet (a fresh installation's
	// scheduled slot) and answers errNoSuppliers.
	SkipEmpty bool
}

var errNoSuppliers = voucherwatch.Errorf(voucherwatch.ENOTFOUND, "no suppliers in the registry")

// MakeEdition gathers the period's inputs, computes the edition, and records it with its
// inputs and their digest. It returns the store's ECONFLICT when the id is taken.
func (d RegisterDeps) MakeEdition(ctx context.Context, run EditionRun) (voucherwatch.RegisterEdition, error) {
	from, to := run.Period.Bounds()
	suppliers, err := d.Store.RegisterSuppliers(ctx, voucherwatch.RegisterQuery{From: from, To: to, OnTimeHours: d.Params.OnTimeHours, UsageTopic: d.UsageTopic})
	if err != nil {
		return voucherwatch.RegisterEdition{}, err
	}
	if run.SkipEmpty && len(suppliers) == 0 {
		return voucherwatch.RegisterEdition{}, errNoSuppliers
	}
	in := voucherwatch.RegisterInputs{Period: run.Period, Params: d.Params, Suppliers: suppliers}.Canonical()
	if run.ID == "" {
		run.ID = "rg-" + run.At.In(voucherwatch.CST).Format("20060102-150405") + "-" + randomHex(3)
	}
	rows := voucherwatch.ComputeRegister(in)
	e := voucherwatch.RegisterEdition{
		ID: run.ID, Period: run.Period, Method: voucherwatch.RegisterMethod, InputsDigest: in.Digest(), Inputs: &in,
		Trigger: run.Trigger, CreatedAt: run.At.Truncate(time.Second), CreatedBy: run.By, SupplierCount: len(rows), Suppliers: rows,
	}
	if err := d.Store.CreateRegisterEdition(ctx, e); err != nil {
		return voucherwatch.RegisterEdition{}, err
	}
	return e, nil
}

// Create makes an edition on demand for u: the province only.
func (d RegisterDeps) Create(ctx context.Context, u voucherwatch.User, q EditionRequest) (voucherwatch.RegisterEdition, error) {
	if !mayDraw(u.Role) {
		return voucherwatch.RegisterEdition{}, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "only the province publishes register editions")
	}
	at := d.now()
	period := voucherwatch.PreviousPeriod(at)
	if q.Period != "" {
		var err error
		if period, err = voucherwatch.ParseRegisterPeriod(strings.TrimSpace(q.Period)); err != nil {
			return voucherwatch.RegisterEdition{}, err
		}
		if period > voucherwatch.PeriodOf(at) {
			return voucherwatch.RegisterEdition{}, voucherwatch.FieldErrorf("period", "%s has not begun", period)
		}
	}
	return d.MakeEdition(ctx, EditionRun{Period: period, Trigger: voucherwatch.RegisterOnDemand, By: u.ID, At: at})
}

// Edition reads one edition without its inputs; the latest when id is empty (ENOTFOUND when
// there is none).
func (d RegisterDeps) Edition(ctx context.Context, id string) (voucherwatch.RegisterEdition, error) {
	if id == "" {
		all, err := d.Store.RegisterEditions(ctx)
		if err != nil {
			return voucherwatch.RegisterEdition{}, err
		}
		if len(all) == 0 {
			return voucherwatch.RegisterEdition{}, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "no register edition yet")
		}
		id = all[0].ID
	}
	e, err := d.Store.RegisterEdition(ctx, id)
	e.Inputs = nil
	return e, err
}

// History is one supplier's rows across editions, newest first. The register is public, so
// every role reads every supplier's.
func (d RegisterDeps) History(ctx context.Context, uscc string) ([]voucherwatch.RegisterHistoryEntry, error) {
	return d.Store.SupplierRegisterHistory(ctx, strings.ToUpper(strings.TrimSpace(uscc)))
}

func (h registerRoutes) create(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if !mayDraw(u.Role) { // before reading the body: a refusal should not depend on it
		h.s.fail(w, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "only the province publishes register editions"))
		return
	}
	var q EditionRequest
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
// give its rows: the province's and auditors' (mayAudit), like a draw's inputs.
func (h registerRoutes) inputs(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if !mayAudit(u.Role) {
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
		if err := writeRegisterExport(w, e, ext); err != nil {
			h.s.fail(w, err)
		}
	}
}
