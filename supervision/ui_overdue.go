package supervision

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

// showOverdue answers GET /explanations/overdue: the explanations past their deadline, the
// longest overdue first; a city reviewer sees its own city's.
func (s *Server) showOverdue(w http.ResponseWriter, r *http.Request, q uiRequest) {
	scope := workflow.CityScope(q.user)
	overdue, err := s.workflow.Events.OverdueExplanations(r.Context(), scope, s.workflow.now())
	if err != nil {
		s.failPage(w, r, q, err)
		return
	}
	d := s.data(r, q, locale.T("overdue.title"), "overdue")
	d.Page = overduePage{Overdue: overdue}
	s.render(w, http.StatusOK, "overdue", d)
}
