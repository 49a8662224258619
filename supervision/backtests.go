package supervision

import (
	"errors"
	"io"
	"net/http"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/api"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// registerBacktestRoutes adds the backtest routes of the API (docs/api.md).
func (s *Server) registerBacktestRoutes(d BacktestDeps) {
	s.backtests = workflow.NewBacktester(d)
	s.mux.Handle("POST /api/v1/backtests", s.authed(s.postBacktest))
	s.mux.Handle("GET /api/v1/backtests", s.authed(s.listBacktests))
	s.mux.Handle("GET /api/v1/backtests/{id}", s.authed(s.getBacktest))
}

// postBacktest answers POST /api/v1/backtests: the body is a whole policy file
// (rules/policy.json with any number changed); the answer is the log entry and the diff.
func (s *Server) postBacktest(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if !workflow.MayRunBacktest(u) {
		api.WriteError(w, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "only the province may run backtests"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, workflow.MaxPolicyBytes))
	if err != nil {
		api.WriteError(w, voucherwatch.FieldErrorf("policy", "a policy file of at most %d bytes is wanted", workflow.MaxPolicyBytes))
		return
	}
	entry, diff, err := s.backtests.Backtest(r.Context(), u, body)
	if errors.Is(err, workflow.ErrBacktestTimedOut) {
		api.WriteJSON(w, http.StatusServiceUnavailable, map[string]any{"error": map[string]string{"code": "timeout",
			"message": "the backtest ran past its time limit (" + s.backtests.Timeout.String() + ")"}, "backtest": entry})
		return
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"backtest": entry, "diff": diff})
}

// listBacktests answers GET /api/v1/backtests: the log, newest first.
func (s *Server) listBacktests(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	list, err := s.backtests.Log.Backtests(r.Context(), 100)
	if err != nil {
		s.fail(w, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"backtests": list})
}

// getBacktest answers GET /api/v1/backtests/{id}: the entry and its diff (a city reviewer's
// city only, for a city reviewer).
func (s *Server) getBacktest(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	entry, diff, err := s.backtests.For(r.Context(), u, r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"backtest": entry, "diff": diff})
}
