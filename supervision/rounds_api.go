package supervision

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/api"
	"github.com/voucherwatch/voucherwatch/supervision/export"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// roundState is what RegisterRoundRoutes prepares.
type roundState struct {
	deps RoundDeps
	// objections counts public objections per client address, on this instance.
	objections signInThrottle
}

// MaxObjectionsPerAddress bounds the public objections from one address within
// SignInLockout, per instance, as the complaint form is bounded.
const MaxObjectionsPerAddress = 10

// registerRoundRoutes adds the annual round's API, its public notice (the page when the web UI
// is registered first) and the public objection route. It refuses a configuration without a
// store or the claims' reader, so that it fails at start.
func (s *Server) registerRoundRoutes(d RoundDeps) error {
	if d.Store == nil || d.Claims == nil {
		return errors.New("supervision: rounds: store and claims are required")
	}
	s.rounds = &roundState{deps: d}
	s.rounds.objections.limit = MaxObjectionsPerAddress
	h := roundRoutes{s: s, d: d}
	s.mux.Handle("POST /api/v1/rounds", s.authed(h.open))
	s.mux.Handle("GET /api/v1/rounds", s.authed(h.list))
	s.mux.Handle("GET /api/v1/rounds/{id}", s.authed(h.show))
	s.mux.Handle("POST /api/v1/rounds/{id}/scores", s.authed(h.scores))
	s.mux.Handle("POST /api/v1/rounds/{id}/allocate", s.authed(h.allocate))
	s.mux.Handle("POST /api/v1/rounds/{id}/freeze", s.authed(h.freeze))
	s.mux.Handle("POST /api/v1/rounds/{id}/publish", s.authed(h.publish))
	s.mux.Handle("POST /api/v1/rounds/{id}/finalise", s.authed(h.finalise))
	s.mux.Handle("POST /api/v1/rounds/{id}/comments", s.authed(h.comment))
	s.mux.Handle("POST /api/v1/rounds/{id}/objections", s.authed(h.objection))
	s.mux.Handle("GET /api/v1/rounds/{id}/list.xlsx", s.authed(h.listXLSX))
	s.mux.Handle("GET /api/v1/rounds/{id}/payment.xlsx", s.authed(h.paymentXLSX))
	s.mux.HandleFunc("GET /public/rounds/{file}", s.showPublicRound)
	s.mux.HandleFunc("POST /public/rounds/{id}/objections", s.postPublicObjection)
	if s.ui != nil {
		s.registerRoundPages()
	}
	return nil
}

type roundRoutes struct {
	s *Server
	d RoundDeps
}

func (h roundRoutes) open(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if err := workflow.ProvinceOnly(u, "opens rounds"); err != nil {
		h.s.fail(w, err)
		return
	}
	var q voucherwatch.RoundRequest
	if err := decodeJSON(w, r, &q); err != nil {
		h.s.fail(w, err)
		return
	}
	rd, err := h.d.Open(r.Context(), u, q)
	if err != nil {
		h.s.fail(w, err)
		return
	}
	h.s.Log.Info("supervision: round opened", "id", rd.ID, "year", rd.Year, "by", u.ID)
	api.WriteJSON(w, http.StatusCreated, map[string]string{"id": rd.ID})
}

func (h roundRoutes) list(w http.ResponseWriter, r *http.Request, _ voucherwatch.User) {
	all, err := h.d.Store.Rounds(r.Context())
	if err != nil {
		h.s.fail(w, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"rounds": all})
}

func (h roundRoutes) show(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	v, err := h.d.View(r.Context(), u, r.PathValue("id"))
	if err != nil {
		h.s.fail(w, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, v)
}

// scores answers POST /api/v1/rounds/{id}/scores: a CSV body (claim_id,criterion,score,comment)
// or an XLSX workbook whose first sheet has those columns.
func (h roundRoutes) scores(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if err := workflow.ProvinceOnly(u, "imports expert scores"); err != nil {
		h.s.fail(w, err)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, workflow.MaxRoundScoreBytes))
	if err != nil {
		h.s.fail(w, voucherwatch.FieldErrorf("scores", "want at most %d bytes", workflow.MaxRoundScoreBytes))
		return
	}
	scores, err := workflow.ParseScoreUpload(r.Header.Get("Content-Type"), body)
	if err != nil {
		h.s.fail(w, err)
		return
	}
	n, err := h.d.ImportScores(r.Context(), u, r.PathValue("id"), scores)
	if err != nil {
		h.s.fail(w, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]int{"imported": n})
}

func (h roundRoutes) allocate(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if err := workflow.ProvinceOnly(u, "sets weights and allocates"); err != nil {
		h.s.fail(w, err)
		return
	}
	var q workflow.AllocateRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &q); err != nil {
			h.s.fail(w, err)
			return
		}
	}
	res, err := h.d.Allocate(r.Context(), u, r.PathValue("id"), q)
	if err != nil {
		h.s.fail(w, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, res)
}

