package ui

import (
	"net/http"
	"slices"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// enterprisePage is the data of the enterprise page.
type enterprisePage struct {
	USCC        string
	Unavailable bool
	File        voucherwatch.EnterpriseFile
	City        string
	Alerts      []voucherwatch.Alert
	// Register is the supplier's rows across the register's editions, newest first.
	Register []voucherwatch.RegisterHistoryEntry
}

// Truncated reports whether the list name holds only its newest rows.
func (p enterprisePage) Truncated(name string) bool { return slices.Contains(p.File.Truncated, name) }

// ShowEnterprise answers GET /enterprises/{uscc}: the registry facts, dealings and alerts of
// one enterprise. People appear with their masked identity number only, phone numbers and
// e-mail addresses in part, bank accounts by their last digits. Another city's enterprise, or
// one whose city is unknown, does not exist for a city reviewer.
func (h *Handler) ShowEnterprise(w http.ResponseWriter, r *http.Request, q Request) {
	uscc := r.PathValue("uscc")
	p := enterprisePage{USCC: uscc}
	d := h.data(r, q, locale.T("enterprise.title")+" "+uscc, "inbox")
	store := h.Enterprises
	if store == nil {
		p.Unavailable = true
		d.Page = p
		h.render(w, http.StatusOK, "enterprise", d)
		return
	}
	f, err := store.EnterpriseFile(r.Context(), uscc)
	scope := workflow.CityScope(q.user)
	if err == nil && scope != "" && f.City() != scope {
		err = voucherwatch.Errorf(voucherwatch.ENOTFOUND, "enterprise %s not found", uscc)
	}
	if err != nil {
		h.failPage(w, r, q, err)
		return
	}
	p.File, p.City = f, f.City()
	if f.Entity != nil && f.Entity.Name != "" {
		d.Title = f.Entity.Name
	}
	p.Alerts, _, err = h.Alerts.Alerts(r.Context(), voucherwatch.AlertFilter{ApplicantUSCC: uscc, City: scope, Limit: 200})
	if err != nil {
		h.failPage(w, r, q, err)
		return
	}
	if h.Register != nil {
		if p.Register, err = h.Register.History(r.Context(), uscc); err != nil {
			h.failPage(w, r, q, err)
			return
		}
	}
	d.Page = p
	h.render(w, http.StatusOK, "enterprise", d)
}
