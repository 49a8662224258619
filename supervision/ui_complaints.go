package supervision

import (
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
	"github.com/voucherwatch/voucherwatch/supervision/ui"
)

// The public complaint pages, without sign-in. Their forms carry a CSRF token bound to a
// cookie of their own (double submit, as the sign-in form), so that another site cannot post
// a complaint, or look a case up, through a visitor's browser. Everything a visitor writes is
// shown back through html/template, escaped: never as HTML.

// complaintPages are the page templates of the public complaint pages, parsed when the routes
// are registered, so that a missing one fails at start.
var complaintPages = []string{"complaint_new", "complaint_receipt", "complaint_status", "complaint_register"}

// complaintCSRFCookie holds the nonce the public forms' tokens are bound to.
const complaintCSRFCookie = "vw_complaint_csrf"

// maxComplaintFormBytes bounds a public form's body: 2,000 characters of text at 3 bytes
// each, the contact, the other fields and their encoding fit in it.
const maxComplaintFormBytes = 32 << 10

// maxComplaintMatches caps the enterprises the form offers for a name.
const maxComplaintMatches = 10

func (s *Server) registerComplaintPages() {
	for _, p := range complaintPages {
		t, err := ui.Parse(p, uiFuncs, complaintFuncs)
		if err != nil {
			panic(fmt.Errorf("supervision: %w", err))
		}
		s.ui.pages[p] = t
	}
	s.mux.HandleFunc("GET /complaints/new", s.showComplaintForm)
	s.mux.HandleFunc("POST /complaints/new", s.postComplaintForm)
	s.mux.HandleFunc("GET /complaints/status", s.showComplaintStatus)
	s.mux.HandleFunc("POST /complaints/status", s.postComplaintStatus)
	s.mux.Handle("GET /complaints/register", s.page(s.showComplaintRegister))
	s.mux.Handle("POST /complaints/register", s.page(s.postComplaintRegister))
}

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
func (s *Server) complaintCSRF(w http.ResponseWriter, r *http.Request) string {
	nonce := ""
	if c, err := r.Cookie(complaintCSRFCookie); err == nil && len(c.Value) >= 16 && len(c.Value) <= 64 {
		nonce = c.Value
	} else {
		nonce = newNonce()
		s.setCookie(w, complaintCSRFCookie, nonce, 2*time.Hour)
	}
	return b64(s.mac("complaint-csrf", nonce)[:24])
}

// complaintPostOK checks a public form's origin and token; a refused post gets the error
// page (403).
func (s *Server) complaintPostOK(w http.ResponseWriter, r *http.Request) bool {
	c, err := r.Cookie(complaintCSRFCookie)
	if err != nil || !sameOrigin(r) || !validToken(r.PostFormValue("csrf"), b64(s.mac("complaint-csrf", c.Value)[:24])) {
		s.renderError(w, r, uiRequest{}, http.StatusForbidden, locale.T("error.csrf"))
		return false
	}
	return true
}

func (s *Server) renderComplaintForm(w http.ResponseWriter, r *http.Request, status int, f complaintForm, errMsg string) {
	f.CSRF = s.complaintCSRF(w, r)
	f.Categories = voucherwatch.ComplaintCategories
	// The description is shown again masked, as it would be stored; the contact as typed,
	// to its writer only (the page is not cached).
	f.Text = voucherwatch.MaskText(f.Text)
	s.render(w, status, "complaint_new", ui.PageData{Title: locale.T("complaint.new.title"), Error: errMsg, Page: f})
}

// showComplaintForm answers GET /complaints/new.
func (s *Server) showComplaintForm(w http.ResponseWriter, r *http.Request) {
	s.renderComplaintForm(w, r, http.StatusOK, complaintForm{}, "")
}

// postComplaintForm answers POST /complaints/new (enterprise, uscc?, category, text,
// contact?, csrf). Without uscc it looks the enterprise up in the registry and shows the form
// again with the matches to choose from; with one, it files the complaint and shows the
// receipt number and the secret. Each post counts towards the address's limit.
func (s *Server) postComplaintForm(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxComplaintFormBytes)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, uiRequest{}, http.StatusBadRequest, locale.T("error.invalid"))
		return
	}
	if !s.complaintPostOK(w, r) {
		return
	}
	f := complaintForm{
		Enterprise: strings.TrimSpace(r.PostFormValue("enterprise")), USCC: strings.TrimSpace(r.PostFormValue("uscc")),
		Category: r.PostFormValue("category"), Text: r.PostFormValue("text"), Contact: r.PostFormValue("contact"),
	}
	now, addr := s.workflow.now(), clientAddress(r)
	if until := s.complaints.posts.lockedUntil(addr, now); !until.IsZero() {
		s.Log.Info("supervision: complaint form throttled", "remote", r.RemoteAddr)
		s.renderComplaintForm(w, r, http.StatusTooManyRequests, f, fmt.Sprintf(locale.T("complaint.new.throttled"), int(until.Sub(now).Minutes())+1))
		return
	}
	s.complaints.posts.failed(addr, now)
	if f.USCC == "" {
		s.lookUpComplaintEnterprise(w, r, f)
		return
	}
	c, secret, err := s.complaints.deps.File(r.Context(), voucherwatch.ComplaintInput{
		USCC: f.USCC, Category: f.Category, Text: f.Text, Contact: f.Contact, Channel: voucherwatch.ChannelPublic,
	}, voucherwatch.User{})
	if err != nil {
		if voucherwatch.ErrorCode(err) != voucherwatch.EINVALID {
			s.Log.Error("supervision: public complaint", "err", err)
			s.renderError(w, r, uiRequest{}, http.StatusInternalServerError, locale.T("error.internal"))
			return
		}
		if fieldOf(err) == "uscc" {
			f.USCC = ""
		} else if hit, e := s.complaints.deps.RegistryMatch(r.Context(), strings.ToUpper(f.USCC)); e == nil {
			f.Matches = []voucherwatch.EnterpriseHit{hit}
		}
		s.renderComplaintForm(w, r, http.StatusBadRequest, f, complaintErrorMessage(err))
		return
	}
	s.render(w, http.StatusCreated, "complaint_receipt", ui.PageData{Title: locale.T("complaint.receipt.title"),
		Page: complaintReceipt{Receipt: c.Receipt, Secret: secret}})
}