func (h roundRoutes) freeze(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	v, err := h.d.Freeze(r.Context(), u, r.PathValue("id"))
	if err != nil {
		h.s.fail(w, err)
		return
	}
	h.s.Log.Info("supervision: round frozen", "id", v.RoundID, "version", v.Version, "digest", v.InputsDigest, "by", u.ID)
	lines := make([]voucherwatch.LineJSON, len(v.Lines))
	for i, l := range v.Lines {
		lines[i] = l.JSON()
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"round_id": v.RoundID, "version": v.Version, "method": v.Method,
		"inputs_digest": v.InputsDigest, "total": v.Total.String(), "lines": lines})
}

func (h roundRoutes) publish(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	rd, err := h.d.Publish(r.Context(), u, r.PathValue("id"))
	if err != nil {
		h.s.fail(w, err)
		return
	}
	h.s.Log.Info("supervision: round published", "id", rd.ID, "version", rd.FrozenVersion, "by", u.ID)
	api.WriteJSON(w, http.StatusOK, map[string]any{"id": rd.ID, "state": rd.State, "published_at": rd.PublishedAt,
		"notice_ends": voucherwatch.NoticeEnds(rd.PublishedAt, rd.NoticeDays), "public": "/public/rounds/" + rd.ID})
}

func (h roundRoutes) finalise(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	rd, err := h.d.Finalise(r.Context(), u, r.PathValue("id"))
	if err != nil {
		h.s.fail(w, err)
		return
	}
	h.s.Log.Info("supervision: round final", "id", rd.ID, "version", rd.FrozenVersion, "by", u.ID)
	api.WriteJSON(w, http.StatusOK, map[string]any{"id": rd.ID, "state": rd.State, "finalised_at": rd.FinalisedAt,
		"payment": "/api/v1/rounds/" + rd.ID + "/payment.xlsx"})
}

// roundComment is the body of POST /api/v1/rounds/{id}/comments.
type roundComment struct {
	ClaimID string `json:"claim_id"`
	Text    string `json:"text"`
}

func (h roundRoutes) comment(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	var q roundComment
	if err := decodeJSON(w, r, &q); err != nil {
		h.s.fail(w, err)
		return
	}
	if err := h.d.Comment(r.Context(), u, r.PathValue("id"), strings.TrimSpace(q.ClaimID), q.Text); err != nil {
		h.s.fail(w, err)
		return
	}
	api.WriteJSON(w, http.StatusCreated, map[string]string{"claim_id": q.ClaimID})
}

func (h roundRoutes) objection(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if !u.Role.MayAct() {
		h.s.fail(w, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "role %s may not register objections", u.Role))
		return
	}
	var q workflow.ObjectionInput
	if err := decodeJSON(w, r, &q); err != nil {
		h.s.fail(w, err)
		return
	}
	o, err := h.d.FileObjection(r.Context(), u, r.PathValue("id"), q)
	if err != nil {
		h.s.fail(w, err)
		return
	}
	// Never the text or the contact.
	h.s.Log.Info("supervision: objection registered", "id", o.ID, "round", o.RoundID, "claim", o.ClaimID, "city", o.City, "by", u.ID)
	api.WriteJSON(w, http.StatusCreated, map[string]string{"id": o.ID})
}

// listXLSX answers the frozen list as XLSX for the party group meeting: the province's and
// auditors'.
func (h roundRoutes) listXLSX(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	h.exportXLSX(w, r, u, false)
}

// paymentXLSX answers the final list's allocated lines for payment: the province's and
// auditors', once the round is final.
func (h roundRoutes) paymentXLSX(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	h.exportXLSX(w, r, u, true)
}

func (h roundRoutes) exportXLSX(w http.ResponseWriter, r *http.Request, u voucherwatch.User, payment bool) {
	if !workflow.MayAudit(u.Role) {
		h.s.fail(w, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "role %s may not export the round's list", u.Role))
		return
	}
	rd, err := h.d.Store.Round(r.Context(), r.PathValue("id"))
	if err != nil {
		h.s.fail(w, err)
		return
	}
	if payment && rd.State != voucherwatch.RoundFinal {
		h.s.fail(w, voucherwatch.Errorf(voucherwatch.ECONFLICT, "round %s is %s: the payment list is the final list's", rd.ID, rd.State))
		return
	}
	v, err := h.d.Frozen(r.Context(), rd)
	if err != nil {
		h.s.fail(w, err)
		return
	}
	t, name := export.RoundList(rd, v), fmt.Sprintf("round-%s-v%d", rd.ID, v.Version)
	if payment {
		t, name = export.RoundPayment(rd, v), fmt.Sprintf("round-%s-payment", rd.ID)
	}
	if err := export.Write(w, t, name, "xlsx", "round list"); err != nil {
		h.s.fail(w, err)
	}
}
