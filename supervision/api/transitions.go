package api

import (
	"context"
	"net/http"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// PostTransition answers POST /api/v1/alerts/{id}/transitions {"to", "comment", "deadline"?,
// "amount"?, "from"?} with 201 and the recorded event; 400 naming the field for bad input, 403
// for a move the role may not make, 409 for one the workflow does not allow from the current
// status (or when the alert moved on meanwhile).
func (h *Handler) PostTransition(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	actOnAlert(h, w, r, u, h.flow().Transition)
}

// actOnAlert is the shape of the API's routes that act on one alert: read the alert the user
// may change (workflow.Service.ActingOn), decode the body as Q, let act check and record the
// event, answer it.
func actOnAlert[Q any](h *Handler, w http.ResponseWriter, r *http.Request, u voucherwatch.User,
	act func(context.Context, voucherwatch.User, voucherwatch.Alert, Q) (voucherwatch.Event, error)) {
	a, err := h.flow().ActingOn(r.Context(), u, r.PathValue("id"))
	if err != nil {
		h.Fail(w, err)
		return
	}
	var q Q
	if err := DecodeJSON(w, r, &q); err != nil {
		h.Fail(w, err)
		return
	}
	e, err := act(r.Context(), u, a, q)
	h.answerEvent(w, e, err)
}

// PostProposal answers POST /api/v1/alerts/{id}/proposals {"to", "comment", "amount"?}: a
// reviewer recommends a decision of the province (confirm, dismiss, order or record recovery,
// reopen a decided alert). The proposal is an event that keeps the status, with proposed_to
// set; the province decides with a transition. 201 with the event.
func (h *Handler) PostProposal(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	actOnAlert(h, w, r, u, h.flow().Propose)
}

// PostAssign answers POST /api/v1/alerts/{id}/assign {"user_id", "comment"?}: the alert is
// given to a person who can act on it, recorded as an event that keeps the status. 201 with
// the event.
func (h *Handler) PostAssign(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	actOnAlert(h, w, r, u, h.flow().Assign)
}

// answerEvent answers 201 with a recorded event, or the error.
func (h *Handler) answerEvent(w http.ResponseWriter, e voucherwatch.Event, err error) {
	if err != nil {
		h.Fail(w, err)
		return
	}
	WriteJSON(w, http.StatusCreated, e)
}

// GetHistory answers GET /api/v1/alerts/{id}/history with {"events": [...]}, oldest first.
func (h *Handler) GetHistory(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	events, err := h.flow().History(r.Context(), u, r.PathValue("id"))
	if err != nil {
		h.Fail(w, err)
		return
	}
	if events == nil {
		events = []voucherwatch.Event{}
	}
	workflow.MaskEventComments(events)
	WriteJSON(w, http.StatusOK, map[string]any{"events": events})
}
