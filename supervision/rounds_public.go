package supervision

import (
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/api"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
	"github.com/voucherwatch/voucherwatch/supervision/ui"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// showPublicRound answers GET /public/rounds/{id} and /public/rounds/{id}.json.
func (s *Server) showPublicRound(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	id, asJSON := strings.CutSuffix(file, ".json")
	p, err := s.rounds.deps.Public(r.Context(), id)
	if asJSON || s.ui == nil {
		if err != nil {
			s.api.Fail(w, err)
			return
		}
		api.WriteJSON(w, http.StatusOK, p)
		return
	}
	if err != nil {
		s.failPage(w, r, uiRequest{}, err)
		return
	}
	p.CSRF = s.complaintCSRF(w, r)
	s.render(w, http.StatusOK, "public_round", ui.PageData{Title: fmt.Sprintf(locale.T("round.public.title"), p.Year), Page: p})
}

// objectionReceipt is the page after a public objection.
type objectionReceipt struct {
	RoundID, ID string
}

// postPublicObjection answers POST /public/rounds/{id}/objections to anyone: a JSON body
// {"claim_id", "text", "contact"?} answered 201 {"id"}, or the notice page's form (with its
// CSRF token, by its content type) answered with a page. Each post counts towards the address's limit.
func (s *Server) postPublicObjection(w http.ResponseWriter, r *http.Request) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	// A form is the notice page's; anything else is read as JSON.
	asJSON := (mt != "application/x-www-form-urlencoded" && mt != "multipart/form-data") || s.ui == nil
	now, addr := s.rounds.deps.Clock(), clientAddress(r)
	var in workflow.ObjectionInput
	if asJSON {
		if err := api.DecodeJSON(w, r, &in); err != nil {
			s.api.Fail(w, err)
			return
		}
	} else {
		r.Body = http.MaxBytesReader(w, r.Body, maxComplaintFormBytes)
		if err := r.ParseForm(); err != nil {
			s.renderError(w, r, uiRequest{}, http.StatusBadRequest, locale.T("error.invalid"))
			return
		}
		if !s.complaintPostOK(w, r) {
			return
		}
		in = workflow.ObjectionInput{ClaimID: r.PostFormValue("claim_id"), Text: r.PostFormValue("text"), Contact: r.PostFormValue("contact")}
	}
	if until := s.rounds.objections.lockedUntil(addr, now); !until.IsZero() {
		s.Log.Info("supervision: public objection throttled", "remote", r.RemoteAddr)
		err := voucherwatch.Errorf(voucherwatch.ECONFLICT, "too many objections from this address; try again in %d minutes", int(until.Sub(now).Minutes())+1)
		if asJSON {
			w.Header().Set("Retry-After", fmt.Sprint(int(until.Sub(now).Seconds())+1))
			api.WriteJSON(w, http.StatusTooManyRequests, map[string]any{"error": map[string]string{"code": voucherwatch.ECONFLICT, "message": err.Error()}})
			return
		}
		s.renderError(w, r, uiRequest{}, http.StatusTooManyRequests, fmt.Sprintf(locale.T("complaint.new.throttled"), int(until.Sub(now).Minutes())+1))
		return
	}
	s.rounds.objections.failed(addr, now)
	in.Channel = ""
	o, err := s.rounds.deps.FileObjection(r.Context(), voucherwatch.User{}, r.PathValue("id"), in)
	if err != nil {
		if asJSON {
			s.api.Fail(w, err)
			return
		}
		if code := voucherwatch.ErrorCode(err); code == voucherwatch.EINVALID || code == voucherwatch.ECONFLICT {
			s.renderError(w, r, uiRequest{}, http.StatusBadRequest, locale.T("round.objection.refused")+roundObjectionMessage(err))
			return
		}
		s.failPage(w, r, uiRequest{}, err)
		return
	}
	// Never the text or the contact.
	s.Log.Info("supervision: public objection received", "id", o.ID, "round", o.RoundID, "claim", o.ClaimID, "city", o.City)
	if asJSON {
		api.WriteJSON(w, http.StatusCreated, map[string]string{"id": o.ID})
		return
	}
	s.render(w, http.StatusCreated, "round_objection_receipt", ui.PageData{Title: locale.T("round.objection.received"),
		Page: objectionReceipt{RoundID: o.RoundID, ID: o.ID}})
}
