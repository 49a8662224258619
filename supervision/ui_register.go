package supervision

import (
	"net/http"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
	"github.com/voucherwatch/voucherwatch/supervision/ui"
)

// showPublicRegister answers GET /public/register to anyone, signed in or not: the latest
// edition of the supplier register (or the one ?edition= names), with enterprises' figures
// only: no person, nothing unconfirmed.
func (s *Server) showPublicRegister(w http.ResponseWriter, r *http.Request) {
	if s.ui == nil || s.register == nil {
		http.NotFound(w, r)
		return
	}
	e, err := s.register.Edition(r.Context(), r.URL.Query().Get("edition"))
	if voucherwatch.ErrorCode(err) == voucherwatch.ENOTFOUND && r.URL.Query().Get("edition") == "" {
		s.renderError(w, r, uiRequest{}, http.StatusNotFound, locale.T("register.empty"))
		return
	}
	if err != nil {
		s.failPage(w, r, uiRequest{}, err)
		return
	}
	s.render(w, http.StatusOK, "public_register", ui.PageData{Title: locale.T("register.title") + " " + string(e.Period), Page: e})
}

// registerSupplierPage is the data of a supplier's public register page.
type registerSupplierPage struct {
	USCC, Name string
	History    []voucherwatch.RegisterHistoryEntry
}

// showPublicRegisterSupplier answers GET /public/register/suppliers/{uscc} to anyone: one
// supplier's rows across editions, so that a buyer sees its trend.
func (s *Server) showPublicRegisterSupplier(w http.ResponseWriter, r *http.Request) {
	if s.ui == nil || s.register == nil {
		http.NotFound(w, r)
		return
	}
	hist, err := s.register.History(r.Context(), r.PathValue("uscc"))
	if err != nil {
		s.failPage(w, r, uiRequest{}, err)
		return
	}
	if len(hist) == 0 {
		s.renderError(w, r, uiRequest{}, http.StatusNotFound, locale.T("register.history.empty"))
		return
	}
	p := registerSupplierPage{USCC: hist[0].Row.USCC, Name: hist[0].Row.Name, History: hist}
	s.render(w, http.StatusOK, "public_register_supplier", ui.PageData{Title: p.Name + " " + locale.T("register.history"), Page: p})
}
