package supervision

import (
	"net/http"

	"github.com/voucherwatch/voucherwatch"
	"github.com/voucherwatch/voucherwatch/supervision/api"
	"github.com/voucherwatch/voucherwatch/supervision/workflow"
)

// operatorOnly refuses the engine's operating figures (ingest, dead letters, detector health)
// to city reviewers: they are province-wide and cannot be cut by city, and a city reviewer
// sees its own city only. It reports whether it answered.
func operatorOnly(w http.ResponseWriter, u voucherwatch.User) bool {
	if workflow.CityScope(u) == "" {
		return false
	}
	api.WriteError(w, voucherwatch.Errorf(voucherwatch.EFORBIDDEN, "province-wide operating figures are not shown to a city reviewer"))
	return true
}

// getStatus answers GET /api/v1/status: {"ingest": {"topics": {...}}}; 403 to city reviewers.
func (s *Server) getStatus(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if operatorOnly(w, u) {
		return
	}
	if s.IngestStatusFn == nil {
		api.WriteError(w, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "ingest is not running on this instance"))
		return
	}
	st, err := s.IngestStatusFn(r.Context())
	if err != nil {
		s.Log.Error("supervision: status", "err", err)
		api.WriteError(w, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"ingest": st})
}

// getDeadLetters answers GET /api/v1/deadletters: each supplier's rejected messages per topic,
// with the last reason, so supervisors can see who sends bad data; 403 to city reviewers.
func (s *Server) getDeadLetters(w http.ResponseWriter, r *http.Request, u voucherwatch.User) {
	if operatorOnly(w, u) {
		return
	}
	if s.DeadLettersFn == nil {
		api.WriteError(w, voucherwatch.Errorf(voucherwatch.ENOTFOUND, "ingest is not running on this instance"))
		return
	}
	v, err := s.DeadLettersFn(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"suppliers": v})
}
