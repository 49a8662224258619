package ui

import (
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
)

// The public complaint pages, without sign-in. Their forms carry a CSRF token bound to a
// cookie of their own (double submit, as the sign-in form), so that another site cannot post
// a complaint, or look a case up, through a visitor's browser. Everything a visitor writes is
// shown back through html/template, escaped: never as HTML.

// complaintPages are the page templates of the public complaint pages.
var complaintPages = []string{"complaint_new", "complaint_receipt", "complaint_status", "complaint_register"}

// complaintCSRFCookie holds the nonce the public forms' tokens are bound to.
const complaintCSRFCookie = "vw_complaint_csrf"

// maxComplaintFormBytes bounds a public form's body: 2,000 characters of text at 3 bytes
// each, the contact, the other fields and their encoding fit in it.
const maxComplaintFormBytes = 32 << 10

// maxComplaintMatches caps the enterprises the form offers for a name.
const maxComplaintMatches = 10

// complaintFuncs are the complaint pages' template functions.
var complaintFuncs = template.FuncMap{
	"categoryLabel": locale.ComplaintCategoryLabel,
	"channelLabel":  locale.ComplaintChannelLabel,
	"stageLabel":    func(s voucherwatch.ComplaintStage) string { return locale.T("complaint.stage." + string(s)) },
}

// complaintForm is the data of /complaints/new.
type complaintForm struct {
	CSRF       string
	Enterprise string // the name or code typed
	USCC       string // the enterprise chosen among Matches
	Category   string
	Text       string
	Contact    string
	Matches    []voucherwatch.EnterpriseHit
	More       string // the message saying that more enterprises matched
	Categories []voucherwatch.ComplaintCategory
}

// complaintReceipt is the data of the page after a complaint was filed.
type complaintReceipt struct {
	Receipt, Secret string
	CaseID          string // the case, for the official who registered it; "" on the public form
}

// complaintStatus is the data of /complaints/status.
type complaintStatus struct {
	CSRF     string
	Receipt  string
	Found    bool
	Stage    voucherwatch.ComplaintStage
	Received time.Time
}

// complaintCSRF returns the token of the public forms, setting the cookie its nonce lives in
// when the browser has none.
func (h *Handler) complaintCSRF(w http.ResponseWriter, r *http.Request) string {
	nonce := ""
	if c, err := r.Cookie(complaintCSRFCookie); err == nil && len(c.Value) >= 16 && len(c.Value) <= 64 {
		nonce = c.Value
	} else {
		nonce = newNonce()
		h.setCookie(w, complaintCSRFCookie, nonce, 2*time.Hour)
	}
	return b64(h.mac("complaint-csrf", nonce)[:24])
}

// complaintPostOK checks a public form's origin and token; a refused post gets the error
// page (403).
func (h *Handler) complaintPostOK(w http.ResponseWriter, r *http.Request) bool {
	c, err := r.Cookie(complaintCSRFCookie)
	if err != nil || !sameOrigin(r) || !validToken(r.PostFormValue("csrf"), b64(h.mac("complaint-csrf", c.Value)[:24])) {
		h.renderError(w, r, Request{}, http.StatusForbidden, locale.T("error.csrf"))
		return false
	}
	return true
}

func (h *Handler) renderComplaintForm(w http.ResponseWriter, r *http.Request, status int, f complaintForm, errMsg string) {
	f.CSRF = h.complaintCSRF(w, r)
	f.Categories = voucherwatch.ComplaintCategories
	// The description is shown again masked, as it would be stored; the contact as typed,
	// to its writer only (the page is not cached).
	f.Text = voucherwatch.MaskText(f.Text)
	h.render(w, status, "complaint_new", PageData{Title: locale.T("complaint.new.title"), Error: errMsg, Page: f})
}

// ShowComplaintForm answers GET /complaints/new.
func (h *Handler) ShowComplaintForm(w http.ResponseWriter, r *http.Request) {
	h.renderComplaintForm(w, r, http.StatusOK, complaintForm{}, "")
}

// PostComplaintForm answers POST /complaints/new (enterprise, uscc?, category, text,
// contact?, csrf). Without uscc it looks the enterprise up in the registry and shows the form
// again with the matches to choose from; with one, it files the complaint and shows the
// receipt number and the secret. Each post counts towards the address's limit.
func (h *Handler) PostComplaintForm(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxComplaintFormBytes)
	if err := r.ParseForm(); err != nil {
		h.renderError(w, r, Request{}, http.StatusBadRequest, locale.T("error.invalid"))
		return
	}
	if !h.complaintPostOK(w, r) {
		return
	}
	f := complaintForm{
		Enterprise: strings.TrimSpace(r.PostFormValue("enterprise")), USCC: strings.TrimSpace(r.PostFormValue("uscc")),
		Category: r.PostFormValue("category"), Text: r.PostFormValue("text"), Contact: r.PostFormValue("contact"),
	}
	now, addr := h.Workflow.Clock(), clientAddress(r)
	if until := h.complaintPosts.lockedUntil(addr, now); !until.IsZero() {
		h.Log.Info("supervision: complaint form throttled", "remote", r.RemoteAddr)
		h.renderComplaintForm(w, r, http.StatusTooManyRequests, f, fmt.Sprintf(locale.T("complaint.new.throttled"), int(until.Sub(now).Minutes())+1))
		return
	}
	h.complaintPosts.failed(addr, now)
	if f.USCC == "" {
		h.lookUpComplaintEnterprise(w, r, f)
		return
	}
	c, secret, err := h.Complaints.File(r.Context(), voucherwatch.ComplaintInput{
		USCC: f.USCC, Category: f.Category, Text: f.Text, Contact: f.Contact, Channel: voucherwatch.ChannelPublic,
	}, voucherwatch.User{})
	if err != nil {
		if voucherwatch.ErrorCode(err) != voucherwatch.EINVALID {
			h.Log.Error("supervision: public complaint", "err", err)
			h.renderError(w, r, Request{}, http.StatusInternalServerError, locale.T("error.internal"))
			return
		}
		if fieldOf(err) == "uscc" {
			f.USCC = ""
		} else if hit, e := h.Complaints.RegistryMatch(r.Context(), strings.ToUpper(f.USCC)); e == nil {
			f.Matches = []voucherwatch.EnterpriseHit{hit}
		}
		h.renderComplaintForm(w, r, http.StatusBadRequest, f, complaintErrorMessage(err))
		return
	}
	h.render(w, http.StatusCreated, "complaint_receipt", PageData{Title: locale.T("complaint.receipt.title"),
		Page: complaintReceipt{Receipt: c.Receipt, Secret: secret}})
}

