package workflow

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/spotcheck"
)

// SpotChecks are the spot checks (专项抽查, "双随机、一公开") with their dependencies. Its
// methods are the operations with their access rules, so that the web UI calls the same ones
// as the API.
//
// Who may do what: the province (administrator and reviewer) draws, registers inspectors and
// records results; a city reviewer reads the items of its own city and records their results
// but may not draw; an auditor reads everything (the inputs too, to re-run a draw) and changes
// nothing. The published list (一公开) needs no token.
type SpotChecks struct {
	Store voucherwatch.SpotCheckStore
	// Defaults are the parameters of a draw on demand that names none.
	Defaults voucherwatch.SpotCheckParams
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Schedule reports the scheduled draws' state for the UI; nil when there is none.
	Schedule func() spotcheck.SchedulerStatus
}

func (d SpotChecks) now() time.Time {
	if d.Now == nil {
		return time.Now()
	}
	return d.Now()
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
func (d SpotChecks) Draw(ctx context.Context, u voucherwatch.User, q DrawRequest) (voucherwatch.SpotCheck, error) {
	if !MayDraw(u.Role) {
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
func (d SpotChecks) View(ctx context.Context, u voucherwatch.User, id string) (SpotCheckView, error) {
	sc, err := d.Store.SpotCheck(ctx, id)
	if err != nil {
		return SpotCheckView{}, err
	}
	results, err := d.Store.InspectionResults(ctx, id)
	if err != nil {
		return SpotCheckView{}, err
	}
	MaskResultComments(results)
	latest := map[string]*voucherwatch.InspectionResult{}
	for i := range results {
		latest[results[i].USCC] = &results[i] // oldest first: the last one wins
	}
	v := SpotCheckView{SpotCheck: sc, Items: []SpotCheckItemView{}}
	v.Inputs, v.SpotCheck.Items = nil, nil
	scope := CityScope(u)
	for _, it := range sc.Items {
		if scope != "" && it.City != scope {
			continue
		}
		v.Items = append(v.Items, SpotCheckItemView{SpotCheckItem: it, CityName: voucherwatch.CityName(it.City), Result: latest[it.USCC]})
	}
	return v, nil
}

// List lists the draws, newest first.
func (d SpotChecks) List(ctx context.Context, _ voucherwatch.User) ([]voucherwatch.SpotCheck, error) {
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
func (d SpotChecks) RecordResult(ctx context.Context, u voucherwatch.User, id string, q ResultRequest) (voucherwatch.InspectionResult, error) {
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
		if it.USCC == uscc && MayRecordResult(u, it.City) {
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
func (d SpotChecks) Verify(ctx context.Context, u voucherwatch.User, id string) (spotcheck.Verification, error) {
	if !MayAudit(u.Role) {
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
func (d SpotChecks) Public(ctx context.Context, id string) (PublicList, error) {
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
func (d SpotChecks) CreateInspector(ctx context.Context, u voucherwatch.User, q InspectorRequest) (voucherwatch.Inspector, error) {
	if !MayDraw(u.Role) {
		return voucherwatch.Inspector{}, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "only the province registers inspectors")
	}
	in, err := voucherwatch.CheckNewInspector(voucherwatch.Inspector{Name: q.Name, City: q.City, Conflicts: q.Conflicts})
	if err != nil {
		return in, err
	}
	in.ID, in.CreatedAt, in.CreatedBy = "in_"+RandomHex(8), d.now(), u.ID
	return in, d.Store.CreateInspector(ctx, in)
}

// DisableInspector takes an inspector out of the pool (the province only).
func (d SpotChecks) DisableInspector(ctx context.Context, u voucherwatch.User, id string) error {
	if !MayDraw(u.Role) {
		return voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "only the province manages inspectors")
	}
	return d.Store.DisableInspector(ctx, id, d.now())
}

// Inspectors lists the pool. Declared conflicts are the province's and auditors' to see.
func (d SpotChecks) Inspectors(ctx context.Context, u voucherwatch.User) ([]voucherwatch.Inspector, error) {
	all, err := d.Store.Inspectors(ctx)
	if err != nil {
		return nil, err
	}
	if CityScope(u) != "" {
		for i := range all {
			all[i].Conflicts = nil
		}
	}
	return all, nil
}
