package workflow

import (
	"context"
	"strings"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/spotcheck"
)

// Register is the supplier register (信息登记发布) with its dependencies. Its
// methods are the operations with their access rules, so that the web UI calls the same ones
// as the API.
//
// Who may do what: the province (administrator and reviewer) makes editions; every signed-in
// role reads them (city reviewers included: the register is public anyway); an edition's
// inputs are the province's and auditors'. The published register needs no sign-in.
type Register struct {
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

func (d Register) now() time.Time {
	if d.Now == nil {
		return time.Now()
	}
	return d.Now()
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
	// scheduled slot) and answers ErrNoSuppliers.
	SkipEmpty bool
}

// ErrNoSuppliers is what MakeEdition answers for a run with SkipEmpty when the registry has no
// supplier.
var ErrNoSuppliers = voucherwatch.Errorf(voucherwatch.ENOTFOUND, "no suppliers in the registry")

// MakeEdition gathers the period's inputs, computes the edition, and records it with its
// inputs and their digest. It returns the store's ECONFLICT when the id is taken.
func (d Register) MakeEdition(ctx context.Context, run EditionRun) (voucherwatch.RegisterEdition, error) {
	from, to := run.Period.Bounds()
	suppliers, err := d.Store.RegisterSuppliers(ctx, voucherwatch.RegisterQuery{From: from, To: to, OnTimeHours: d.Params.OnTimeHours, UsageTopic: d.UsageTopic})
	if err != nil {
		return voucherwatch.RegisterEdition{}, err
	}
	if run.SkipEmpty && len(suppliers) == 0 {
		return voucherwatch.RegisterEdition{}, ErrNoSuppliers
	}
	in := voucherwatch.RegisterInputs{Period: run.Period, Params: d.Params, Suppliers: suppliers}.Canonical()
	if run.ID == "" {
		run.ID = "rg-" + run.At.In(voucherwatch.CST).Format("20060102-150405") + "-" + RandomHex(3)
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
func (d Register) Create(ctx context.Context, u voucherwatch.User, q EditionRequest) (voucherwatch.RegisterEdition, error) {
	if !MayDraw(u.Role) {
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
func (d Register) Edition(ctx context.Context, id string) (voucherwatch.RegisterEdition, error) {
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
func (d Register) History(ctx context.Context, uscc string) ([]voucherwatch.RegisterHistoryEntry, error) {
	return d.Store.SupplierRegisterHistory(ctx, strings.ToUpper(strings.TrimSpace(uscc)))
}
