package ui

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// enterprisesPage is the enterprise search.
type enterprisesPage struct {
	Query       string
	Hits        []voucherwatch.EnterpriseHit
	More        bool
	Searched    bool
	Unavailable bool
}

// ShowEnterprises answers GET /enterprises?q=: a full USCC opens the enterprise's file, any
// other text searches names and code prefixes in the registry, within the user's city.
func (h *Handler) ShowEnterprises(w http.ResponseWriter, r *http.Request, q Request) {
	text := strings.TrimSpace(r.URL.Query().Get("q"))
	if u := strings.ToUpper(text); voucherwatch.LooksLikeUSCC(u) {
		http.Redirect(w, r, "/enterprises/"+url.PathEscape(u), http.StatusSeeOther)
		return
	}
	p := enterprisesPage{Query: text}
	d := h.data(r, q, locale.T("enterprises.title"), "enterprises")
	switch {
	case h.Search == nil:
		p.Unavailable = true
	case text != "":
		hits, more, err := h.Search.SearchEnterprises(r.Context(), text, workflow.CityScope(q.user))
		if err != nil {
			h.failPage(w, r, q, err)
			return
		}
		p.Hits, p.More, p.Searched = hits, more, true
	}
	d.Page = p
	h.render(w, http.StatusOK, "enterprises", d)
}