// lookUpComplaintEnterprise shows the form again with the registry's enterprises matching
// what was typed: a code, or a part of a name.
func (s *Server) lookUpComplaintEnterprise(w http.ResponseWriter, r *http.Request, f complaintForm) {
	q := f.Enterprise
	if voucherwatch.ValidUSCC(strings.ToUpper(q)) {
		q = strings.ToUpper(q)
	}
	if len([]rune(q)) < 2 || len(q) > 200 {
		s.renderComplaintForm(w, r, http.StatusBadRequest, f, locale.T("complaint.new.no_match"))
		return
	}
	hits, more, err := s.complaints.deps.Registry.SearchEnterprises(r.Context(), q, "")
	if err != nil {
		s.Log.Error("supervision: complaint enterprise look-up", "err", err)
		s.renderError(w, r, uiRequest{}, http.StatusInternalServerError, locale.T("error.internal"))
		return
	}
	if len(hits) == 0 {
		s.renderComplaintForm(w, r, http.StatusOK, f, locale.T("complaint.new.no_match"))
		return
	}
	if len(hits) > maxComplaintMatches {
		hits, more = hits[:maxComplaintMatches], true
	}
	if more {
		f.More = fmt.Sprintf(locale.T("complaint.new.more"), maxComplaintMatches)
	}
	f.Matches = hits
	s.renderComplaintForm(w, r, http.StatusOK, f, "")
}

// showComplaintStatus answers GET /complaints/status: the look-up form. The receipt and the
// secret are posted, never put in a URL where logs and histories keep them.
func (s *Server) showComplaintStatus(w http.ResponseWriter, r *http.Request) {
	p := complaintStatus{CSRF: s.complaintCSRF(w, r)}
	s.render(w, http.StatusOK, "complaint_status", ui.PageData{Title: locale.T("complaint.status.title"), Page: p})
}

// postComplaintStatus answers POST /complaints/status (receipt, secret, csrf): the stage of
// the case and the day it was received, nothing of its content. A wrong receipt and a wrong
// secret get the same answer; failures count towards the address's limit.
func (s *Server) postComplaintStatus(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, uiRequest{}, http.StatusBadRequest, locale.T("error.invalid"))
		return
	}
	if !s.complaintPostOK(w, r) {
		return
	}
	p := complaintStatus{CSRF: s.complaintCSRF(w, r), Receipt: strings.ToUpper(strings.TrimSpace(r.PostFormValue("receipt")))}
	d := ui.PageData{Title: locale.T("complaint.status.title")}
	now, addr := s.workflow.now(), clientAddress(r)
	if until := s.complaints.lookups.lockedUntil(addr, now); !until.IsZero() {
		d.Error, d.Page = fmt.Sprintf(locale.T("complaint.status.throttled"), int(until.Sub(now).Minutes())+1), p
		s.render(w, http.StatusTooManyRequests, "complaint_status", d)
		return
	}
	c, err := s.complaints.deps.Store.ComplaintByReceipt(r.Context(), p.Receipt)
	if err == nil && !voucherwatch.SecretMatches(r.PostFormValue("secret"), c.SecretHash) {
		err = voucherwatch.Errorf(voucherwatch.ENOTFOUND, "complaint not found")
	}
	var st map[string]voucherwatch.Status
	if err == nil {
		st, err = s.workflow.Events.Statuses(r.Context(), []string{c.ID})
	}
	switch voucherwatch.ErrorCode(err) {
	case "":
	case voucherwatch.ENOTFOUND:
		s.complaints.lookups.failed(addr, now)
		d.Error, d.Page = locale.T("complaint.status.not_found"), p
		s.render(w, http.StatusNotFound, "complaint_status", d)
		return
	default:
		s.Log.Error("supervision: complaint status", "err", err)
		s.renderError(w, r, uiRequest{}, http.StatusInternalServerError, locale.T("error.internal"))
		return
	}
	status := voucherwatch.StatusNew
	if v, ok := st[c.ID]; ok {
		status = v
	}
	p.Found, p.Stage, p.Received = true, voucherwatch.StageOf(status), c.CreatedAt
	d.Page = p
	s.render(w, http.StatusOK, "complaint_status", d)
}
