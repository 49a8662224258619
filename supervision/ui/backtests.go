package ui

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/export"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// backtestsPage is the data of the backtest list (GET /backtests).
type backtestsPage struct {
	Unavailable bool
	Log         []voucherwatch.BacktestLog
	MayRun      bool
	Policy      string // the policy file in the form: the policy in force, or what was sent
}

// backtestPage is the data of one backtest (GET /backtests/{id}).
type backtestPage struct {
	Entry     voucherwatch.BacktestLog
	Diff      *voucherwatch.BacktestDiff
	ScopeCity string
	MayExport bool
}

// ShowBacktests answers GET /backtests: the log and, for the province, the form to run one.
func (h *Handler) ShowBacktests(w http.ResponseWriter, r *http.Request, q Request) {
	h.renderBacktests(w, r, q, http.StatusOK, "", "")
}

func (h *Handler) renderBacktests(w http.ResponseWriter, r *http.Request, q Request, status int, errMsg, policy string) {
	d := h.data(r, q, locale.T("backtests.title"), "backtests")
	d.Error = errMsg
	if h.Backtests == nil {
		d.Page = backtestsPage{Unavailable: true}
		h.render(w, http.StatusOK, "backtests", d)
		return
	}
	log, err := h.Backtests.Log.Backtests(r.Context(), 100)
	if err != nil {
		h.failPage(w, r, q, err)
		return
	}
	if policy == "" {
		b, _ := json.MarshalIndent(h.Backtests.Policy, "", "  ")
		policy = string(b)
	}
	d.Page = backtestsPage{Log: log, MayRun: workflow.MayRunBacktest(q.user), Policy: policy}
	h.render(w, status, "backtests", d)
}

// PostBacktestPage answers POST /backtests: runs a backtest of the policy file typed in the
// form and shows it.
func (h *Handler) PostBacktestPage(w http.ResponseWriter, r *http.Request, q Request) {
	if h.Backtests == nil || !workflow.MayRunBacktest(q.user) {
		h.renderError(w, r, q, http.StatusForbidden, locale.T("error.forbidden"))
		return
	}
	policy := r.PostFormValue("policy")
	entry, _, err := h.Backtests.Backtest(r.Context(), q.user, []byte(policy))
	switch {
	case errors.Is(err, workflow.ErrBacktestTimedOut):
		h.renderBacktests(w, r, q, http.StatusServiceUnavailable, locale.T("backtests.timed_out"), policy)
	case voucherwatch.ErrorCode(err) == voucherwatch.EINVALID:
		h.renderBacktests(w, r, q, http.StatusBadRequest, locale.T("backtests.bad_policy")+" "+err.Error(), policy)
	case voucherwatch.ErrorCode(err) == voucherwatch.ECONFLICT:
		h.renderBacktests(w, r, q, http.StatusConflict, locale.T("backtests.busy"), policy)
	case err != nil:
		h.failPage(w, r, q, err)
	default:
		http.Redirect(w, r, "/backtests/"+url.PathEscape(entry.ID), http.StatusSeeOther)
	}
}

// ShowBacktest answers GET /backtests/{id}: the diff side by side, before and after; a city
// reviewer sees its city's part.
func (h *Handler) ShowBacktest(w http.ResponseWriter, r *http.Request, q Request) {
	if h.Backtests == nil {
		h.renderError(w, r, q, http.StatusNotFound, locale.T("error.not_found"))
		return
	}
	entry, diff, err := h.Backtests.For(r.Context(), q.user, r.PathValue("id"))
	if err != nil {
		h.failPage(w, r, q, err)
		return
	}
	d := h.data(r, q, locale.T("backtests.one"), "backtests")
	d.Page = backtestPage{Entry: entry, Diff: diff, ScopeCity: workflow.CityScope(q.user), MayExport: workflow.CityScope(q.user) == "" && diff != nil}
	h.render(w, http.StatusOK, "backtest", d)
}

