package ui

import (
	"net/http"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// overduePage is the data of the overdue explanations page.
type overduePage struct {
	Overdue []voucherwatch.OverdueExplanation
}

// ShowOverdue answers GET /explanations/overdue: the explanations past their deadline, the
// longest overdue first; a city reviewer sees its own city'h.
func (h *Handler) ShowOverdue(w http.ResponseWriter, r *http.Request, q Request) {
	scope := workflow.CityScope(q.user)
	overdue, err := h.Workflow.Events.OverdueExplanations(r.Context(), scope, h.Workflow.Clock())
	if err != nil {
		h.failPage(w, r, q, err)
		return
	}
	d := h.data(r, q, locale.T("overdue.title"), "overdue")
	d.Page = overduePage{Overdue: overdue}
	h.render(w, http.StatusOK, "overdue", d)
}
