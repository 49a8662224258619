package supervision

import (
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// registerBacktestRoutes adds the backtest routes of the API (docs/api.md).
func (s *Server) registerBacktestRoutes(d BacktestDeps) {
	s.backtests = workflow.NewBacktester(d)
	s.api.Backtests = s.backtests
	s.mux.Handle("POST /api/v1/backtests", s.authed(s.api.PostBacktest))
	s.mux.Handle("GET /api/v1/backtests", s.authed(s.api.ListBacktests))
	s.mux.Handle("GET /api/v1/backtests/{id}", s.authed(s.api.GetBacktest))
}