// ExportBacktest answers GET /backtests/{id}/export.xlsx: the diff as a workbook, for the
// province.
func (h *Handler) ExportBacktest(w http.ResponseWriter, r *http.Request, q Request) {
	if h.Backtests == nil || workflow.CityScope(q.user) != "" {
		h.renderError(w, r, q, http.StatusForbidden, locale.T("error.forbidden"))
		return
	}
	entry, diff, err := h.Backtests.For(r.Context(), q.user, r.PathValue("id"))
	if err == nil && diff == nil {
		err = voucherwatch.Errorf(voucherwatch.ENOTFOUND, "backtest %s has no diff", entry.ID)
	}
	if err != nil {
		h.failPage(w, r, q, err)
		return
	}
	if err := export.Write(w, backtestTable(entry, *diff), "voucherwatch-"+entry.ID, "xlsx", "backtest "+entry.ID); err != nil {
		h.failPage(w, r, q, err)
	}
}

// backtestTable is a backtest as one sheet: the run, the subsidy by city before and after, the
// counts by detector and city, the enterprises most affected, and the alerts that appear and
// disappear.
func backtestTable(e voucherwatch.BacktestLog, d voucherwatch.BacktestDiff) export.Table {
	rows := [][]string{
		{locale.T("backtests.col.id"), e.ID, locale.T("backtests.col.at"), e.At.In(voucherwatch.CST).Format("2006-01-02 15:04:05"),
			locale.T("backtests.col.user"), e.UserName, locale.T("backtests.col.digest"), e.PolicyDigest},
		{},
		{locale.T("backtests.subsidy"), "", "", "", ""},
		{locale.T("backtests.col.city"), locale.T("backtests.col.claims"), locale.T("backtests.col.before"), locale.T("backtests.col.after"), locale.T("backtests.col.change")},
	}
	city := func(c string) string {
		if c == "" {
			return locale.T("backtests.province")
		}
		return voucherwatch.CityName(c)
	}
	for _, x := range d.Subsidy {
		rows = append(rows, []string{city(x.City), strconv.Itoa(x.Claims), voucherwatch.Money(x.Before).String(),
			voucherwatch.Money(x.After).String(), voucherwatch.Money(x.After - x.Before).String()})
	}
	rows = append(rows, []string{}, []string{locale.T("backtests.counts")},
		[]string{locale.T("backtests.col.detector"), locale.T("backtests.col.city"), locale.T("backtests.col.appeared"), locale.T("backtests.col.disappeared")})
	for _, x := range d.Counts {
		rows = append(rows, []string{locale.DetectorLabel(x.Detector), city(x.City), strconv.Itoa(x.Appeared), strconv.Itoa(x.Disappeared)})
	}
	rows = append(rows, []string{}, []string{locale.T("backtests.enterprises")},
		[]string{locale.T("backtests.col.enterprise"), locale.T("backtests.col.uscc"), locale.T("backtests.col.city"), locale.T("backtests.col.before"),
			locale.T("backtests.col.after"), locale.T("backtests.col.appeared"), locale.T("backtests.col.disappeared")})
	for _, x := range d.Enterprises {
		rows = append(rows, []string{x.Name, x.USCC, city(x.City), voucherwatch.Money(x.Before).String(),
			voucherwatch.Money(x.After).String(), strconv.Itoa(x.Appeared), strconv.Itoa(x.Disappeared)})
	}
	for _, side := range []struct {
		title  string
		alerts []voucherwatch.BacktestAlert
	}{{locale.T("backtests.appeared"), d.Appeared}, {locale.T("backtests.disappeared"), d.Disappeared}} {
		rows = append(rows, []string{}, []string{side.title},
			[]string{locale.T("backtests.col.detector"), locale.T("backtests.col.city"), locale.T("backtests.col.uscc"), locale.T("backtests.col.claim"),
				locale.T("backtests.col.title"), locale.T("backtests.col.at_stake")})
		for _, a := range side.alerts {
			rows = append(rows, []string{locale.DetectorLabel(a.Detector), city(a.City), a.ApplicantUSCC, a.ClaimID, a.Title,
				voucherwatch.Money(a.AtStake).String()})
		}
	}
	return export.Table{Sheet: locale.T("backtests.sheet"), Rows: rows, Widths: map[string]float64{"A": 22, "B": 24, "C": 14, "D": 18, "E": 40, "F": 16}}
}
