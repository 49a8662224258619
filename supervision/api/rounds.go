package api

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/export"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// OpenRound answers POST /api/v1/rounds: the province opens a round.
func (h *Handler) OpenRound(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if err := workflow.ProvinceOnly(u, "opens rounds"); err != nil {
		h.Fail(w, err)
		return
	}
	var q voucherwatch.RoundRequest
	if err := DecodeJSON(w, r, &q); err != nil {
		h.Fail(w, err)
		return
	}
	rd, err := h.Rounds.Open(r.Context(), u, q)
	if err != nil {
		h.Fail(w, err)
		return
	}
	h.Log.Info("supervision: round opened", "id", rd.ID, "year", rd.Year, "by", u.ID)
	WriteJSON(w, http.StatusCreated, map[string]string{"id": rd.ID})
}

// ListRounds answers GET /api/v1/rounds.
func (h *Handler) ListRounds(w http.ResponseWriter, r *http.Request, _ voucherwatch.User) {
	all, err := h.Rounds.Store.Rounds(r.Context())
	if err != nil {
		h.Fail(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"rounds": all})
}

// GetRound answers GET /api/v1/rounds/{id}: the round as u may see it.
func (h *Handler) GetRound(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	v, err := h.Rounds.View(r.Context(), u, r.PathValue("id"))
	if err != nil {
		h.Fail(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, v)
}

// PostRoundScores answers POST /api/v1/rounds/{id}/scores: a CSV body
// (claim_id,criterion,score,comment)
// or an XLSX workbook whose first sheet has those columns.
func (h *Handler) PostRoundScores(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if err := workflow.ProvinceOnly(u, "imports expert scores"); err != nil {
		h.Fail(w, err)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, workflow.MaxRoundScoreBytes))
	if err != nil {
		h.Fail(w, voucherwatch.FieldErrorf("scores", "want at most %d bytes", workflow.MaxRoundScoreBytes))
		return
	}
	scores, err := workflow.ParseScoreUpload(r.Header.Get("Content-Type"), body)
	if err != nil {
		h.Fail(w, err)
		return
	}
	n, err := h.Rounds.ImportScores(r.Context(), u, r.PathValue("id"), scores)
	if err != nil {
		h.Fail(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]int{"imported": n})
}

