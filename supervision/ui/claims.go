package ui

import (
	"net/http"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// claimPage is the data of the claim page.
type claimPage struct {
	ClaimID    string
	Assessment *voucherwatch.ClaimAssessment
	Alerts     []voucherwatch.Alert
}

// ShowClaim answers GET /claims/{id}: the claim's assessment (the subsidy arithmetic of 三 and
// each invoice's part in it) and the alerts on it. Another city's claim does not exist for a
// city reviewer.
func (h *Handler) ShowClaim(w http.ResponseWriter, r *http.Request, q Request) {
	id := r.PathValue("id")
	if h.Assess == nil {
		h.failPage(w, r, q, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "no assessments here"))
		return
	}
	a, err := h.Assess(r.Context(), id)
	if err == nil && workflow.CityScope(q.user) != "" && a.City != workflow.CityScope(q.user) {
		err = voucherwatch.Errorf(voucherwatch.ENOTFOUND, "claim %s not found", id)
	}
	if err != nil {
		h.failPage(w, r, q, err)
		return
	}
	p := claimPage{ClaimID: id, Assessment: &a}
	if p.Alerts, err = workflow.ClaimAlerts(r.Context(), h.Alerts, a.ApplicantUSCC, id); err != nil {
		h.failPage(w, r, q, err)
		return
	}
	d := h.data(r, q, locale.T("claim.title")+" "+id, "inbox")
	d.Page = p
	h.render(w, http.StatusOK, "claim", d)
}
