package api

import (
	"errors"
	"io"
	"net/http"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// PostBacktest answers POST /api/v1/backtests: the body is a whole policy file
// (rules/policy.json with any number changed); the answer is the log entry and the diff.
func (h *Handler) PostBacktest(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if !workflow.MayRunBacktest(u) {
		WriteError(w, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "only the province may run backtests"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, workflow.MaxPolicyBytes))
	if err != nil {
		WriteError(w, voucherwatch.FieldErrorf("policy", "a policy file of at most %d bytes is wanted", workflow.MaxPolicyBytes))
		return
	}
	entry, diff, err := h.Backtests.Backtest(r.Context(), u, body)
	if errors.Is(err, workflow.ErrBacktestTimedOut) {
		WriteJSON(w, http.StatusServiceUnavailable, map[string]any{"error": map[string]string{"code": "timeout",
			"message": "the backtest ran past its time limit (" + h.Backtests.Timeout.String() + ")"}, "backtest": entry})
		return
	}
	if err != nil {
		h.Fail(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"backtest": entry, "diff": diff})
}

// ListBacktests answers GET /api/v1/backtests: the log, newest first.
func (h *Handler) ListBacktests(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	list, err := h.Backtests.Log.Backtests(r.Context(), 100)
	if err != nil {
		h.Fail(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"backtests": list})
}

// GetBacktest answers GET /api/v1/backtests/{id}: the entry and its diff (a city reviewer's
// city only, for a city reviewer).
func (h *Handler) GetBacktest(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	entry, diff, err := h.Backtests.For(r.Context(), u, r.PathValue("id"))
	if err != nil {
		h.Fail(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"backtest": entry, "diff": diff})
}