// PostRoundAllocation answers POST /api/v1/rounds/{id}/allocate: the allocation, or its what-if.
func (h *Handler) PostRoundAllocation(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if err := workflow.ProvinceOnly(u, "sets weights and allocates"); err != nil {
		h.Fail(w, err)
		return
	}
	var q workflow.AllocateRequest
	if r.ContentLength != 0 {
		if err := DecodeJSON(w, r, &q); err != nil {
			h.Fail(w, err)
			return
		}
	}
	res, err := h.Rounds.Allocate(r.Context(), u, r.PathValue("id"), q)
	if err != nil {
		h.Fail(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, res)
}

// PostRoundFreeze answers POST /api/v1/rounds/{id}/freeze: the list is frozen as a version.
func (h *Handler) PostRoundFreeze(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	v, err := h.Rounds.Freeze(r.Context(), u, r.PathValue("id"))
	if err != nil {
		h.Fail(w, err)
		return
	}
	h.Log.Info("supervision: round frozen", "id", v.RoundID, "version", v.Version, "digest", v.InputsDigest, "by", u.ID)
	lines := make([]voucherwatch.LineJSON, len(v.Lines))
	for i, l := range v.Lines {
		lines[i] = l.JSON()
	}
	WriteJSON(w, http.StatusOK, map[string]any{"round_id": v.RoundID, "version": v.Version, "method": v.Method,
		"inputs_digest": v.InputsDigest, "total": v.Total.String(), "lines": lines})
}

// PostRoundPublish answers POST /api/v1/rounds/{id}/publish: the frozen list goes on public notice.
func (h *Handler) PostRoundPublish(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	rd, err := h.Rounds.Publish(r.Context(), u, r.PathValue("id"))
	if err != nil {
		h.Fail(w, err)
		return
	}
	h.Log.Info("supervision: round published", "id", rd.ID, "version", rd.FrozenVersion, "by", u.ID)
	WriteJSON(w, http.StatusOK, map[string]any{"id": rd.ID, "state": rd.State, "published_at": rd.PublishedAt,
		"notice_ends": voucherwatch.NoticeEnds(rd.PublishedAt, rd.NoticeDays), "public": "/public/rounds/" + rd.ID})
}

// PostRoundFinal answers POST /api/v1/rounds/{id}/finalise: the list becomes final after its
// notice.
func (h *Handler) PostRoundFinal(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	rd, err := h.Rounds.Finalise(r.Context(), u, r.PathValue("id"))
	if err != nil {
		h.Fail(w, err)
		return
	}
	h.Log.Info("supervision: round final", "id", rd.ID, "version", rd.FrozenVersion, "by", u.ID)
	WriteJSON(w, http.StatusOK, map[string]any{"id": rd.ID, "state": rd.State, "finalised_at": rd.FinalisedAt,
		"payment": "/api/v1/rounds/" + rd.ID + "/payment.xlsx"})
}

// roundComment is the body of POST /api/v1/rounds/{id}/comments.
type roundComment struct {
	ClaimID string `json:"claim_id"`
	Text    string `json:"text"`
}

// PostRoundComment answers POST /api/v1/rounds/{id}/comments: a comment on a line of the list.
func (h *Handler) PostRoundComment(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	var q roundComment
	if err := DecodeJSON(w, r, &q); err != nil {
		h.Fail(w, err)
		return
	}
	if err := h.Rounds.Comment(r.Context(), u, r.PathValue("id"), strings.TrimSpace(q.ClaimID), q.Text); err != nil {
		h.Fail(w, err)
		return
	}
	WriteJSON(w, http.StatusCreated, map[string]string{"claim_id": q.ClaimID})
}

// PostRoundObjection answers POST /api/v1/rounds/{id}/objections: an official registers an
// objection to a line.
func (h *Handler) PostRoundObjection(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if !u.Role.MayAct() {
		h.Fail(w, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "role %s may not register objections", u.Role))
		return
	}
	var q workflow.ObjectionInput
	if err := DecodeJSON(w, r, &q); err != nil {
		h.Fail(w, err)
		return
	}
	o, err := h.Rounds.FileObjection(r.Context(), u, r.PathValue("id"), q)
	if err != nil {
		h.Fail(w, err)
		return
	}
	// Never the text or the contact.
	h.Log.Info("supervision: objection registered", "id", o.ID, "round", o.RoundID, "claim", o.ClaimID, "city", o.City, "by", u.ID)
	WriteJSON(w, http.StatusCreated, map[string]string{"id": o.ID})
}

// RoundListXLSX answers the frozen list as XLSX for the party group meeting: the province's and
// auditors'.
func (h *Handler) RoundListXLSX(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	h.roundXLSX(w, r, u, false)
}

// RoundPaymentXLSX answers the final list's allocated lines for payment: the province's and
// auditors', once the round is final.
func (h *Handler) RoundPaymentXLSX(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	h.roundXLSX(w, r, u, true)
}

func (h *Handler) roundXLSX(w http.ResponseWriter, r *http.Request, u voucherwatch.User, payment bool) {
	if !workflow.MayAudit(u.Role) {
		h.Fail(w, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "role %s may not export the round's list", u.Role))
		return
	}
	rd, err := h.Rounds.Store.Round(r.Context(), r.PathValue("id"))
	if err != nil {
		h.Fail(w, err)
		return
	}
	if payment && rd.State != voucherwatch.RoundFinal {
		h.Fail(w, voucherwatch.Errorf(voucherwatch.ECONFLICT, "round %s is %s: the payment list is the final list's", rd.ID, rd.State))
		return
	}
	v, err := h.Rounds.Frozen(r.Context(), rd)
	if err != nil {
		h.Fail(w, err)
		return
	}
	t, name := export.RoundList(rd, v), fmt.Sprintf("round-%s-v%d", rd.ID, v.Version)
	if payment {
		t, name = export.RoundPayment(rd, v), fmt.Sprintf("round-%s-payment", rd.ID)
	}
	if err := export.Write(w, t, name, "xlsx", "round list"); err != nil {
		h.Fail(w, err)
	}
}
