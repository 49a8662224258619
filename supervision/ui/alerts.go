package ui

import (
	"html/template"
	"net/http"
	"net/url"
	"time"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/evidence"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// alertPage is the data of the alert page.
type alertPage struct {
	Alert    voucherwatch.Alert
	Names    map[string]string // registered names of the applicant and the supplier
	Evidence template.HTML     // evidence.Render escapes what it takes from the alert
	History  []voucherwatch.Event
	Actions  []alertAction
	Final    bool
	// Assignable are the users the alert may be given to; nil when the user may not assign.
	Assignable []voucherwatch.User
	CanAssign  bool
	Assignee   string // the name of whom the alert is assigned to, "" when nobody
	// DaysOverdue counts the days since the deadline of the explanation the alert waits for;
	// 0 when it waits for none or the deadline has not passed.
	DaysOverdue int
	// Form holds what the user typed into the form that failed, to show it again.
	Form transitionForm
	// Complaint is the complaint of a complaint's case; Linked the enterprise's open
	// alerts (on a complaint's case) or its complaints (on another alert) (complaint_case.go).
	Complaint *complaintCase
	Linked    []voucherwatch.Alert
}

// alertAction is one move the user may make from the alert's status: a transition, or for a
// city reviewer a proposal of the province's decision.
type alertAction struct {
	To              voucherwatch.Status
	Label           string
	Propose         bool
	Path            string // where the form posts
	WantDeadline    bool
	DefaultDeadline string
	MinDeadline     string
	MaxDeadline     string
	WantAmount      bool
}

// transitionForm is a submitted action form.
type transitionForm struct {
	To, Comment, Deadline, Amount string
}

// ShowAlert answers GET /alerts/{id}.
func (h *Handler) ShowAlert(w http.ResponseWriter, r *http.Request, q Request) {
	h.renderAlert(w, r, q, http.StatusOK, "", transitionForm{})
}

// renderAlert renders the alert page, with an error message above the actions when a form
// failed.
func (h *Handler) renderAlert(w http.ResponseWriter, r *http.Request, q Request, status int, errMsg string, form transitionForm) {
	ctx := r.Context()
	a, err := h.flow().ScopedAlert(ctx, q.user, r.PathValue("id"))
	if err == nil {
		one := []voucherwatch.Alert{a}
		err = h.flow().LogStatuses(ctx, one)
		a = one[0]
	}
	if err != nil {
		h.failPage(w, r, q, err)
		return
	}
	history, err := h.Workflow.Events.History(ctx, a.ID)
	if err != nil {
		h.failPage(w, r, q, err)
		return
	}
	workflow.MaskEventComments(history)
	p := alertPage{Alert: a, Evidence: evidence.Render(a), History: history, Final: len(a.Status.Next()) == 0, Form: form,
		Names: h.enterpriseNames(ctx, a.Subjects.ApplicantUSCC, a.Subjects.SupplierUSCC)}
	var deadline time.Time
	for _, e := range history {
		switch {
		case e.Kind == voucherwatch.EventAssignment:
			p.Assignee = e.AssigneeName
		case e.Kind == voucherwatch.EventTransition && e.To == voucherwatch.StatusExplanationRequested:
			deadline = e.Deadline
		}
	}
	if today := voucherwatch.Day(h.Workflow.Clock()); a.Status == voucherwatch.StatusExplanationRequested && !deadline.IsZero() && today.After(deadline) {
		p.DaysOverdue = int(today.Sub(voucherwatch.Day(deadline)).Hours() / 24)
	}
	if err := h.addComplaintCase(ctx, q.user, &p); err != nil {
		h.failPage(w, r, q, err)
		return
	}
	p.Actions = h.alertActions(q.user, a)
	if q.user.Role.MayAct() {
		users, err := h.Workflow.Users.Users(ctx)
		if err != nil {
			h.failPage(w, r, q, err)
			return
		}
		p.CanAssign = true
		for _, x := range users {
			if voucherwatch.CheckAssignment(q.user, a.City, x) == nil {
				p.Assignable = append(p.Assignable, x)
			}
		}
	}
	d := h.data(r, q, a.Title, "inbox")
	d.Error = errMsg
	d.Page = p
	h.render(w, status, "alert", d)
}

// alertActions lists the moves u may make from a's status, as the workflow's rules say: the
// transitions its role may make, and the province's decisions it may propose.
func (h *Handler) alertActions(u voucherwatch.User, a voucherwatch.Alert) []alertAction {
	today := voucherwatch.Day(h.Workflow.Clock())
	days := h.Workflow.ExplanationDays
	if days <= 0 {
		days = voucherwatch.DefaultExplanationDays
	}
	var out []alertAction
	for _, to := range a.Status.Next() {
		act := alertAction{To: to, Label: locale.T("alert.action." + string(to))}
		switch {
		case voucherwatch.CheckTransition(u.Role, a.Status, to) == nil:
			act.Path = "/alerts/" + url.PathEscape(a.ID) + "/transitions"
			act.WantAmount = to == voucherwatch.StatusRecoveryOrdered
			if to == voucherwatch.StatusExplanationRequested {
				act.WantDeadline = true
				act.DefaultDeadline = today.AddDate(0, 0, days).Format(time.DateOnly)
				act.MinDeadline = today.AddDate(0, 0, 1).Format(time.DateOnly)
				act.MaxDeadline = today.AddDate(0, 0, voucherwatch.MaxDeadlineDays).Format(time.DateOnly)
			}
		case voucherwatch.CheckProposal(u.Role, a.Status, to) == nil:
			act.Propose = true
			act.Label = locale.T("alert.action.propose") + act.Label
			act.Path = "/alerts/" + url.PathEscape(a.ID) + "/proposals"
			act.WantAmount = to == voucherwatch.StatusRecoveryOrdered
		default:
			continue
		}
		out = append(out, act)
	}
	return out
}

// formTransition reads an action form into the request the API takes, so that both go through
// the same checks. Empty deadline and amount fields are absent.
func formTransition(r *http.Request) (workflow.TransitionRequest, transitionForm) {
	f := transitionForm{
		To: r.PostFormValue("to"), Comment: r.PostFormValue("comment"),
		Deadline: r.PostFormValue("deadline"), Amount: r.PostFormValue("amount"),
	}
	q := workflow.TransitionRequest{To: f.To, Comment: f.Comment, From: r.PostFormValue("from")}
	if f.Deadline != "" {
		q.Deadline = &f.Deadline
	}
	if f.Amount != "" {
		q.Amount = &f.Amount
	}
	return q, f
}

// PostAlertTransition answers POST /alerts/{id}/transitions (to, comment, deadline?, amount?,
// from): the move goes through the API's checks (workflow.Service.Transition); then back to the alert
// page (303) with a message, or the page again with the refusal in Chinese and the status of
// the API's answer (400, 403, 409).
func (h *Handler) PostAlertTransition(w http.ResponseWriter, r *http.Request, q Request) {
	tq, form := formTransition(r)
	a, err := h.flow().ActingOn(r.Context(), q.user, r.PathValue("id"))
	if err == nil {
		_, err = h.flow().Transition(r.Context(), q.user, a, tq)
	}
	h.afterAction(w, r, q, err, "transition", form)
}

// PostAlertProposal answers POST /alerts/{id}/proposals (to, comment, amount?, from).
func (h *Handler) PostAlertProposal(w http.ResponseWriter, r *http.Request, q Request) {
	tq, form := formTransition(r)
	a, err := h.flow().ActingOn(r.Context(), q.user, r.PathValue("id"))
	if err == nil {
		_, err = h.flow().Propose(r.Context(), q.user, a, tq)
	}
	h.afterAction(w, r, q, err, "proposal", form)
}

// PostAlertAssign answers POST /alerts/{id}/assign (user_id, comment).
func (h *Handler) PostAlertAssign(w http.ResponseWriter, r *http.Request, q Request) {
	id := r.PostFormValue("user_id")
	aq := workflow.AssignRequest{UserID: &id, Comment: r.PostFormValue("comment")}
	a, err := h.flow().ActingOn(r.Context(), q.user, r.PathValue("id"))
	if err == nil {
		_, err = h.flow().Assign(r.Context(), q.user, a, aq)
	}
	h.afterAction(w, r, q, err, "assignment", transitionForm{})
}

// afterAction redirects to the alert page after a recorded action, or shows the refusal.
func (h *Handler) afterAction(w http.ResponseWriter, r *http.Request, q Request, err error, flash string, form transitionForm) {
	if err == nil {
		http.Redirect(w, r, "/alerts/"+url.PathEscape(r.PathValue("id"))+"?flash="+flash, http.StatusSeeOther)
		return
	}
	switch voucherwatch.ErrorCode(err) {
	case voucherwatch.ENOTFOUND, voucherwatch.EINTERNAL:
		h.failPage(w, r, q, err)
		return
	}
	h.renderAlert(w, r, q, errStatus(err), uiErrorMessage(err), form)
}