// lookUpComplaintEnterprise shows the form again with the registry's enterprises matching
// what was typed: a code, or a part of a name.
func (h *Handler) lookUpComplaintEnterprise(w http.ResponseWriter, r *http.Request, f complaintForm) {
	q := f.Enterprise
	if voucherwatch.ValidUSCC(strings.ToUpper(q)) {
		q = strings.ToUpper(q)
	}
	if len([]rune(q)) < 2 || len(q) > 200 {
		h.renderComplaintForm(w, r, http.StatusBadRequest, f, locale.T("complaint.new.no_match"))
		return
	}
	hits, more, err := h.Complaints.Registry.SearchEnterprises(r.Context(), q, "")
	if err != nil {
		h.Log.Error("supervision: complaint enterprise look-up", "err", err)
		h.renderError(w, r, Request{}, http.StatusInternalServerError, locale.T("error.internal"))
		return
	}
	if len(hits) == 0 {
		h.renderComplaintForm(w, r, http.StatusOK, f, locale.T("complaint.new.no_match"))
		return
	}
	if len(hits) > maxComplaintMatches {
		hits, more = hits[:maxComplaintMatches], true
	}
	if more {
		f.More = fmt.Sprintf(locale.T("complaint.new.more"), maxComplaintMatches)
	}
	f.Matches = hits
	h.renderComplaintForm(w, r, http.StatusOK, f, "")
}

// ShowComplaintStatus answers GET /complaints/status: the look-up form. The receipt and the
// secret are posted, never put in a URL where logs and histories keep them.
func (h *Handler) ShowComplaintStatus(w http.ResponseWriter, r *http.Request) {
	p := complaintStatus{CSRF: h.complaintCSRF(w, r)}
	h.render(w, http.StatusOK, "complaint_status", PageData{Title: locale.T("complaint.status.title"), Page: p})
}

// PostComplaintStatus answers POST /complaints/status (receipt, secret, csrf): the stage of
// the case and the day it was received, nothing of its content. A wrong receipt and a wrong
// secret get the same answer; failures count towards the address's limit.
func (h *Handler) PostComplaintStatus(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		h.renderError(w, r, Request{}, http.StatusBadRequest, locale.T("error.invalid"))
		return
	}
	if !h.complaintPostOK(w, r) {
		return
	}
	p := complaintStatus{CSRF: h.complaintCSRF(w, r), Receipt: strings.ToUpper(strings.TrimSpace(r.PostFormValue("receipt")))}
	d := PageData{Title: locale.T("complaint.status.title")}
	now, addr := h.Workflow.Clock(), clientAddress(r)
	if until := h.complaintLookups.lockedUntil(addr, now); !until.IsZero() {
		d.Error, d.Page = fmt.Sprintf(locale.T("complaint.status.throttled"), int(until.Sub(now).Minutes())+1), p
		h.render(w, http.StatusTooManyRequests, "complaint_status", d)
		return
	}
	c, err := h.Complaints.Store.ComplaintByReceipt(r.Context(), p.Receipt)
	if err == nil && !voucherwatch.SecretMatches(r.PostFormValue("secret"), c.SecretHash) {
		err = voucherwatch.Errorf(voucherwatch.ENOTFOUND, "complaint not found")
	}
	var st map[string]voucherwatch.Status
	if err == nil {
		st, err = h.Workflow.Events.Statuses(r.Context(), []string{c.ID})
	}
	switch voucherwatch.ErrorCode(err) {
	case "":
	case voucherwatch.ENOTFOUND:
		h.complaintLookups.failed(addr, now)
		d.Error, d.Page = locale.T("complaint.status.not_found"), p
		h.render(w, http.StatusNotFound, "complaint_status", d)
		return
	default:
		h.Log.Error("supervision: complaint status", "err", err)
		h.renderError(w, r, Request{}, http.StatusInternalServerError, locale.T("error.internal"))
		return
	}
	status := voucherwatch.StatusNew
	if v, ok := st[c.ID]; ok {
		status = v
	}
	p.Found, p.Stage, p.Received = true, voucherwatch.StageOf(status), c.CreatedAt
	d.Page = p
	h.render(w, http.StatusOK, "complaint_status", d)
}
