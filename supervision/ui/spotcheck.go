package ui

import (
	"net/http"
	"net/url"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/spotcheck"
	"github.com/voucherwatch/voucherwatch/supervision/export"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// inspectionOutcomes are the outcomes in the order the result form offers them.
var inspectionOutcomes = []voucherwatch.InspectionOutcome{
	voucherwatch.OutcomeNoProblem, voucherwatch.OutcomeProblemFound, voucherwatch.OutcomeRectification,
}

// spotCheckPage is the data of one draw's page (GET /spotchecks/{id}).
type spotCheckPage struct {
	workflow.SpotCheckView
	Items []spotCheckRow
	// MayAudit offers the re-run (the province and auditors).
	MayAudit bool
	// Verification is the re-run's verdict, on GET /spotchecks/{id}/verify.
	Verification *spotcheck.Verification
	Outcomes     []voucherwatch.InspectionOutcome
	Form         workflow.ResultRequest // what was typed, after a failure
}

// spotCheckRow is an item with whether the user may record its result: the form is offered
// only where RecordResult would accept it.
type spotCheckRow struct {
	workflow.SpotCheckItemView
	MayRecord bool
}

// Verified reports whether the re-run agrees with the record in every respect.
func (p spotCheckPage) Verified() bool {
	v := p.Verification
	return v != nil && v.DigestMatches && v.MethodMatches && v.ItemsMatch
}

// ShowSpotCheck answers GET /spotchecks/{id}: the draw's record (seed, method, parameters,
// inputs digest) and its items as the user may see them, each with its latest result and, for
// those who may record one, a form.
func (h *Handler) ShowSpotCheck(w http.ResponseWriter, r *http.Request, q Request) {
	h.renderSpotCheck(w, r, q, http.StatusOK, "", workflow.ResultRequest{}, nil)
}

// ShowSpotCheckVerify answers GET /spotchecks/{id}/verify: the draw's page with the verdict of
// re-running it from its recorded inputs (the province and auditors).
func (h *Handler) ShowSpotCheckVerify(w http.ResponseWriter, r *http.Request, q Request) {
	if h.SpotChecks == nil {
		h.renderError(w, r, q, http.StatusNotFound, locale.T("error.not_found"))
		return
	}
	v, err := h.SpotChecks.Verify(r.Context(), q.user, r.PathValue("id"))
	if err != nil {
		h.failPage(w, r, q, err)
		return
	}
	h.renderSpotCheck(w, r, q, http.StatusOK, "", workflow.ResultRequest{}, &v)
}

func (h *Handler) renderSpotCheck(w http.ResponseWriter, r *http.Request, q Request, status int, errMsg string, form workflow.ResultRequest, verification *spotcheck.Verification) {
	if h.SpotChecks == nil {
		h.renderError(w, r, q, http.StatusNotFound, locale.T("error.not_found"))
		return
	}
	v, err := h.SpotChecks.View(r.Context(), q.user, r.PathValue("id"))
	if err != nil {
		h.failPage(w, r, q, err)
		return
	}
	p := spotCheckPage{SpotCheckView: v, MayAudit: workflow.MayAudit(q.user.Role), Verification: verification, Outcomes: inspectionOutcomes, Form: form}
	for _, it := range v.Items {
		p.Items = append(p.Items, spotCheckRow{SpotCheckItemView: it, MayRecord: workflow.MayRecordResult(q.user, it.City)})
	}
	d := h.data(r, q, locale.T("spotcheck.title")+" "+v.ID, "spotchecks")
	d.Error = errMsg
	d.Page = p
	h.render(w, status, "spotcheck", d)
}

// PostSpotCheckResult answers POST /spotchecks/{id}/results (uscc, result, comment): the
// result of inspecting one item, recorded as through the API.
func (h *Handler) PostSpotCheckResult(w http.ResponseWriter, r *http.Request, q Request) {
	if h.SpotChecks == nil {
		h.renderError(w, r, q, http.StatusNotFound, locale.T("error.not_found"))
		return
	}
	id := r.PathValue("id")
	form := workflow.ResultRequest{USCC: r.PostFormValue("uscc"), Result: r.PostFormValue("result"), Comment: r.PostFormValue("comment")}
	res, err := h.SpotChecks.RecordResult(r.Context(), q.user, id, form)
	switch voucherwatch.ErrorCode(err) {
	case "":
		http.Redirect(w, r, "/spotchecks/"+url.PathEscape(id)+"?flash=result#item-"+url.PathEscape(res.USCC), http.StatusSeeOther)
	case voucherwatch.EINVALID:
		h.renderSpotCheck(w, r, q, errStatus(err), spotCheckErrorMessage(err), form, nil)
	default:
		h.failPage(w, r, q, err)
	}
}

// ExportSpotCheck answers GET /spotchecks/{id}/export.csv and .xlsx: the list as the user
// may see it, signed in by the session, written as the API writes it.
func (h *Handler) ExportSpotCheck(ext string) PageHandler {
	return func(w http.ResponseWriter, r *http.Request, q Request) {
		if h.SpotChecks == nil {
			h.renderError(w, r, q, http.StatusNotFound, locale.T("error.not_found"))
			return
		}
		v, err := h.SpotChecks.View(r.Context(), q.user, r.PathValue("id"))
		if err == nil {
			err = export.SpotCheck(w, v, ext)
		}
		if err != nil {
			h.failPage(w, r, q, err)
		}
	}
}

// ShowPublicSpotCheck answers GET /public/spotchecks/{id} to anyone, signed in or not: the
// published list (一公开), as the API's public route gives it, without risk scores.
func (h *Handler) ShowPublicSpotCheck(w http.ResponseWriter, r *http.Request) {
	if h.SpotChecks == nil {
		h.renderError(w, r, Request{}, http.StatusNotFound, locale.T("error.not_found"))
		return
	}
	p, err := h.SpotChecks.Public(r.Context(), r.PathValue("id"))
	if err != nil {
		h.failPage(w, r, Request{}, err)
		return
	}
	h.render(w, http.StatusOK, "public_spotcheck", PageData{Title: locale.T("public.title") + " " + p.ID, Page: p})
}
