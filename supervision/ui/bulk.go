package ui

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/voucherwatch/voucherwatch/supervision/locale"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// MaxBulkFormAlerts bounds the alerts one inbox form acts on: a page of the inbox.
const MaxBulkFormAlerts = inboxPageSize

// PostInboxBulk answers POST /alerts/bulk (id…, to, comment, deadline?, return): one
// transition applied to the alerts ticked in the inbox, each checked on its own as the API's
// bulk route does (workflow.Service.Bulk). Then back to the inbox (303) saying how many were moved and
// how many were not; a request refused as a whole (no comment, say) gets the reason in Chinese.
func (h *Handler) PostInboxBulk(w http.ResponseWriter, r *http.Request, q Request) {
	if !q.user.Role.MayAct() {
		h.renderError(w, r, q, http.StatusForbidden, locale.T("error.forbidden"))
		return
	}
	back := LocalPath(r.PostFormValue("return"))
	if !strings.HasPrefix(back, "/alerts") {
		back = "/alerts"
	}
	ids := r.PostForm["id"]
	if len(ids) == 0 {
		http.Redirect(w, r, withQuery(back, "flash", "bulk_none"), http.StatusSeeOther)
		return
	}
	if len(ids) > MaxBulkFormAlerts {
		ids = ids[:MaxBulkFormAlerts]
	}
	tq, _ := formTransition(r)
	tq.From = "" // each alert is checked against its own status
	if tq.To != "explanation_requested" {
		tq.Deadline = nil // the form shows the deadline field for every action
	}
	results, err := h.flow().Bulk(r.Context(), q.user, workflow.BulkRequest{Filter: workflow.BulkFilter{IDs: ids}, TransitionRequest: tq})
	if err != nil {
		status := errStatus(err)
		if status >= 500 {
			h.failPage(w, r, q, err)
			return
		}
		h.renderError(w, r, q, status, uiErrorMessage(err))
		return
	}
	applied := 0
	for _, res := range results {
		if res.Err == nil {
			applied++
		}
	}
	back = withQuery(back, "flash", "bulk")
	back = withQuery(back, "applied", strconv.Itoa(applied))
	back = withQuery(back, "refused", strconv.Itoa(len(results)-applied))
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// withQuery sets one query parameter of a local URL.
func withQuery(path, key, value string) string {
	u, err := url.Parse(path)
	if err != nil {
		return path
	}
	v := u.Query()
	v.Set(key, value)
	u.RawQuery = v.Encode()
	return u.String()
}
