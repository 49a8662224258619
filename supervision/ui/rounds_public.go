package ui

import (
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/api"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// ShowPublicRound answers GET /public/rounds/{id} and /public/rounds/{id}.json.
func (h *Handler) ShowPublicRound(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	id, asJSON := strings.CutSuffix(file, ".json")
	p, err := h.Rounds.Public(r.Context(), id)
	if asJSON {
		if err != nil {
			h.failJSON(w, err)
			return
		}
		api.WriteJSON(w, http.StatusOK, p)
		return
	}
	if err != nil {
		h.failPage(w, r, Request{}, err)
		return
	}
	p.CSRF = h.complaintCSRF(w, r)
	h.render(w, http.StatusOK, "public_round", PageData{Title: fmt.Sprintf(locale.T("round.public.title"), p.Year), Page: p})
}

// objectionReceipt is the page after a public objection.
type objectionReceipt struct {
	RoundID, ID string
}

// PostPublicObjection answers POST /public/rounds/{id}/objections to anyone: a JSON body
// {"claim_id", "text", "contact"?} answered 201 {"id"}, or the notice page's form (with its
// CSRF token, by its content type) answered with a page. Each post counts towards the address's limit.
func (h *Handler) PostPublicObjection(w http.ResponseWriter, r *http.Request) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	// A form is the notice page's; anything else is read as JSON.
	asJSON := (mt != "application/x-www-form-urlencoded" && mt != "multipart/form-data")
	now, addr := h.Rounds.Clock(), clientAddress(r)
	var in workflow.ObjectionInput
	if asJSON {
		if err := api.DecodeJSON(w, r, &in); err != nil {
			h.failJSON(w, err)
			return
		}
	} else {
		r.Body = http.MaxBytesReader(w, r.Body, maxComplaintFormBytes)
		if err := r.ParseForm(); err != nil {
			h.renderError(w, r, Request{}, http.StatusBadRequest, locale.T("error.invalid"))
			return
		}
		if !h.complaintPostOK(w, r) {
			return
		}
		in = workflow.ObjectionInput{ClaimID: r.PostFormValue("claim_id"), Text: r.PostFormValue("text"), Contact: r.PostFormValue("contact")}
	}
	if until := h.objections.lockedUntil(addr, now); !until.IsZero() {
		h.Log.Info("supervision: public objection throttled", "remote", r.RemoteAddr)
		err := voucherwatch.Errorf(voucherwatch.ECONFLICT, "too many objections from this address; try again in %d minutes", int(until.Sub(now).Minutes())+1)
		if asJSON {
			w.Header().Set("Retry-After", fmt.Sprint(int(until.Sub(now).Seconds())+1))
			api.WriteJSON(w, http.StatusTooManyRequests, map[string]any{"error": map[string]string{"code": voucherwatch.ECONFLICT, "message": err.Error()}})
			return
		}
		h.renderError(w, r, Request{}, http.StatusTooManyRequests, fmt.Sprintf(locale.T("complaint.new.throttled"), int(until.Sub(now).Minutes())+1))
		return
	}
	h.objections.failed(addr, now)
	in.Channel = ""
	o, err := h.Rounds.FileObjection(r.Context(), voucherwatch.User{}, r.PathValue("id"), in)
	if err != nil {
		if asJSON {
			h.failJSON(w, err)
			return
		}
		if code := voucherwatch.ErrorCode(err); code == voucherwatch.EINVALID || code == voucherwatch.ECONFLICT {
			h.renderError(w, r, Request{}, http.StatusBadRequest, locale.T("round.objection.refused")+roundObjectionMessage(err))
			return
		}
		h.failPage(w, r, Request{}, err)
		return
	}
	// Never the text or the contact.
	h.Log.Info("supervision: public objection received", "id", o.ID, "round", o.RoundID, "claim", o.ClaimID, "city", o.City)
	if asJSON {
		api.WriteJSON(w, http.StatusCreated, map[string]string{"id": o.ID})
		return
	}
	h.render(w, http.StatusCreated, "round_objection_receipt", PageData{Title: locale.T("round.objection.received"),
		Page: objectionReceipt{RoundID: o.RoundID, ID: o.ID}})
}
