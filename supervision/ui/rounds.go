package ui

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/locale"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// The annual round's pages: the list of rounds with the form that opens one, a round's page
// with its forms (scores, weights and the what-if, freeze, publish, finalise; comments for
// city reviewers), and the public notice with its objection form.

// roundPages are the round's templates.
var roundPages = []string{"rounds", "round", "public_round", "round_objection_receipt"}

// roundsPage is the data of GET /rounds.
type roundsPage struct {
	Rounds  []voucherwatch.SubsidyRound
	MayOpen bool
}

func (h *Handler) ShowRounds(w http.ResponseWriter, r *http.Request, q Request) {
	h.renderRounds(w, r, q, http.StatusOK, "")
}

func (h *Handler) renderRounds(w http.ResponseWriter, r *http.Request, q Request, status int, errMsg string) {
	all, err := h.Rounds.Store.Rounds(r.Context())
	if err != nil {
		h.failPage(w, r, q, err)
		return
	}
	d := h.data(r, q, locale.T("rounds.title"), "rounds")
	d.Error = errMsg
	d.Page = roundsPage{Rounds: all, MayOpen: workflow.MayDraw(q.user.Role)}
	h.render(w, status, "rounds", d)
}

// PostRound answers POST /rounds (year, budget, notice_days): the province opens a round.
func (h *Handler) PostRound(w http.ResponseWriter, r *http.Request, q Request) {
	year, _ := strconv.Atoi(strings.TrimSpace(r.PostFormValue("year")))
	req := voucherwatch.RoundRequest{Year: year, Budget: strings.TrimSpace(r.PostFormValue("budget"))}
	if nd := strings.TrimSpace(r.PostFormValue("notice_days")); nd != "" {
		n, err := strconv.Atoi(nd)
		if err != nil {
			n = -1
		}
		req.NoticeDays = &n
	}
	rd, err := h.Rounds.Open(r.Context(), q.user, req)
	if err != nil {
		if code := voucherwatch.ErrorCode(err); code == voucherwatch.EINVALID {
			h.renderRounds(w, r, q, http.StatusBadRequest, uiErrorMessage(err))
			return
		}
		h.failPage(w, r, q, err)
		return
	}
	http.Redirect(w, r, "/rounds/"+url.PathEscape(rd.ID)+"?flash=round_opened", http.StatusSeeOther)
}

// roundPage is the data of GET /rounds/{id}.
type roundPage struct {
	View       workflow.RoundView
	MayManage  bool // the province: scores, weights, freeze, publish, finalise
	MayComment bool
	MayExport  bool
	Weights    string // the weights form, one criterion=weight a line
	WhatIf     *workflow.AllocationResult
}

func (h *Handler) ShowRound(w http.ResponseWriter, r *http.Request, q Request) {
	h.renderRound(w, r, q, http.StatusOK, "", nil)
}

func (h *Handler) renderRound(w http.ResponseWriter, r *http.Request, q Request, status int, errMsg string, whatIf *workflow.AllocationResult) {
	v, err := h.Rounds.View(r.Context(), q.user, r.PathValue("id"))
	if err != nil {
		h.failPage(w, r, q, err)
		return
	}
	d := h.data(r, q, fmt.Sprintf(locale.T("round.title"), v.Year), "rounds")
	d.Error = errMsg
	var weights []string
	for k, wt := range v.Weights {
		weights = append(weights, fmt.Sprintf("%s=%v", k, wt))
	}
	d.Page = roundPage{View: v, MayManage: workflow.MayDraw(q.user.Role), MayComment: q.user.Role.MayAct(), MayExport: workflow.MayAudit(q.user.Role),
		Weights: strings.Join(sortedStrings(weights), "\n"), WhatIf: whatIf}
	h.render(w, status, "round", d)
}

func sortedStrings(v []string) []string {
	for i := 1; i < len(v); i++ {
		for j := i; j > 0 && v[j] < v[j-1]; j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
	return v
}

// parseWeightsForm reads "criterion=weight" lines.
func parseWeightsForm(text string) (map[string]float64, error) {
	out := map[string]float64{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if !ok || err != nil {
			return nil, voucherwatch.FieldErrorf("weights", "want criterion=weight, got %q", line)
		}
		out[strings.TrimSpace(k)] = f
	}
	return out, nil
}

// PostRoundAction answers the round page's forms: scores, allocate (save or what-if), freeze,
// publish, finalise, comments.
func (h *Handler) PostRoundAction(w http.ResponseWriter, r *http.Request, q Request) {
	ctx, d, id := r.Context(), h.Rounds, r.PathValue("id")
	flash := ""
	var err error
	switch r.PathValue("action") {
	case "scores":
		body := strings.TrimSpace(r.PostFormValue("csv"))
		var raw []byte
		if f, _, ferr := r.FormFile("file"); ferr == nil {
			raw, err = io.ReadAll(io.LimitReader(f, workflow.MaxRoundScoreBytes))
			f.Close()
		}
		var scores []voucherwatch.RoundScore
		if err == nil {
			if len(raw) > 0 {
				scores, err = workflow.ParseScoreUpload("", raw)
			} else {
				scores, err = workflow.ParseRoundScores(strings.NewReader(body))
			}
		}
		if err == nil {
			_, err = d.ImportScores(ctx, q.user, id, scores)
		}
		flash = "round_scores"
	case "allocate":
		var weights map[string]float64
		weights, err = parseWeightsForm(r.PostFormValue("weights"))
		if err == nil {
			req := workflow.AllocateRequest{Weights: weights, Mode: r.PostFormValue("mode"), DryRun: r.PostFormValue("dry_run") != ""}
			if req.DryRun {
				req.Budget = strings.TrimSpace(r.PostFormValue("budget"))
			}
			var res workflow.AllocationResult
			res, err = d.Allocate(ctx, q.user, id, req)
			if err == nil && req.DryRun {
				h.renderRound(w, r, q, http.StatusOK, "", &res)
				return
			}
		}
		flash = "round_weights"
	case "freeze":
		_, err = d.Freeze(ctx, q.user, id)
		flash = "round_frozen"
	case "publish":
		_, err = d.Publish(ctx, q.user, id)
		flash = "round_publish"
	case "finalise":
		_, err = d.Finalise(ctx, q.user, id)
		flash = "round_final"
	case "comments":
		err = d.Comment(ctx, q.user, id, strings.TrimSpace(r.PostFormValue("claim_id")), r.PostFormValue("text"))
		flash = "round_comment"
	default:
		h.renderError(w, r, q, http.StatusNotFound, locale.T("error.page.not_found"))
		return
	}
	if err != nil {
		switch voucherwatch.ErrorCode(err) {
		case voucherwatch.EINVALID, voucherwatch.ECONFLICT, voucherwatch.EFORBIDDEN:
			h.renderRound(w, r, q, http.StatusBadRequest, uiErrorMessage(err), nil)
		default:
			h.failPage(w, r, q, err)
		}
		return
	}
	http.Redirect(w, r, "/rounds/"+url.PathEscape(id)+"?flash="+flash, http.StatusSeeOther)
}
