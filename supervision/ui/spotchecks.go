package ui

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/spotcheck"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// spotChecksPage is the data of the spot-check list (GET /spotchecks).
type spotChecksPage struct {
	Unavailable bool
	Draws       []drawRow
	// Schedule is the scheduled draws' state; nil when the engine has none.
	Schedule *spotcheck.SchedulerStatus
	// MayDraw offers the draw form and the inspector forms (the province).
	MayDraw bool
	// MayAudit shows the schedule's last error and the inspector pool (province, auditors).
	MayAudit   bool
	Inspectors []voucherwatch.Inspector
	Cities     []cityOption
	DrawForm   drawForm      // what was typed, after a failure
	Inspector  inspectorForm // what was typed, after a failure
}

// drawRow is one draw in the list, with how many of the items the user sees have a result.
type drawRow struct {
	voucherwatch.SpotCheck
	Items, Recorded int
}

// drawForm is the draw form as typed: the share in percent, the minimum and the seed, each
// optional.
type drawForm struct{ Share, Min, Seed string }

// inspectorForm is the inspector registration form as typed; Conflicts one USCC a line.
type inspectorForm struct{ Name, City, Conflicts string }

// ShowSpotChecks answers GET /spotchecks: the draws, newest first, the schedule's state, and
// for the province the draw form and the inspector pool.
func (h *Handler) ShowSpotChecks(w http.ResponseWriter, r *http.Request, q Request) {
	h.renderSpotChecks(w, r, q, http.StatusOK, "", drawForm{}, inspectorForm{})
}

func (h *Handler) renderSpotChecks(w http.ResponseWriter, r *http.Request, q Request, status int, errMsg string, df drawForm, inf inspectorForm) {
	d := h.data(r, q, locale.T("spotchecks.title"), "spotchecks")
	d.Error = errMsg
	sd := h.SpotChecks
	if sd == nil {
		d.Page = spotChecksPage{Unavailable: true}
		h.render(w, http.StatusOK, "spotchecks", d)
		return
	}
	ctx := r.Context()
	p := spotChecksPage{MayDraw: workflow.MayDraw(q.user.Role), MayAudit: workflow.MayAudit(q.user.Role), DrawForm: df, Inspector: inf}
	draws, err := sd.List(ctx, q.user)
	if err != nil {
		h.failPage(w, r, q, err)
		return
	}
	// A city reviewer sees its city's share of each draw, counted by the store at once.
	var cityProgress map[string]voucherwatch.SpotCheckProgress
	if scope := workflow.CityScope(q.user); scope != "" {
		if cityProgress, err = sd.Store.SpotCheckProgress(ctx, scope); err != nil {
			h.failPage(w, r, q, err)
			return
		}
	}
	for _, sc := range draws {
		row := drawRow{SpotCheck: sc}
		if cityProgress != nil {
			pr := cityProgress[sc.ID]
			row.Items, row.Recorded = pr.Items, pr.Recorded
			p.Draws = append(p.Draws, row)
			continue
		}
		if row.Items, row.Recorded, err = drawProgress(ctx, *sd, sc); err != nil {
			h.failPage(w, r, q, err)
			return
		}
		p.Draws = append(p.Draws, row)
	}
	if sd.Schedule != nil {
		st := sd.Schedule()
		p.Schedule = &st
	}
	if p.MayAudit {
		if p.Inspectors, err = sd.Inspectors(ctx, q.user); err != nil {
			h.failPage(w, r, q, err)
			return
		}
	}
	for _, code := range sortedCityCodes() {
		p.Cities = append(p.Cities, cityOption{Code: code, Name: voucherwatch.CityName(code)})
	}
	d.Page = p
	h.render(w, status, "spotchecks", d)
}

// drawProgress counts the items of a draw and how many of them have a result, for the
// province and auditors, who see every item.
func drawProgress(ctx context.Context, sd workflow.SpotChecks, sc voucherwatch.SpotCheck) (items, recorded int, err error) {
	results, err := sd.Store.InspectionResults(ctx, sc.ID)
	if err != nil {
		return 0, 0, err
	}
	seen := map[string]bool{}
	for _, res := range results {
		seen[res.USCC] = true
	}
	return sc.ItemCount, len(seen), nil
}

