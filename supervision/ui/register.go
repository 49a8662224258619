package ui

import (
	"net/http"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
)

// ShowPublicRegister answers GET /public/register to anyone, signed in or not: the latest
// edition of the supplier register (or the one ?edition= names), with enterprises' figures
// only: no person, nothing unconfirmed.
func (h *Handler) ShowPublicRegister(w http.ResponseWriter, r *http.Request) {
	if h.Register == nil {
		http.NotFound(w, r)
		return
	}
	e, err := h.Register.Edition(r.Context(), r.URL.Query().Get("edition"))
	if voucherwatch.ErrorCode(err) == voucherwatch.ENOTFOUND && r.URL.Query().Get("edition") == "" {
		h.renderError(w, r, Request{}, http.StatusNotFound, locale.T("register.empty"))
		return
	}
	if err != nil {
		h.failPage(w, r, Request{}, err)
		return
	}
	h.render(w, http.StatusOK, "public_register", PageData{Title: locale.T("register.title") + " " + string(e.Period), Page: e})
}

// registerSupplierPage is the data of a supplier's public register page.
type registerSupplierPage struct {
	USCC, Name string
	History    []voucherwatch.RegisterHistoryEntry
}

// ShowPublicRegisterSupplier answers GET /public/register/suppliers/{uscc} to anyone: one
// supplier's rows across editions, so that a buyer sees its trend.
func (h *Handler) ShowPublicRegisterSupplier(w http.ResponseWriter, r *http.Request) {
	if h.Register == nil {
		http.NotFound(w, r)
		return
	}
	hist, err := h.Register.History(r.Context(), r.PathValue("uscc"))
	if err != nil {
		h.failPage(w, r, Request{}, err)
		return
	}
	if len(hist) == 0 {
		h.renderError(w, r, Request{}, http.StatusNotFound, locale.T("register.history.empty"))
		return
	}
	p := registerSupplierPage{USCC: hist[0].Row.USCC, Name: hist[0].Row.Name, History: hist}
	h.render(w, http.StatusOK, "public_register_supplier", PageData{Title: p.Name + " " + locale.T("register.history"), Page: p})
}