// PostSpotCheck answers POST /spotchecks (share in percent, min, seed; each optional): a
// draw on demand, then its page.
func (h *Handler) PostSpotCheck(w http.ResponseWriter, r *http.Request, q Request) {
	if h.SpotChecks == nil || !workflow.MayDraw(q.user.Role) { // before reading the form, as the API does
		h.renderError(w, r, q, http.StatusForbidden, locale.T("error.forbidden"))
		return
	}
	form := drawForm{Share: strings.TrimSpace(r.PostFormValue("share")), Min: strings.TrimSpace(r.PostFormValue("min")), Seed: strings.TrimSpace(r.PostFormValue("seed"))}
	req, err := form.request()
	if err == nil {
		var sc voucherwatch.SpotCheck
		if sc, err = h.SpotChecks.Draw(r.Context(), q.user, req); err == nil {
			h.Log.Info("supervision: spot check drawn", "id", sc.ID, "seed", sc.Seed, "items", len(sc.Items), "by", q.user.ID)
			http.Redirect(w, r, "/spotchecks/"+url.PathEscape(sc.ID)+"?flash=drawn", http.StatusSeeOther)
			return
		}
	}
	if voucherwatch.ErrorCode(err) != voucherwatch.EINVALID {
		h.failPage(w, r, q, err)
		return
	}
	h.renderSpotChecks(w, r, q, errStatus(err), spotCheckErrorMessage(err), form, inspectorForm{})
}

// request reads the form: the share is typed in percent.
func (f drawForm) request() (workflow.DrawRequest, error) {
	var q workflow.DrawRequest
	if f.Share != "" {
		v, err := strconv.ParseFloat(strings.TrimSuffix(f.Share, "%"), 64)
		if err != nil {
			return q, voucherwatch.FieldErrorf("share", "want a percentage, got %q", f.Share)
		}
		v /= 100
		q.Share = &v
	}
	if f.Min != "" {
		v, err := strconv.Atoi(f.Min)
		if err != nil {
			return q, voucherwatch.FieldErrorf("min", "want a whole number, got %q", f.Min)
		}
		q.Min = &v
	}
	if f.Seed != "" {
		v, err := strconv.ParseUint(f.Seed, 10, 64)
		if err != nil {
			return q, voucherwatch.FieldErrorf("seed", "want a whole number, got %q", f.Seed)
		}
		q.Seed = &v
	}
	return q, nil
}

// PostInspector answers POST /inspectors (name, city, conflicts one USCC a line): the
// province registers an inspector.
func (h *Handler) PostInspector(w http.ResponseWriter, r *http.Request, q Request) {
	if h.SpotChecks == nil {
		h.renderError(w, r, q, http.StatusForbidden, locale.T("error.forbidden"))
		return
	}
	form := inspectorForm{Name: r.PostFormValue("name"), City: r.PostFormValue("city"), Conflicts: r.PostFormValue("conflicts")}
	req := workflow.InspectorRequest{Name: form.Name, City: form.City}
	for _, line := range strings.FieldsFunc(form.Conflicts, func(c rune) bool { return c == '\n' || c == '\r' || c == ',' || c == '，' }) {
		if line = strings.TrimSpace(line); line != "" {
			req.Conflicts = append(req.Conflicts, line)
		}
	}
	_, err := h.SpotChecks.CreateInspector(r.Context(), q.user, req)
	switch voucherwatch.ErrorCode(err) {
	case "":
		http.Redirect(w, r, "/spotchecks?flash=inspector#inspectors", http.StatusSeeOther)
	case voucherwatch.EINVALID:
		h.renderSpotChecks(w, r, q, errStatus(err), spotCheckErrorMessage(err), drawForm{}, form)
	default:
		h.failPage(w, r, q, err)
	}
}

// PostInspectorDisable answers POST /inspectors/{id}/disable: the province takes an
// inspector out of the pool.
func (h *Handler) PostInspectorDisable(w http.ResponseWriter, r *http.Request, q Request) {
	if h.SpotChecks == nil {
		h.renderError(w, r, q, http.StatusForbidden, locale.T("error.forbidden"))
		return
	}
	if err := h.SpotChecks.DisableInspector(r.Context(), q.user, r.PathValue("id")); err != nil {
		h.failPage(w, r, q, err)
		return
	}
	http.Redirect(w, r, "/spotchecks?flash=inspector_disabled#inspectors", http.StatusSeeOther)
}

// spotCheckErrorMessage says in Chinese what is wrong with a spot-check form: by the field at
// fault where the catalogue has a spot-check message for it, else as uiErrorMessage does.
func spotCheckErrorMessage(err error) string {
	var e *voucherwatch.Error
	if errors.As(err, &e) && e.Field != "" {
		if m, ok := locale.Lookup("error.field.spotcheck." + e.Field); ok {
			return m
		}
	}
	return uiErrorMessage(err)
}
